// The operator's check-in page: scan badges or search by name, see each answer in a big
// card, the site's count and its latest check-ins kept live. Scans made while the server
// is out of reach are queued (each with its nonce and time) and uploaded when it is back.

import { LiveFeed, bannerStrings, connectionBanner } from "./live.js";
import { eventSet, eventsOf } from "./lib/events.js";
import { DELEGATE_RECORDS, OFF_THE_FLOOR } from "./lib/event-groups.js";
import {
  applyEvent as applyLive,
  currentItem,
  fromSnapshot,
  queueOf,
  speakingOf,
} from "./live-agenda.js";
import { announce, conferenceApi, element, page, t } from "./page.js";
import { CheckinQueue, newNonce } from "./checkin-queue.js";
import { CredentialChecker } from "./credential.js";
import { alreadyText, cameraToggle, delegateLine, refusalText } from "./checkin-common.js";
import { formatTime } from "./lib/format.js";
import { SitePresent } from "./lib/site-present.js";
import { request } from "./lib/http.js";

const RECENT_LIMIT = 50;
const SEARCH_DELAY_MS = 250;
const SEARCH_MIN = 2;
// What a line of the latest check-ins says besides the name (a plain badge scan: nothing).
const OUTCOME_NOTES = new Set(["already_checked_in", "conflict"]);
const METHOD_NOTES = new Set(["search", "self", "manual"]);

const conferenceId = page.conference.id;
const site = page.site;

const resultBox = element("scan-result");
const queueStatus = element("queue-status");
const queueText = element("queue-text");
const uploadPanel = element("upload-results");
const uploadList = element("upload-list");
const recentList = element("recent");
const recentEmpty = element("recent-empty");
const searchInput = element("search-input");
const searchStatus = element("search-status");
const searchResults = element("search-results");
const cameraButton = element("camera-toggle");
const cameraBox = element("camera");
const cameraStatus = element("camera-status");
const codeForm = element("code-form");
const undoDialog = element("undo-dialog");

// Server clock minus this phone's, from the live snapshot.
let clockOffset = 0;

const state = {
  recent: new Map(),
};

function paragraph(className, text) {
  const p = document.createElement("p");
  p.className = className;
  p.textContent = text;
  return p;
}

function siteLabel(code) {
  return code === site.code ? site.name : code || "";
}

// --- the answer card ---------------------------------------------------------------------

/** kind: "ok" (green), "refused" (red), "queued" (amber). The region announces it. */
function showCard(kind, status, name, lines = []) {
  const card = document.createElement("div");
  card.className = `scan-card scan-${kind}`;
  card.dataset.kind = kind;
  card.append(paragraph("scan-status", status));
  if (name) card.append(paragraph("scan-name", name));
  for (const line of lines) if (line) card.append(paragraph("scan-line", line));
  resultBox.replaceChildren(card);
  navigator.vibrate?.(kind === "ok" ? 80 : [150, 80, 150]);
}

function showAdmitted(checkin) {
  const delegate = checkin.delegate ?? {};
  showCard("ok", t("js.checkin.ok"), delegate.name, [
    delegateLine(delegate),
    t("js.checkin.ok_where", { site: siteLabel(checkin.site), time: formatTime(checkin.at) }),
  ]);
}

function showRefused(error, retryAfter, name = "") {
  const delegate = error?.details?.delegate;
  showCard("refused", t("js.checkin.refused"), delegate?.name || name, [
    delegate ? delegateLine(delegate) : "",
    refusalText(error, retryAfter),
  ]);
}

// --- the site's figure ----------------------------------------------------------------

const figure = new SitePresent(conferenceApi, site.code);

// --- the latest check-ins ------------------------------------------------------------------

function recentKey(item) {
  const at = Date.parse(item.at ?? "");
  const when = Number.isNaN(at) ? item.at : at;
  return `${item.action ?? "checkin"}|${item.delegate?.id ?? ""}|${when}`;
}

