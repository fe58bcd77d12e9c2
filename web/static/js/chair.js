// The chair's control room: the agenda (start, end, skip, go back; planned against actual
// times and the overrun), the speaker list of the item (chair-speakers.js), speaking
// statistics, and every site at a glance with the roll call (chair-sites.js).
// The state is the shared live agenda (live-agenda.js) fed by the live stream; nothing
// polls. Changes go to the JSON API with the session's CSRF token; their events redraw.

import { followPage } from "./live.js";
import { eventSet, eventsOf } from "./lib/events.js";
import { OFF_THE_FLOOR } from "./lib/event-groups.js";
import {
  ITEM_EVENTS,
  applyEvent,
  clock,
  currentItem,
  fromSnapshot,
  nextItem,
  presenting,
  steps,
} from "./live-agenda.js";
import { announce, conferenceApi, element, page, t } from "./page.js";
import { SitesPanel } from "./chair-sites.js";
import { SpeakersPanel } from "./chair-speakers.js";
import { formatNumber, formatTime } from "./lib/format.js";
import { request } from "./lib/http.js";

const TICK_MS = 250;
const STATS_EVERY_MS = 5000;
const conferenceId = page.conference.id;
const base = conferenceApi;

let state = null;
let feed = null;

/** The API under this conference: {ok, status, data, error}. */
function call(method, path, body, timeoutMs = 10000) {
  return request(method, `${base}${path}`, body, timeoutMs);
}

const now = () => (feed ? feed.serverNow() : Date.now());
const siteName = (code) => state?.sites.get(code)?.name ?? code;
const secondsBetween = (from, to) => (Date.parse(to) - Date.parse(from)) / 1000;

/** "4:05", or "1:02:05" from an hour on. */
function duration(seconds) {
  const whole = Math.floor(Math.max(0, seconds));
  if (whole < 3600) return clock(whole);
  const minutes = Math.floor((whole % 3600) / 60);
  return `${Math.floor(whole / 3600)}:${String(minutes).padStart(2, "0")}:${String(whole % 60).padStart(2, "0")}`;
}

function plannedEnd(item) {
  if (!item.planned_start || !item.duration_minutes) return null;
  return new Date(Date.parse(item.planned_start) + item.duration_minutes * 60000).toISOString();
}

function span(from, to) {
  if (!from) return "";
  return to ? `${formatTime(from)}–${formatTime(to)}` : `${formatTime(from)}–`;
}

/** Seconds an item ran (so far, while it runs). */
function ranSeconds(item, at) {
  if (!item.started_at) return 0;
  const end = item.ended_at ? Date.parse(item.ended_at) : at;
  return Math.max(0, (end - Date.parse(item.started_at)) / 1000);
}

/** Seconds past the planned duration (0 when within it or none is planned). */
function overrunOf(item, at) {
  if (!item.duration_minutes || !item.started_at) return 0;
  return Math.max(0, ranSeconds(item, at) - item.duration_minutes * 60);
}

// --- the agenda ---------------------------------------------------------------------------

const stepsList = element("steps");
const stepTemplate = element("step-row");
const stepRows = new Map(); // item id -> {row, cells, buttons}

function stepRow(id) {
  let entry = stepRows.get(id);
  if (entry) return entry;
  const row = stepTemplate.content.firstElementChild.cloneNode(true);
  row.dataset.id = id;
  const cells = {};
  for (const cell of row.querySelectorAll("[data-cell]")) cells[cell.dataset.cell] = cell;
  const buttons = {};
  for (const node of row.querySelectorAll("button[data-act]")) {
    node.dataset.id = id;
    buttons[node.dataset.act] = node;
  }
  entry = { row, cells, buttons };
  stepRows.set(id, entry);
  return entry;
}

function labelButton(node, label, title) {
  node.replaceChildren(label, Object.assign(document.createElement("span"), {
    className: "visually-hidden",
    textContent: `: ${title}`,
  }));
}

