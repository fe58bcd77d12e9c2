// The award documents rendered in bulk: order a decision's (or all), follow each job's
// progress bar, offer the ZIP when it is done (as the badges page does).
//
// Progress comes as document/updated events on the live stream; a job with no news for a
// while is asked for its status, so a dropped connection loses nothing.

import { announce, api, page, t } from "./page.js";
import { base, cid, documentsBase, reason } from "./awards-common.js";
import { jobCard, jobPart, jobPoller, showJobs, unfinished } from "./lib/jobs.js";

const KIND = "awards";

const list = document.getElementById("jobs");
const empty = document.getElementById("jobs-empty");
const template = document.getElementById("job-template");
const renderError = document.getElementById("render-error");
// id -> {job, heard (ms of the last news), element, asking}
const jobs = new Map();
// Asks for the jobs the stream is quiet about (refresh is below).
const watch = jobPoller(jobs, refresh);
const options = { decisionLabel: () => "", onDone: () => {} };

// The job's file is named after the decision rendered (awards-<decision>.zip), or after
// the conference when it holds them all.
function decisionOf(job) {
  const found = /^awards-(.+)\.zip$/.exec(job.filename ?? "");
  return found && found[1] !== cid ? found[1] : null;
}

function what(job) {
  const decision = decisionOf(job);
  if (!decision && job.filename) return t("js.awards.job.all");
  return options.decisionLabel(decision) || t("js.awards.job.decision");
}

function draw(entry) {
  const { job } = entry;
  return jobCard(entry, template, {
    what: what(job),
    status: t(`js.awards.job.${job.status}`, {
      done: job.done,
      total: job.total,
      error: job.error || "",
    }),
    progress: "js.awards.job.progress",
    download: "js.awards.job.download",
  });
}

function drawAll() {
  showJobs(list, empty, jobs, draw);
}

/** News of a job (an event, a poll, the order's answer); announced when it ends. */
export function jobNews(job) {
  if (job.kind && job.kind !== KIND) return;
  let entry = jobs.get(job.id);
  if (!entry) {
    // Another tab's job, or an event that overtook the order's answer.
    entry = { job: { ...job }, heard: Date.now(), element: null };
    jobs.set(job.id, entry);
    if (!job.filename) refresh(entry);
  } else {
    const before = entry.job;
    // A finished job never changes again: late answers to older polls are dropped.
    if (!unfinished(before) && unfinished(job)) return;
    entry.job = { ...before, ...job };
    entry.heard = Date.now();
    if (unfinished(before) && !unfinished(entry.job)) {
      if (entry.job.status === "done") {
        // Events do not carry the download link: fetch the whole job once.
        if (!entry.job.download) refresh(entry);
        announce(t("js.awards.job.finished", { what: what(entry.job), total: entry.job.total }));
        options.onDone(entry.job);
      } else {
        const values = { what: what(entry.job), error: entry.job.error || "" };
        announce(t("js.awards.job.failed_announce", values));
      }
    }
  }
  drawAll();
  watch();
}

async function refresh(entry) {
  const { ok, data } = await api("GET", `${documentsBase}/${encodeURIComponent(entry.job.id)}`);
  if (ok && data) jobNews(data);
}


/** After a reconnection: ask for every job still under way. */
export function resyncJobs() {
  for (const entry of jobs.values()) if (unfinished(entry.job)) refresh(entry);
}

/** Redraw the jobs' titles (a decision's number became known). */
export function redrawJobs() {
  drawAll();
}

/** Order the documents of one decision (or, with null, of all); focus goes to the job. */
export async function startRender(decision, button) {
  renderError.hidden = true;
  if (button) button.disabled = true;
  try {
    const body = decision ? { decision } : {};
    const { ok, status, data: job, error } = await api("POST", `${base}/render`, body);
    if (!ok) {
      const message =
        status === 422 && error.field === "decision"
          ? t("js.awards.render.nothing")
          : t("js.awards.render.refused", { message: reason(error, status) });
      renderError.textContent = message;
      renderError.hidden = false;
      announce(message);
      return;
    }
    const known = jobs.get(job.id);
    jobNews(known ? { ...job, ...known.job, download: known.job.download } : job);
    announce(t("js.awards.job.started", { what: what(job), total: job.total }));
    const title = jobPart(jobs.get(job.id).element, "what");
    title.scrollIntoView({ block: "center" });
    title.focus({ preventScroll: true });
  } finally {
    if (button) button.disabled = false;
  }
}

/** Start: the page's recent jobs; decisionLabel(id) names a decision, onDone(job) follows. */
export function setupJobs({ decisionLabel, onDone }) {
  options.decisionLabel = decisionLabel;
  options.onDone = onDone;
  for (const job of page.jobs ?? []) jobs.set(job.id, { job, heard: Date.now(), element: null });
  drawAll();
  watch();
  document.getElementById("render-all").addEventListener("click", (event) => {
    startRender(null, event.currentTarget);
  });
}