function recentRow(item) {
  const li = document.createElement("li");
  const action = item.action ?? "checkin";
  const outcome = item.outcome ?? "ok";
  li.className = `recent-item recent-${action === "checkin" ? outcome : action}`;
  li.dataset.delegate = item.delegate?.id ?? "";
  const time = document.createElement("time");
  time.dateTime = item.at ?? "";
  time.className = "recent-time";
  time.textContent = formatTime(item.at);
  const body = document.createElement("div");
  body.className = "recent-body";
  body.append(paragraph("recent-name", item.delegate?.name ?? ""));
  const notes = [delegateLine(item.delegate)];
  if (action === "undo") notes.push(t("js.checkin.recent.undone"));
  else if (OUTCOME_NOTES.has(outcome)) notes.push(t(`js.checkin.recent.${outcome}`));
  if (METHOD_NOTES.has(item.method)) notes.push(t(`js.checkin.method.${item.method}`));
  if (item.offline) notes.push(t("js.checkin.recent.offline"));
  body.append(paragraph("recent-meta", notes.filter(Boolean).join(" · ")));
  li.append(time, body);
  if (action === "checkin" && outcome === "ok" && item.delegate?.id) {
    const undo = document.createElement("button");
    undo.type = "button";
    undo.className = "button-secondary undo-button";
    undo.dataset.action = "undo";
    undo.textContent = t("js.checkin.undo");
    const who = document.createElement("span");
    who.className = "visually-hidden";
    who.textContent = ` ${item.delegate.name}`;
    undo.append(who);
    li.append(undo);
  }
  return li;
}

const known = (item) => state.recent.has(recentKey(item));

// What was added while the list was being fetched: the fetched list may predate it.
let addedDuringLoad = null;

/** Put item at the top of the list (newest first); repeats are ignored. */
function addRecent(item) {
  if (!item?.delegate) return;
  addedDuringLoad?.push(item);
  if (known(item)) return;
  const row = recentRow(item);
  if (item.action === "undo") {
    // Their earlier admission cannot be undone twice.
    for (const older of recentList.querySelectorAll("li[data-delegate]")) {
      if (older.dataset.delegate === item.delegate.id)
        older.querySelector(".undo-button")?.remove();
    }
  }
  state.recent.set(recentKey(item), row);
  recentList.prepend(row);
  while (recentList.children.length > RECENT_LIMIT) {
    const last = recentList.lastElementChild;
    for (const [key, value] of state.recent) if (value === last) state.recent.delete(key);
    last.remove();
  }
  recentEmpty.hidden = true;
}

async function loadRecent() {
  const meanwhile = [];
  addedDuringLoad = meanwhile;
  const query = new URLSearchParams({ site: site.code, limit: String(RECENT_LIMIT) });
  const answer = await request("GET", `${conferenceApi}/checkins?${query}`);
  if (addedDuringLoad !== meanwhile) return; // a later load is under way: it decides
  addedDuringLoad = null;
  if (!answer.ok) return;
  const items = answer.data?.items ?? [];
  state.recent.clear();
  recentList.replaceChildren();
  // Newest first from the server; prepending oldest first keeps that order.
  for (const item of items.slice(0, RECENT_LIMIT).reverse()) addRecent(item);
  // An upload answered or an event came while the list was on its way: newer than it.
  for (const item of meanwhile) addRecent(item);
  recentEmpty.hidden = recentList.children.length > 0;
}

// --- checking in ---------------------------------------------------------------------------

const checker = new CredentialChecker(conferenceId);
const keysKey = `plenary.keys.${conferenceId}`;

async function loadKeys() {
  try {
    const kept = JSON.parse(localStorage.getItem(keysKey) ?? "null");
    if (kept) await checker.setKeys(kept);
  } catch {
    // Nothing usable kept: fetch below.
  }
  const answer = await request("GET", `${conferenceApi}/credentials/keys`);
  if (answer.ok && answer.data?.keys) {
    await checker.setKeys(answer.data.keys);
    try {
      localStorage.setItem(keysKey, JSON.stringify(answer.data.keys));
    } catch {
      // Storage refused: the keys still work until the page closes.
    }
  }
}

const queue = new CheckinQueue(`plenary.checkin-queue.${conferenceId}.${site.code}`, {
  upload: (items) =>
    request(
      "POST",
      `${conferenceApi}/checkins/batch`,
      {
        site: site.code,
        items: items.map(({ nonce, credential, delegate, happened_at }) =>
          credential ? { nonce, credential, happened_at } : { nonce, delegate, happened_at },
        ),
      },
      30000,
    ),
  onChange: showQueue,
  onResults: showUploadResults,
});