function stepTimes(item, at) {
  const parts = [];
  const planned = span(item.planned_start, plannedEnd(item));
  if (planned) parts.push(t("js.chair.times.planned", { span: planned }));
  if (item.started_at) parts.push(t("js.chair.times.actual", { span: span(item.started_at, item.ended_at) }));
  if (item.planned_start && item.started_at) {
    const late = secondsBetween(item.planned_start, item.started_at);
    if (late >= 60) parts.push(t("js.chair.times.late", { delay: duration(late) }));
  }
  const over = overrunOf(item, at);
  if (over >= 1) parts.push(t("js.chair.times.over", { over: duration(over) }));
  return parts.join(" · ");
}

function renderAgenda() {
  const list = steps(state);
  const at = now();
  const parents = new Map();
  for (const item of state.items.values()) parents.set(item.id, item);
  const ids = list.map((item) => item.id);
  for (const item of list) {
    const { row, cells, buttons } = stepRow(item.id);
    const parent = item.parent ? parents.get(item.parent) : null;
    cells.title.textContent = parent ? `${parent.title} › ${item.title}` : item.title;
    cells.status.textContent = t(`js.chair.status.${item.status}`);
    cells.status.dataset.status = item.status;
    cells.times.textContent = stepTimes(item, at);
    row.dataset.status = item.status;
    if (item.status === "running") row.setAttribute("aria-current", "step");
    else row.removeAttribute("aria-current");
    labelButton(buttons.start, t(item.status === "planned" ? "js.chair.step.start" : "js.chair.step.again"), item.title);
    buttons.start.hidden = item.status === "running";
    labelButton(buttons.skip, t("js.chair.step.skip"), item.title);
    buttons.skip.hidden = item.status !== "planned";
    labelButton(buttons.list, t("js.chair.step.list"), item.title);
  }
  for (const [id, entry] of stepRows) {
    if (!ids.includes(id)) {
      entry.row.remove();
      stepRows.delete(id);
    }
  }
  const shown = [...stepsList.children].map((row) => row.dataset.id);
  if (shown.join() !== ids.join()) {
    stepsList.append(...ids.map((id) => stepRows.get(id).row));
  }
  element("agenda-empty").hidden = list.length > 0;

  const current = currentItem(state);
  const next = nextItem(state);
  const box = element("now-item");
  box.dataset.status = current ? current.status : "none";
  element("now-title").textContent = current ? current.title : t("js.chair.nothing_running");
  element("now-planned").textContent = current
    ? span(current.planned_start, plannedEnd(current)) || "–"
    : "–";
  element("now-actual").textContent = current ? span(current.started_at, current.ended_at) : "–";
  element("next-title").textContent = next ? next.title : "–";
  element("move-start").disabled = !next;
  element("move-skip").disabled = !next;
  element("move-end").disabled = !current;
  tickAgenda(at);
}

function tickAgenda(at) {
  const current = currentItem(state);
  const elapsed = current ? duration(ranSeconds(current, at)) : "–";
  const over = current ? overrunOf(current, at) : 0;
  const overText = over >= 1 ? t("js.chair.overrun", { over: duration(over) }) : "";
  if (element("now-elapsed").textContent !== elapsed) element("now-elapsed").textContent = elapsed;
  const overNode = element("now-overrun");
  if (overNode.textContent !== overText) overNode.textContent = overText;
  element("now-item").classList.toggle("over", over >= 1);
  const row = current && stepRows.get(current.id);
  if (row) {
    const times = stepTimes(current, at);
    if (row.cells.times.textContent !== times) row.cells.times.textContent = times;
  }
}

async function move(action, item) {
  const error = element("agenda-error");
  error.hidden = true;
  const body = item ? { action, item } : { action };
  const answer = await call("POST", "/agenda/live", body);
  if (!answer.ok) {
    error.textContent = t("js.chair.failed", {
      message: answer.error?.message || answer.error?.code || "",
    });
    error.hidden = false;
    return;
  }
  const running = answer.data.current ? state.items.get(answer.data.current) : null;
  announce(
    running
      ? t("js.chair.running", { title: running.title })
      : t("js.chair.nothing_running"),
  );
}

