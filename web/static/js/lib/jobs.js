// Document jobs (badges, award documents) followed live: their document/updated events
// bring the news, and a job the stream has been quiet about is asked for, so that a page
// whose socket dropped still sees its jobs finish. The badges page and the awards page
// share it.
//
//   const watch = jobPoller(jobs, refresh);  // jobs: id -> {job, heard, asking}
//   watch();                                 // after every change to jobs

const POLL_MS = 1000;
// A job with no news for this long is asked for.
const QUIET_MS = 1500;

export function unfinished(job) {
  return job.status === "queued" || job.status === "running";
}

/** A watch() that polls, while any job is unfinished, those quiet for QUIET_MS. */
export function jobPoller(jobs, refresh) {
  let timer = null;
  const poll = () => {
    const now = Date.now();
    for (const entry of jobs.values()) {
      if (unfinished(entry.job) && now - entry.heard >= QUIET_MS && !entry.asking) {
        entry.asking = true;
        refresh(entry).finally(() => {
          entry.asking = false;
        });
      }
    }
  };
  return function watch() {
    const busy = [...jobs.values()].some((entry) => unfinished(entry.job));
    if (busy && timer === null) {
      timer = window.setInterval(poll, POLL_MS);
    } else if (!busy && timer !== null) {
      window.clearInterval(timer);
      timer = null;
    }
  };
}
