// Print delegate badges: start a job, follow its progress, download the PDF.
//
// Progress arrives as document/updated events on the live stream (staff receive them);
// a job that has had no event for a while is asked for its status instead (a site
// operator is not sent these events, and a dropped connection loses none of them).

import { followPage } from "./live.js";
import { eventSet, eventsOf } from "./lib/events.js";
import { SETUP } from "./lib/event-groups.js";
import { announce, api, conferenceApi, page, t } from "./page.js";
import { clearErrors, showErrors } from "./forms.js";
import { jobCard, jobPart, jobPoller, showJobs, unfinished } from "./lib/jobs.js";


const base = conferenceApi;
const form = document.getElementById("badge-form");
const list = document.getElementById("jobs");
const empty = document.getElementById("jobs-empty");
const template = document.getElementById("job-template");
const sites = new Map(page.sites.map((site) => [site.code, site]));
// id -> {job, heard (ms of the last news), element}
const jobs = new Map();
// Asks for the jobs the stream is quiet about (refresh is below).
const watch = jobPoller(jobs, refresh);

function what(job) {
  const site = job.site ? sites.get(job.site) : null;
  if (!job.site) return t("js.badges.job.all");
  return t("js.badges.job.site", { name: site ? site.name : job.site, code: job.site });
}

function statusText(job) {
  const values = { done: job.done, total: job.total, error: job.error || "" };
  return t(`js.badges.status.${job.status}`, values);
}

function render(entry) {
  const element = jobCard(entry, template, {
    what: what(entry.job),
    status: statusText(entry.job),
    progress: "js.badges.progress",
    download: "js.badges.download",
  });
  jobPart(element, "layout").textContent = t(`js.badges.layout.${entry.job.layout ?? "sheet"}`);
  return element;
}

function renderList() {
  showJobs(list, empty, jobs, render);
}

/** Take news of a job (from an event, a poll or the order); announce when it ends. */
function update(job, { fresh = false } = {}) {
  if (job.kind && job.kind !== "badges") return;
  let entry = jobs.get(job.id);
  if (!entry) {
    // Its first news may be an event that overtook the order's answer, or another tab's job.
    entry = { job: { ...job }, heard: Date.now(), element: null };
    jobs.set(job.id, entry);
    if (fresh) announce(t("js.badges.started", { what: what(job), total: job.total }));
  } else {
    const before = entry.job;
    // A finished job never changes again: late answers to older polls are dropped.
    if (!unfinished(before) && unfinished(job)) return;
    entry.job = { ...before, ...job };
    entry.heard = Date.now();
    if (fresh) announce(t("js.badges.started", { what: what(entry.job), total: entry.job.total }));
    if (unfinished(before) && !unfinished(entry.job)) {
      if (entry.job.status === "done") {
        // Events do not carry the download link: fetch the whole job once.
        if (!entry.job.download) refresh(entry);
        announce(t("js.badges.finished", { what: what(entry.job), total: entry.job.total }));
      } else {
        announce(t("js.badges.failed", { what: what(entry.job), error: entry.job.error || "" }));
      }
    }
  }
  renderList();
  watch();
}

async function refresh(entry) {
  const { ok, data } = await api("GET", `${base}/documents/${encodeURIComponent(entry.job.id)}`);
  if (ok && data) update(data);
}

// --- ordering --------------------------------------------------------------------------------

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(form);
  const button = form.querySelector('button[type="submit"]');
  const data = new FormData(form);
  const body = { site: data.get("site") || null, layout: data.get("layout") || "sheet" };
  button.disabled = true;
  try {
    const { ok, status, data: job, error } = await api("POST", `${base}/badges`, body);
    if (ok) {
      // The answer may come after the job's first events: those are newer.
      const known = jobs.get(job.id);
      update(known ? { id: job.id, download: known.job.download } : job, { fresh: true });
      jobPart(jobs.get(job.id).element, "what").scrollIntoView({ block: "nearest" });
    } else {
      showErrors(form, error, status);
      // The API's own words for these are English: say them in the page's language.
      const siteError = document.getElementById("badge-form-site-error");
      if (error.field === "site" && status === 422 && !error.details) {
        siteError.textContent = t("js.badges.nobody");
      } else if (error.field === "site" && status === 404) {
        siteError.textContent = t("js.badges.no_site");
      }
    }
  } finally {
    button.disabled = false;
  }
});

// --- start ----------------------------------------------------------------------------------

for (const job of page.jobs) jobs.set(job.id, { job, heard: Date.now(), element: null });
renderList();
watch();

// The events of the catalogue this page does nothing with (the rest it handles).
const IGNORED = eventSet(...eventsOf("agenda", "awards", "attendance", "minutes"), ...SETUP);
followPage(page.conference.id, {
  ignored: IGNORED,
  onSnapshot() {
    // Whatever changed while disconnected: ask for the jobs still under way.
    for (const entry of jobs.values()) if (unfinished(entry.job)) refresh(entry);
  },
  onEvent(event) {
    if (event.type === "document/updated" && event.data?.kind === "badges") update(event.data);
  },
});