/** The server is out of reach: the browser says so, or earlier scans still wait. */
function queueing() {
  return navigator.onLine === false || queue.size > 0;
}

function showQueue() {
  queueStatus.hidden = queue.size === 0;
  if (queue.size === 0) return;
  let text = t("js.checkin.queue.waiting", { count: queue.size });
  if (queue.halted)
    text += ` ${t("js.checkin.queue.halted", { reason: refusalText(queue.halted.error) })}`;
  queueText.textContent = text;
}

function resultLine(result, item) {
  const name = result.delegate?.name || item?.label || "";
  const scanned = formatTime(item?.happened_at);
  // Results name the site by its code only.
  const where = { ...result, site_name: siteLabel(result.site) };
  switch (result.outcome) {
    case "ok":
      return ["ok", t("js.checkin.upload.ok", { name, time: scanned })];
    case "already_checked_in":
      return ["warn", t("js.checkin.upload.already", { name, reason: alreadyText(where) })];
    case "conflict":
      return ["warn", t("js.checkin.upload.conflict", { name, reason: alreadyText(where) })];
    default:
      return [
        "refused",
        t("js.checkin.upload.refused", {
          reason: refusalText({ code: result.code, message: result.message, details: result }),
          time: scanned,
        }),
      ];
  }
}

function showUploadResults(results, items) {
  const byNonce = new Map(items.map((item) => [item.nonce, item]));
  let admitted = 0;
  const lines = document.createDocumentFragment();
  for (const result of results) {
    const [kind, text] = resultLine(result, byNonce.get(result.nonce));
    if (kind === "ok") admitted += 1;
    const li = document.createElement("li");
    li.className = `upload-item upload-${kind}`;
    li.textContent = text;
    lines.append(li);
    if (result.outcome === "ok" && result.delegate) {
      addRecent({
        delegate: result.delegate,
        at: result.at,
        site: result.site,
        offline: true,
        action: "checkin",
        outcome: "ok",
        method: byNonce.get(result.nonce)?.credential ? "scan" : "search",
      });
    }
  }
  // The latest upload on top, its scans in the order they were made.
  uploadList.prepend(lines);
  uploadPanel.hidden = false;
  announce(
    t("js.checkin.upload.summary", {
      count: results.length,
      ok: admitted,
      other: results.length - admitted,
    }),
  );
  figure.load();
}

function enqueue(item) {
  queue.add(item);
  showCard("queued", t("js.checkin.queued"), item.label, [
    t("js.checkin.queue.waiting", { count: queue.size }),
  ]);
}

/** Check in one scan or tap: {credential} or {delegate, label}. */
async function checkIn(what) {
  // The server's clock: a phone's own may be minutes off, and the server refuses scan
  // times in the future.
  const now = new Date(Date.now() + clockOffset);
  const item = { nonce: newNonce(), happened_at: now.toISOString(), ...what };
  if (queueing()) {
    if (item.credential) {
      // Offline, a forged or foreign badge can still be told at once.
      const verdict = await checker.check(item.credential);
      if (verdict?.code) {
        showRefused({ code: verdict.code });
        return;
      }
    }
    enqueue(item);
    return;
  }
  const body = { nonce: item.nonce, site: site.code };
  if (item.credential) body.credential = item.credential;
  else body.delegate = item.delegate;
  // With the live link down the server is likely out of reach too: give up sooner.
  const answer = await request(
    "POST",
    `${conferenceApi}/checkins`,
    body,
    feed.state === "live" ? 8000 : 3000,
  );
  if (answer.unreachable) {
    enqueue(item);
    return;
  }
  if (answer.ok && answer.data?.outcome === "ok") {
    const checkin = answer.data.checkin;
    showAdmitted(checkin);
    figure.show(answer.data.present);
    addRecent({ ...checkin, action: "checkin", outcome: "ok" });
    return;
  }
  showRefused(answer.error, answer.retryAfter, item.label);
}