document.querySelector(".chair-moves").addEventListener("click", (e) => {
  const target = e.target.closest("button[data-move]");
  if (target) move(target.dataset.move);
});

stepsList.addEventListener("click", (e) => {
  const target = e.target.closest("button[data-act]");
  if (!target) return;
  if (target.dataset.act === "list") {
    speakers.show(target.dataset.id);
    element("speakers-heading").scrollIntoView({ block: "start" });
    return;
  }
  move(target.dataset.act, target.dataset.id);
});

// --- speaking statistics (from every list the state holds) ------------------------------

function renderStats() {
  const at = now();
  const sites = new Map();
  const people = new Map();
  for (const list of state.lists.values()) {
    for (const s of list.speakers.values()) {
      if (s.status !== "speaking" && s.status !== "done") continue;
      let seconds = s.spoken_seconds ?? 0;
      if (s.timer_started_at) seconds += Math.max(0, (at - Date.parse(s.timer_started_at)) / 1000);
      const site = sites.get(s.site ?? "") ?? { site: s.site, count: 0, seconds: 0 };
      site.count += 1;
      site.seconds += seconds;
      sites.set(s.site ?? "", site);
      const key = s.delegate ?? `name:${s.name}`;
      const person = people.get(key) ?? { name: s.name, site: s.site, count: 0, seconds: 0 };
      person.count += 1;
      person.seconds += seconds;
      people.set(key, person);
    }
  }
  const rows = (entries, label) =>
    [...entries.values()]
      .sort((a, b) => b.seconds - a.seconds || b.count - a.count)
      .map((entry) => {
        const tr = document.createElement("tr");
        const th = document.createElement("th");
        th.scope = "row";
        th.textContent = label(entry);
        const count = document.createElement("td");
        count.className = "num";
        count.textContent = formatNumber(entry.count);
        const time = document.createElement("td");
        time.className = "num";
        time.textContent = duration(entry.seconds);
        tr.append(th, count, time);
        return tr;
      });
  element("stats-sites").replaceChildren(
    ...rows(sites, (e) => (e.site ? siteName(e.site) : t("js.chair.no_site"))),
  );
  element("stats-people").replaceChildren(
    ...rows(people, (e) => (e.site ? `${e.name} (${siteName(e.site)})` : e.name)),
  );
  element("stats-empty").hidden = people.size > 0;
  element("stats-tables").hidden = people.size === 0;
}

// --- settings -------------------------------------------------------------------------------

const settingsForm = element("settings");

function showSettings() {
  if (settingsForm.contains(document.activeElement)) return;
  const settings = state.settings ?? {};
  settingsForm.elements.default_speaking_seconds.value = settings.default_speaking_seconds ?? "";
  settingsForm.elements.fair_order.checked = Boolean(settings.fair_order);
}

settingsForm.addEventListener("submit", async (e) => {
  e.preventDefault();
  const error = element("settings-error");
  error.hidden = true;
  const seconds = Number(settingsForm.elements.default_speaking_seconds.value);
  const body = { fair_order: settingsForm.elements.fair_order.checked };
  if (Number.isInteger(seconds) && seconds > 0) body.default_speaking_seconds = seconds;
  const answer = await call("PATCH", "/agenda/settings", body);
  if (!answer.ok) {
    error.textContent = t("js.chair.failed", {
      message: answer.error?.message || answer.error?.code || "",
    });
    error.hidden = false;
    return;
  }
  announce(t("js.chair.settings.saved"));
});

// --- keyboard shortcuts ----------------------------------------------------------------

