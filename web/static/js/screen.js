// A remote site's screen on the hall's projector: the current item, who speaks (with their
// site and the countdown, from the server's clock), who speaks next and the agenda, kept
// live over the WebSocket. With a screen token it also tells the chair that the site is
// connected: a presence/beat every 10 s carrying the round trip of the previous one.
//
// The token comes once in the URL (?token=...): it is kept in sessionStorage (a reload
// works) and taken out of the address bar at once, so it is not shown, bookmarked or sent
// on as a referrer. See docs/screen.md.

import { fullscreenToggle } from "./lib/fullscreen.js";
import { LiveFeed, connectionBanner } from "./live.js";
import { eventSet, eventsOf } from "./lib/events.js";
import { AWARD_RECORDS, MAKING, NOTICES } from "./lib/event-groups.js";
import { element, page, t } from "./page.js";
import { LOCALE, zoneFormat } from "./lib/format.js";
import {
  applyEvent,
  clock,
  currentItem,
  elapsedSeconds,
  fromSnapshot,
  nextItem,
  presenting,
  queueOf,
  speakingOf,
  steps,
} from "./live-agenda.js";

const BEAT_MS = 10000;
const QUEUE_SHOWN = 5;
const FATAL = new Set(["forbidden", "not_found", "unauthorized"]);

const conferenceId = page.conference.id;
const tokenKey = `plenary.screen-token.${conferenceId}`;

/** The token from the URL (then removed from it), else the one this tab kept. */
function takeToken() {
  const url = new URL(window.location.href);
  const given = url.searchParams.get("token");
  if (given) {
    try {
      sessionStorage.setItem(tokenKey, given);
    } catch {
      // Storage refused: the screen works until it is reloaded.
    }
    url.searchParams.delete("token");
    window.history.replaceState(window.history.state, "", url.pathname + url.search + url.hash);
    return given;
  }
  try {
    return sessionStorage.getItem(tokenKey);
  } catch {
    return null;
  }
}

const token = takeToken();
let state = null;
let timeFormat = null;

function siteName(code) {
  if (!code) return "";
  return state?.sites.get(code)?.name || code;
}

function setText(node, text) {
  // Only on change: a live region repeats what is set again.
  if (node.textContent !== text) node.textContent = text;
}

function formatClock(iso) {
  if (!iso) return "";
  if (timeFormat === null) {
    const options = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
    timeFormat = zoneFormat(LOCALE, options, state?.conference?.timezone || null);
  }
  const when = new Date(iso);
  return Number.isNaN(when.getTime()) ? "" : timeFormat.format(when);
}

function speakerLine(speaker) {
  return [speaker.title, speaker.unit].filter(Boolean).join(" · ");
}

// --- drawing --------------------------------------------------------------------------------

function drawTitle() {
  const title = state.conference?.title || t("js.stage.title");
  setText(element("stage-heading"), title);
  document.title = `${title} · ${t("js.stage.title")}`;
}

function drawNow() {
  const item = currentItem(state);
  const running = item && item.status === "running";
  const next = nextItem(state);
  let text;
  if (running) text = item.title;
  else if (next) text = t("js.stage.upcoming", { title: next.title });
  else if (steps(state).length) text = t("js.stage.finished");
  else text = t("js.stage.not_started");
  setText(element("now-item"), text);
  const presenter = element("now-presenter");
  const who = running ? item.presenter : "";
  presenter.hidden = !who;
  setText(presenter, who || "");
  element("stage").dataset.state = running ? "running" : "idle";
}

function drawSpeaker() {
  const item = currentItem(state);
  const speaker = item && item.status === "running" ? speakingOf(state, item.id) : null;
  const box = element("speaker-box");
  box.hidden = !speaker;
  if (!speaker) return;
  box.dataset.speaker = speaker.id;
  setText(element("speaker-name"), speaker.name);
  setText(element("speaker-line"), speakerLine(speaker));
  const site = siteName(speaker.site);
  setText(element("speaker-site"), site ? t("js.stage.from_site", { site }) : "");
  tick();
}

/** The award being presented at the ceremony: who is honoured, with what, under which decision. */
function drawAward() {
  const award = presenting(state);
  const box = element("awards");
  box.hidden = !award;
  element("stage").dataset.ceremony = award ? "on" : "off";
  if (!award) return;
  box.dataset.award = award.id;
  setText(element("award-kind"), award.kind_label);
  setText(element("award-name"), award.name);
  const where = award.site_name ? t("js.stage.from_site", { site: award.site_name }) : "";
  setText(element("award-line"), [award.title, award.unit, where].filter(Boolean).join(" · "));
  const day = award.issued_on ? award.issued_on.split("-").reverse().join("/") : "";
  setText(
    element("award-decision"),
    t("js.stage.award_decision", { number: award.decision, day, body: award.issuing_body }),
  );
}

/** The countdown: what is left of the speaker's time (counting up when there is no limit). */
function tick() {
  const now = feed.serverNow();
  const clockOut = element("stage-clock");
  setText(clockOut, formatClock(new Date(now).toISOString()));
  if (!state) return;
  const item = currentItem(state);
  const speaker = item && item.status === "running" ? speakingOf(state, item.id) : null;
  if (!speaker) return;
  const spoken = elapsedSeconds(speaker, now);
  const limit = speaker.limit_seconds || 0;
  const timer = element("timer");
  let label;
  let shown;
  if (limit > 0) {
    const left = limit - spoken;
    shown = clock(left < 0 ? left : Math.ceil(left));
    timer.dataset.timer = left < 0 ? "over" : left <= 30 ? "ending" : "running";
    label = left < 0 ? t("js.stage.over") : t("js.stage.remaining");
  } else {
    shown = clock(spoken);
    timer.dataset.timer = "running";
    label = t("js.stage.spoken");
  }
  if (!speaker.timer_started_at) {
    timer.dataset.timer = "paused";
    label = t("js.stage.paused");
  }
  setText(element("timer-label"), label);
  setText(element("countdown"), shown);
}