// --- camera and typed codes ---------------------------------------------------------------

const scanner = cameraToggle({
  video: element("camera-video"),
  button: cameraButton,
  box: cameraBox,
  status: cameraStatus,
  decoder: page.jsqr,
  onCode: (text) => checkIn({ credential: text }),
  startKey: "js.camera.start",
  runningKey: "js.camera.running",
});

codeForm.addEventListener("submit", (e) => {
  e.preventDefault();
  const input = codeForm.elements.namedItem("code");
  const text = input.value.trim();
  if (!text) {
    input.focus();
    return;
  }
  input.value = "";
  checkIn({ credential: text });
});

// --- search and tap --------------------------------------------------------------------

let searchTicket = 0;
let searchTimer = null;

function hitButton(delegate) {
  const li = document.createElement("li");
  const button = document.createElement("button");
  button.type = "button";
  button.className = "search-hit";
  button.dataset.delegate = delegate.id;
  button.dataset.name = delegate.name;
  const name = document.createElement("span");
  name.className = "hit-name";
  name.textContent = delegate.name;
  const meta = document.createElement("span");
  meta.className = "hit-meta";
  meta.textContent = delegateLine(delegate);
  button.append(name, meta);
  li.append(button);
  return li;
}

async function runSearch() {
  const q = searchInput.value.trim();
  const ticket = ++searchTicket;
  if (q.length < SEARCH_MIN) {
    searchResults.replaceChildren();
    searchStatus.textContent = "";
    return;
  }
  const query = new URLSearchParams({ q, site: site.code, limit: "20" });
  const answer = await request("GET", `${conferenceApi}/delegates?${query}`);
  if (ticket !== searchTicket) return;
  if (!answer.ok) {
    searchResults.replaceChildren();
    searchStatus.textContent = answer.unreachable
      ? t("js.checkin.search.offline")
      : refusalText(answer.error);
    return;
  }
  const items = answer.data?.items ?? [];
  searchResults.replaceChildren(...items.map(hitButton));
  searchStatus.textContent =
    items.length === 0
      ? t("js.checkin.search.none", { q })
      : t("js.checkin.search.found", {
          count: items.length,
          total: answer.data.total ?? items.length,
        });
}

searchInput.addEventListener("input", () => {
  window.clearTimeout(searchTimer);
  searchTimer = window.setTimeout(runSearch, SEARCH_DELAY_MS);
});
element("search-form").addEventListener("submit", (e) => {
  e.preventDefault();
  window.clearTimeout(searchTimer);
  runSearch();
});

searchResults.addEventListener("click", (e) => {
  const button = e.target.closest("button.search-hit");
  if (!button) return;
  checkIn({ delegate: button.dataset.delegate, label: button.dataset.name, method: "search" });
  // Ready for the next person.
  searchInput.value = "";
  searchResults.replaceChildren();
  searchStatus.textContent = "";
  searchInput.focus();
});

// --- undo ------------------------------------------------------------------------------------

let undoing = null;

recentList.addEventListener("click", (e) => {
  const button = e.target.closest('button[data-action="undo"]');
  if (!button) return;
  const li = button.closest("li");
  undoing = { id: li.dataset.delegate, name: li.querySelector(".recent-name")?.textContent ?? "" };
  element("undo-text").textContent = t("js.checkin.undo.confirm", { name: undoing.name });
  element("undo-error").hidden = true;
  const form = element("undo-form");
  form.reset();
  undoDialog.showModal();
});

undoDialog.addEventListener("click", (e) => {
  if (e.target.closest('[data-action="close"]')) undoDialog.close();
});

element("undo-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  if (!undoing) return;
  const form = e.currentTarget;
  const reason = form.elements.namedItem("reason");
  const error = element("undo-error");
  if (!reason.value.trim()) {
    error.textContent = t("js.error.required");
    error.hidden = false;
    reason.focus();
    return;
  }
  const submit = form.querySelector('button[type="submit"]');
  submit.disabled = true;
  const url = `${conferenceApi}/delegates/${encodeURIComponent(undoing.id)}/checkin/undo`;
  const answer = await request("POST", url, { reason: reason.value.trim() });
  submit.disabled = false;
  if (!answer.ok) {
    error.textContent = refusalText(answer.error, answer.retryAfter);
    error.hidden = false;
    return;
  }
  const name = undoing.name;
  undoDialog.close();
  announce(t("js.checkin.undo.done", { name }));
  const present = answer.data?.present;
  if (present) figure.show(present);
  loadRecent();
});

