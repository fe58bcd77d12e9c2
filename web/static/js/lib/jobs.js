// Document jobs (badges, award documents) followed live: their document/updated events
// bring the news, and a job the stream has been quiet about is asked for, so that a page
// whose socket dropped still sees its jobs finish. The badges page and the awards page
// share it, and the jobs' list drawn from the page's <template id="job-template">.
//
//   const watch = jobPoller(jobs, refresh);  // jobs: id -> {job, heard, asking, element}
//   watch();                                 // after every change to jobs

import { t } from "../page.js";

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

function percent(job) {
  if (job.status === "done") return 100;
  if (!job.total) return 0;
  return Math.min(100, Math.floor((job.done / job.total) * 100));
}

/** The element of a job's card marked data-job=name. */
export function jobPart(element, name) {
  return element.querySelector(`[data-job="${name}"]`);
}

/**
 * A job's card, made from template once and then brought up to date: what (its title),
 * status (its line), and the page's keys for the progress bar's text and the download.
 */
export function jobCard(entry, template, { what, status, progress, download }) {
  const { job } = entry;
  let element = entry.element;
  if (!element) {
    element = template.content.firstElementChild.cloneNode(true);
    element.dataset.jobId = job.id;
    const title = jobPart(element, "what");
    title.id = `job-${job.id}-what`;
    const line = jobPart(element, "status");
    line.id = `job-${job.id}-status`;
    const bar = jobPart(element, "bar");
    bar.setAttribute("aria-labelledby", title.id);
    bar.setAttribute("aria-describedby", line.id);
    entry.element = element;
  }
  element.dataset.status = job.status;
  jobPart(element, "what").textContent = what;
  const value = percent(job);
  const bar = jobPart(element, "bar");
  bar.setAttribute("aria-valuenow", String(value));
  bar.setAttribute("aria-valuetext", t(progress, { done: job.done, total: job.total, percent: value }));
  jobPart(element, "fill").style.width = `${value}%`;
  jobPart(element, "status").textContent = status;
  const link = jobPart(element, "download");
  if (job.status === "done" && job.download) {
    link.href = job.download;
    link.textContent = t(download, { filename: job.filename });
    link.hidden = false;
  } else {
    link.hidden = true;
    link.removeAttribute("href");
  }
  return element;
}

/** The jobs' cards in list, newest first (card(entry) makes or updates one). */
export function showJobs(list, empty, jobs, card) {
  const ordered = [...jobs.values()].sort((a, b) =>
    (b.job.created_at ?? "").localeCompare(a.job.created_at ?? ""),
  );
  ordered.forEach((entry, index) => {
    const element = card(entry);
    if (list.children[index] !== element) list.insertBefore(element, list.children[index] ?? null);
  });
  empty.hidden = jobs.size > 0;
}