function queueRow(speaker, n) {
  const li = document.createElement("li");
  li.dataset.speaker = speaker.id;
  if (speaker.kind === "point_of_order") li.dataset.kind = "point_of_order";
  const number = document.createElement("span");
  number.className = "stage-number";
  number.textContent = String(n);
  const body = document.createElement("span");
  body.className = "stage-entry";
  const name = document.createElement("span");
  name.className = "stage-entry-name";
  name.textContent = speaker.name;
  body.append(name);
  const notes = [siteName(speaker.site)];
  if (speaker.kind === "point_of_order") notes.push(t("js.stage.point_of_order"));
  const meta = notes.filter(Boolean).join(" · ");
  if (meta) {
    const where = document.createElement("span");
    where.className = "stage-entry-meta";
    where.textContent = meta;
    body.append(where);
  }
  li.append(number, body);
  return li;
}

function drawQueue() {
  const item = currentItem(state);
  const queue = item && item.status === "running" ? queueOf(state, item.id) : [];
  const shown = queue.slice(0, QUEUE_SHOWN);
  element("queue").replaceChildren(...shown.map((s, n) => queueRow(s, n + 1)));
  const empty = element("queue-empty");
  empty.hidden = shown.length > 0;
  if (queue.length > shown.length) {
    empty.hidden = false;
    empty.textContent = t("js.stage.queue.more", { count: queue.length - shown.length });
  } else {
    empty.textContent = t("js.stage.queue.empty");
  }
}

const STATUS_KEYS = {
  done: "js.stage.status.done",
  skipped: "js.stage.status.skipped",
  running: "js.stage.status.running",
  next: "js.stage.status.next",
};

function drawAgenda() {
  const all = steps(state);
  const next = nextItem(state);
  const rows = all.map((item) => {
    const li = document.createElement("li");
    li.dataset.item = item.id;
    const status = item === next && item.status === "planned" ? "next" : item.status;
    li.dataset.status = status;
    if (item.status === "running") li.setAttribute("aria-current", "step");
    const time = document.createElement("span");
    time.className = "stage-time";
    time.textContent = formatClock(item.started_at || item.planned_start);
    const title = document.createElement("span");
    title.className = "stage-step-title";
    title.textContent = item.title;
    li.append(time, title);
    if (STATUS_KEYS[status]) {
      const tag = document.createElement("span");
      tag.className = "stage-tag";
      tag.textContent = t(STATUS_KEYS[status]);
      li.append(tag);
    }
    return li;
  });
  element("agenda").replaceChildren(...rows);
  element("agenda-empty").hidden = rows.length > 0;
}

function drawAll() {
  if (!state) return;
  drawTitle();
  drawNow();
  drawSpeaker();
  drawAward();
  drawQueue();
  drawAgenda();
}

// --- the site's heartbeat ------------------------------------------------------------------

let beatTimer = null;
let latency = null;

async function beat(live) {
  const sent = performance.now();
  try {
    const result = await live.command(
      "presence/beat",
      latency === null ? {} : { latency_ms: latency },
    );
    latency = Math.min(600000, Math.round(performance.now() - sent));
    const site = element("stage-site");
    if (result?.site) {
      site.dataset.site = result.site;
      setText(site, t("js.stage.site", { site: siteName(result.site) }));
      site.hidden = false;
    }
  } catch (error) {
    // A token that may not beat (not a screen's, or no site): stop asking.
    if (FATAL.has(error?.code)) stopBeats();
  }
}

function stopBeats() {
  window.clearInterval(beatTimer);
  beatTimer = null;
}

function startBeats(live) {
  stopBeats();
  if (!token) return;
  beat(live);
  beatTimer = window.setInterval(() => beat(live), BEAT_MS);
}

// --- live ------------------------------------------------------------------------------------

const banner = connectionBanner(element("live-region"), {
  lost: t("js.live.lost"),
  failed: (error) => {
    if (FATAL.has(error?.code)) return token ? t("js.stage.bad_token") : t("js.stage.no_token");
    return t("js.live.failed", { message: error?.message || error?.code || "" });
  },
});

// The events of the catalogue this page does nothing with (the rest it handles).
const IGNORED = eventSet(
  ...eventsOf("attendance", "minutes"),
  ...NOTICES,
  ...MAKING,
  ...AWARD_RECORDS,
  "document/updated",
);
const feed = new LiveFeed(conferenceId, {
  ignored: IGNORED,
  auth: token ? { token } : null,
  onSnapshot(snapshot) {
    state = fromSnapshot(snapshot);
    timeFormat = null;
    drawAll();
  },
  onEvent(event) {
    if (!state) return;
    if (event.type === "conference/updated" && event.data) {
      state.conference = { ...state.conference, ...event.data };
      timeFormat = null;
      drawAll();
      return;
    }
    if (applyEvent(state, event)) drawAll();
  },
  onStatus(status, error) {
    if (status !== "live") stopBeats();
    banner(status, error);
  },
  onLive: startBeats,
});

fullscreenToggle(element("fullscreen"), element("stage"));

window.setInterval(tick, 250);
window.addEventListener("pagehide", () => {
  stopBeats();
  feed.stop();
});
feed.start();