undoDialog.addEventListener("close", () => {
  undoing = null;
});

// --- the site in the meeting: heartbeat, roll call, the site's speakers ---------------------

const BEAT_MS = 10000;
const rollBox = element("roll-call");
const rollText = element("roll-call-text");
const rollReady = element("roll-call-ready");
const speakersItem = element("speakers-item");
const speakerForm = element("speaker-form");
const speakerSelect = element("speaker-delegate");
const speakerResult = element("speaker-result");
const siteSpeakers = element("site-speakers");
let agenda = null;
let beatTimer = null;
let latency = null;

/** The site is connected while this page is open: a heartbeat every 10 s with the round
 * trip of the previous one. An organizer's page (no site of their own) is refused: stop. */
async function beat(live) {
  const sent = performance.now();
  try {
    await live.command("presence/beat", latency === null ? {} : { latency_ms: latency });
    latency = Math.min(600000, Math.round(performance.now() - sent));
  } catch (error) {
    if (["forbidden", "not_found", "unauthorized"].includes(error?.code)) stopBeats();
  }
}

function stopBeats() {
  window.clearInterval(beatTimer);
  beatTimer = null;
}

function startBeats(live) {
  stopBeats();
  beat(live);
  beatTimer = window.setInterval(() => beat(live), BEAT_MS);
}

function drawRollCall() {
  const call = agenda?.rollCall;
  const open = Boolean(call && !call.closed_at);
  rollBox.hidden = !open;
  if (!open) return;
  const answered = call.answered?.[site.code];
  rollReady.hidden = Boolean(answered);
  const text = answered
    ? t("js.checkin.roll_call.answered", { time: formatTime(answered) })
    : t("js.checkin.roll_call.open");
  if (rollText.textContent !== text) rollText.textContent = text;
}

const SPEAKER_STATUS = new Set([
  "requested",
  "queued",
  "speaking",
  "done",
  "rejected",
  "withdrawn",
]);

function drawSpeakers() {
  const item = agenda ? currentItem(agenda) : null;
  const running = item && item.status === "running";
  const text = running
    ? t("js.checkin.speakers.item", { title: item.title })
    : t("js.checkin.speakers.no_item");
  if (speakersItem.textContent !== text) speakersItem.textContent = text;
  speakerForm.hidden = !running || speakerSelect.options.length === 0;
  if (!running) {
    siteSpeakers.replaceChildren();
    return;
  }
  const list = agenda.lists.get(item.id);
  const queue = queueOf(agenda, item.id);
  const speaking = speakingOf(agenda, item.id);
  const ours = list ? [...list.speakers.values()].filter((s) => s.site === site.code) : [];
  siteSpeakers.replaceChildren(
    ...ours.map((speaker) => {
      const li = document.createElement("li");
      li.dataset.speaker = speaker.id;
      li.dataset.status = speaker.status;
      let status = SPEAKER_STATUS.has(speaker.status)
        ? t(`js.checkin.speakers.status.${speaker.status}`)
        : speaker.status;
      if (speaker.status === "queued") {
        const place = queue.indexOf(speaker) + 1;
        status = t("js.checkin.speakers.place", { place });
      } else if (speaker === speaking) status = t("js.checkin.speakers.status.speaking");
      li.textContent = `${speaker.name} · ${status}`;
      return li;
    }),
  );
}

function drawMeeting() {
  drawRollCall();
  drawSpeakers();
}

rollReady.addEventListener("click", async () => {
  rollReady.disabled = true;
  const answer = await request("POST", `${conferenceApi}/roll-call/answer`, { site: site.code });
  rollReady.disabled = false;
  if (answer.ok) {
    // The roll_call/answered event follows with the server's time.
    if (agenda?.rollCall && !agenda.rollCall.answered[site.code]) {
      agenda.rollCall.answered[site.code] = new Date(Date.now() + clockOffset).toISOString();
    }
    drawRollCall();
    announce(t("js.checkin.roll_call.sent"));
  } else {
    rollText.textContent = refusalText(answer.error, answer.retryAfter);
  }
});