document.addEventListener("keydown", (e) => {
  if (e.altKey || e.ctrlKey || e.metaKey || e.defaultPrevented || !state) return;
  const target = e.target;
  if (target.closest?.("input, select, textarea, [contenteditable], dialog")) return;
  const key = e.key.toLowerCase();
  if (key === "n") speakers.callNext();
  else if (key === "t") speakers.toggleTimer();
  else if (key === "f") speakers.finish();
  else return;
  e.preventDefault();
});

// --- the live stream ------------------------------------------------------------------

const speakers = new SpeakersPanel({ call, siteName, now });
speakers.fallback = (s) => nextItem(s);
const sites = new SitesPanel({ call, base });

// --- the awards ceremony: call each recipient while the awards item runs ------------------

function renderCeremony() {
  const item = currentItem(state);
  const on = Boolean(item && item.status === "running" && item.kind === "awards");
  element("ceremony").hidden = !on;
  if (!on) return;
  const award = presenting(state);
  element("ceremony-award").textContent = award
    ? `${award.kind_label}: ${award.name} (${award.decision})`
    : t("js.chair.ceremony.none");
  const left = state.ceremony?.remaining ?? 0;
  element("ceremony-remaining").textContent = t("js.chair.ceremony.remaining", { count: left });
  element("ceremony-next").disabled = left === 0;
}

element("ceremony-next").addEventListener("click", async () => {
  const error = element("ceremony-error");
  error.hidden = true;
  const answer = await call("POST", "/awards/announce", {});
  if (!answer.ok) {
    error.textContent = answer.error?.message || t("js.error.network");
    error.hidden = false;
  } else announce(t("js.chair.ceremony.called", { name: answer.data.name }));
});

function renderAll() {
  renderAgenda();
  speakers.render(state);
  renderStats();
  showSettings();
  renderCeremony();
}

let snapshots = 0;
function onSnapshot(snapshot) {
  snapshots += 1;
  state = fromSnapshot(snapshot);
  element("chair-loading").hidden = true;
  element("chair").hidden = false;
  renderAll();
  sites.load(state);
  // The first reading of the figures, and again after a gap the stream could not replay.
  sites.refreshAttendance();
  if (snapshots === 1) tick();
}

function onEvent(event, message) {
  if (!state) return;
  applyEvent(state, event);
  if (ITEM_EVENTS.has(event.type)) {
    renderAgenda();
    speakers.render(state);
    renderCeremony();
    return;
  }
  switch (event.type) {
    case "awards/announced":
      renderCeremony();
      break;
    case "agenda/settings":
      showSettings();
      speakers.render(state);
      break;
    case "speakers/updated":
      if (event.data.item === speakers.itemId) speakers.render(state);
      else if (!speakers.itemId) speakers.render(state);
      renderStats();
      break;
    default:
      sites.event(event, message, state);
  }
}

let lastStats = 0;
const clockNode = element("server-clock");
const clockFormat = (() => {
  try {
    return new Intl.DateTimeFormat(page.lang === "vi" ? "vi-VN" : "en-GB", {
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
      timeZone: page.timezone || undefined,
    });
  } catch {
    return new Intl.DateTimeFormat(undefined, { timeStyle: "medium" });
  }
})();

function tick() {
  const at = now();
  const text = clockFormat.format(new Date(at));
  if (clockNode.textContent !== text) {
    clockNode.textContent = text;
    clockNode.dateTime = new Date(at).toISOString();
  }
  if (state) {
    tickAgenda(at);
    speakers.tick();
    if (speakers.speaker?.timer_started_at && at - lastStats > STATS_EVERY_MS) {
      lastStats = at;
      renderStats();
    }
  }
  window.setTimeout(tick, TICK_MS);
}

// The events of the catalogue this page does nothing with (the rest it handles).
const IGNORED = eventSet(
  ...eventsOf("minutes"),
  ...OFF_THE_FLOOR,
  "delegate/checkin_conflict",
  "delegate/checkin_conflict_resolved",
  "delegate/reissued",
  "document/updated",
);
feed = followPage(conferenceId, {
  ignored: IGNORED,
  onSnapshot,
  onEvent,
});