async function loadSiteDelegates() {
  const query = new URLSearchParams({ site: site.code, limit: "1000" });
  const answer = await request("GET", `${conferenceApi}/delegates?${query}`);
  if (!answer.ok) return;
  const options = (answer.data?.items ?? []).map((delegate) => {
    const option = document.createElement("option");
    option.value = delegate.id;
    option.textContent = delegate.name;
    return option;
  });
  speakerSelect.replaceChildren(...options);
  drawSpeakers();
}

speakerForm.addEventListener("submit", async (e) => {
  e.preventDefault();
  const delegate = speakerSelect.value;
  if (!delegate) return;
  const name = speakerSelect.selectedOptions[0]?.textContent ?? "";
  const submit = speakerForm.querySelector('button[type="submit"]');
  submit.disabled = true;
  const answer = await request("POST", `${conferenceApi}/agenda/current/speakers`, { delegate });
  submit.disabled = false;
  if (answer.ok) {
    const data = answer.data;
    const list = agenda?.lists.get(data?.item);
    if (agenda && data?.item && !(list && list.version >= data.version)) {
      applyLive(agenda, { type: "speakers/updated", data });
      drawSpeakers();
    }
    speakerResult.textContent = t("js.checkin.speakers.added", { name });
  } else {
    speakerResult.textContent = refusalText(answer.error, answer.retryAfter);
  }
});

// --- live -----------------------------------------------------------------------------------

function applyEvent(event, message) {
  const data = event.data ?? {};
  switch (event.type) {
    case "delegate/checked_in":
      figure.show(data.present, message.seq);
      if (data.at_site === site.code) {
        addRecent({
          delegate: data.delegate,
          at: data.at,
          method: data.method,
          offline: data.offline,
          action: "checkin",
          outcome: "ok",
        });
      }
      break;
    case "delegate/checkin_undone":
      figure.show(data.present, message.seq);
      if (data.at_site === site.code || data.site === site.code) {
        addRecent({
          delegate: data.delegate,
          at: data.at ?? new Date().toISOString(),
          action: "undo",
        });
      }
      break;
    case "delegate/checkin_conflict":
      // other_site: where the offline scan was made; at_site: where they were admitted.
      if (data.other_site === site.code || data.at_site === site.code) {
        addRecent({ delegate: data.delegate, at: data.at, action: "checkin", outcome: "conflict" });
      }
      break;
    default:
      break;
  }
}

function refresh() {
  figure.load();
  loadRecent();
}

let snapshots = 0;
// The events of the catalogue this page does nothing with (the rest it handles).
const IGNORED = eventSet(
  ...eventsOf("minutes"),
  ...OFF_THE_FLOOR,
  ...DELEGATE_RECORDS,
  "document/updated",
);
const feed = new LiveFeed(conferenceId, {
  ignored: IGNORED,
  // The first snapshot comes with the page's own first reading; a later one means a
  // reconnection missed events, so the figures are read again.
  onSnapshot: (snapshot) => {
    const server = Date.parse(snapshot.server_time ?? "");
    if (!Number.isNaN(server)) clockOffset = server - Date.now();
    agenda = fromSnapshot(snapshot);
    drawMeeting();
    snapshots += 1;
    if (snapshots > 1) refresh();
  },
  onEvent: (event, message) => {
    applyEvent(event, message);
    if (agenda && applyLive(agenda, event)) drawMeeting();
  },
  onStatus: (status, error) => {
    banner(status, error);
    if (status === "live") queue.soon();
    else stopBeats();
  },
  onLive: startBeats,
});
const banner = connectionBanner(element("live-region"), bannerStrings(t, t("js.checkin.live.lost")));

element("queue-send").addEventListener("click", () => queue.now());
window.addEventListener("online", () => queue.now());
window.addEventListener("pagehide", () => {
  stopBeats();
  feed.stop();
  scanner.stop();
});

showQueue();
feed.start();
refresh();
loadKeys();
loadSiteDelegates();
queue.soon();
