// The delegate's personal page: scan the hall screen's rotating code to check in, follow the
// agenda live, ask to speak (or raise a point of order) and see one's place in the list.

import { announce, element, page, t } from "./page.js";
import { newNonce } from "./checkin-queue.js";
import { cameraToggle, refusalText } from "./checkin-common.js";
import { LiveFeed, bannerStrings, connectionBanner } from "./live.js";
import { eventSet, eventsOf } from "./lib/events.js";
import { OFF_THE_FLOOR } from "./lib/event-groups.js";
import { minutesEvent } from "./delegate-minutes.js";
import {
  applyEvent,
  currentItem,
  fromSnapshot,
  itemsInOrder,
  nextItem,
  speakingOf,
  steps,
} from "./live-agenda.js";
import { formatTime } from "./lib/format.js";
import { request } from "./lib/http.js";

const button = element("scan-toggle");
const cameraBox = element("camera");
const cameraStatus = element("camera-status");
const result = element("scan-result");
const stateText = element("checkin-state");
const url = `/api/v1/delegate/${encodeURIComponent(page.secret)}/checkin`;

let busy = false;

function say(kind, text) {
  const p = document.createElement("p");
  p.className = `scan-card scan-${kind}`;
  p.dataset.kind = kind;
  p.textContent = text;
  result.replaceChildren(p);
}

function showCheckedIn(siteName, at) {
  stateText.textContent = t("js.delegate.checked_in", { site: siteName, time: formatTime(at) });
  stateText.dataset.checkedIn = "true";
}

async function submit(code) {
  if (busy) return;
  busy = true;
  say("queued", t("js.delegate.sending"));
  try {
    const answer = await request("POST", url, { code, nonce: newNonce() }, 15000);
    if (answer.ok && answer.data?.outcome === "ok") {
      const checkin = answer.data.checkin;
      const siteName = page.siteNames?.[checkin.site] ?? checkin.site;
      showCheckedIn(siteName, checkin.at);
      say("ok", t("js.delegate.done", { site: siteName, time: formatTime(checkin.at) }));
      scanner.stop();
      return;
    }
    if (answer.error?.code === "already_checked_in") {
      const details = answer.error.details ?? {};
      showCheckedIn(details.site_name || details.site, details.at);
    }
    say("refused", refusalText(answer.error, answer.retryAfter));
  } finally {
    busy = false;
  }
}

const scanner = cameraToggle({
  video: element("camera-video"),
  button,
  box: cameraBox,
  status: cameraStatus,
  decoder: page.jsqr,
  onCode: submit,
  startKey: "js.delegate.scan",
  runningKey: "js.delegate.aim",
});

/** The badge may have been scanned at the door meanwhile: ask when the phone wakes up. */
async function refreshState() {
  const answer = await request("GET", `/api/v1/delegate/${encodeURIComponent(page.secret)}`);
  const checkin = answer.ok ? answer.data?.checkin : null;
  if (checkin) showCheckedIn(checkin.site_name || checkin.site, checkin.at);
}

document.addEventListener("visibilitychange", () => {
  if (!document.hidden && stateText.dataset.checkedIn !== "true") refreshState();
});
window.addEventListener("pagehide", () => scanner.stop());

// --- the live conference: the agenda as it runs, asking to speak ------------------------------
//
// The page follows the conference over the WebSocket with its link as the credential
// (auth {link}); asking to speak and withdrawing go through the link's HTTP endpoints
// (server/agenda/api_delegate_live.py). The delegate's place comes from the speaker lists.

const liveBase = `/api/v1/delegate/${encodeURIComponent(page.secret)}`;
const me = page.me;
// An entry that still holds the delegate's place on an item's list.
const ON_LIST = new Set(["requested", "queued", "speaking"]);
const AGENDA_TAGS = {
  done: "js.stage.status.done",
  skipped: "js.stage.status.skipped",
  running: "js.stage.status.running",
  next: "js.stage.status.next",
};

const speakForm = element("speak-form");
const itemSelect = element("speak-item");
const topicInput = element("speak-topic");
const speakStatus = element("speak-status");
const speakError = element("speak-error");
const askButton = element("speak-ask");
const withdrawButton = element("speak-withdraw");
const orderButton = element("speak-order");
const agendaList = element("agenda");
let live = null;
let sending = false;

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

function siteName(code) {
  return (code && live?.sites.get(code)?.name) || code || "";
}

/** The delegate's entry on item's list: the one that holds a place, else the latest. */
function myEntry(itemId) {
  const list = live?.lists.get(itemId);
  if (!list) return null;
  const mine = [...list.speakers.values()].filter((s) => s.delegate === me);
  return (
    mine.find((s) => ON_LIST.has(s.status)) ??
    mine.sort((a, b) => (b.requested_at ?? "").localeCompare(a.requested_at ?? ""))[0] ??
    null
  );
}

function drawNow() {
  const item = currentItem(live);
  const running = item && item.status === "running";
  const next = nextItem(live);
  let text;
  if (running) text = t("js.delegate.live.now", { title: item.title });
  else if (next) text = t("js.stage.upcoming", { title: next.title });
  else text = t("js.stage.not_started");
  setText(element("live-item"), text);
  const speaker = running ? speakingOf(live, item.id) : null;
  const line = element("live-speaker");
  line.hidden = !speaker;
  if (speaker) {
    const site = siteName(speaker.site);
    setText(
      line,
      site
        ? t("js.delegate.live.speaker_from", { name: speaker.name, site })
        : t("js.delegate.live.speaker", { name: speaker.name }),
    );
  }
}

/** Items one may still ask to speak on: the running one first chosen, then the planned. */
function drawChoices() {
  const open = steps(live).filter((i) => i.status === "running" || i.status === "planned");
  // What the delegate picked stays picked; otherwise the choice follows the running item.
  const keep = itemSelect.dataset.chosen;
  const options = open.map((item) => {
    const option = document.createElement("option");
    option.value = item.id;
    option.textContent =
      item.status === "running"
        ? t("js.delegate.speak.current", { title: item.title })
        : item.title;
    return option;
  });
  itemSelect.replaceChildren(...options);
  const current = currentItem(live);
  const fallback = current && current.status === "running" ? current.id : nextItem(live)?.id;
  if (open.some((i) => i.id === keep)) itemSelect.value = keep;
  else if (fallback) itemSelect.value = fallback;
  speakForm.hidden = false;
  itemSelect.disabled = options.length === 0;
}

function drawMine() {
  const itemId = itemSelect.value;
  const item = itemId ? live.items.get(itemId) : null;
  const entry = item ? myEntry(item.id) : null;
  const holding = entry && ON_LIST.has(entry.status);
  const list = item ? live.lists.get(item.id) : null;
  const listOpen = item ? (list ? list.open : item.speakers_open) : false;
  let text;
  if (!item) text = t("js.delegate.speak.nothing");
  else if (entry?.status === "queued") {
    const place = (list?.order ?? []).indexOf(entry.id) + 1;
    text = t("js.delegate.speak.queued", { place });
  } else if (entry && entry.status !== "withdrawn") {
    text = t(`js.delegate.speak.${entry.status}`);
  } else if (!listOpen) text = t("js.delegate.speak.closed");
  else text = t("js.delegate.speak.none");
  setText(speakStatus, text);
  speakStatus.dataset.status = entry?.status ?? "none";
  const canAsk = Boolean(item) && !holding && listOpen && !sending;
  askButton.hidden = Boolean(holding);
  orderButton.hidden = Boolean(holding);
  askButton.disabled = !canAsk;
  orderButton.disabled = !canAsk;
  topicInput.disabled = !canAsk;
  withdrawButton.hidden = !(entry && (entry.status === "requested" || entry.status === "queued"));
  withdrawButton.disabled = sending;
  withdrawButton.dataset.speaker = withdrawButton.hidden ? "" : entry.id;
}

function agendaTag(li, status) {
  li.dataset.status = status;
  if (status === "running") li.setAttribute("aria-current", "step");
  else li.removeAttribute("aria-current");
  const tag = li.querySelector("[data-tag]");
  if (tag) setText(tag, AGENDA_TAGS[status] ? t(AGENDA_TAGS[status]) : "");
}

function agendaRow(item) {
  const li = document.createElement("li");
  li.dataset.item = item.id;
  const line = document.createElement("p");
  line.className = "delegate-agenda-line";
  const when = formatTime(item.planned_start);
  if (when) {
    const time = document.createElement("span");
    time.className = "delegate-agenda-time";
    time.textContent = when;
    line.append(time, " ");
  }
  const title = document.createElement("span");
  title.className = "delegate-agenda-title";
  title.textContent = item.title;
  const tag = document.createElement("span");
  tag.className = "agenda-tag";
  tag.dataset.tag = "";
  line.append(title, tag);
  li.append(line);
  if (item.presenter) {
    const presenter = document.createElement("p");
    presenter.className = "delegate-agenda-presenter";
    presenter.textContent = item.presenter;
    li.append(presenter);
  }
  return li;
}

/** The agenda as the server drew it, with each item's state; redrawn when items changed. */
function drawAgenda() {
  const items = itemsInOrder(live);
  const drawn = [...agendaList.querySelectorAll("li[data-item]")].map((li) => li.dataset.item);
  const sameItems = drawn.length === items.length && drawn.every((id, n) => id === items[n].id);
  if (!sameItems) {
    const rows = new Map();
    agendaList.replaceChildren();
    for (const item of items) {
      const li = agendaRow(item);
      rows.set(item.id, li);
      const parent = item.parent ? rows.get(item.parent) : null;
      if (parent) {
        let children = parent.querySelector(":scope > ol");
        if (!children) {
          children = document.createElement("ol");
          children.className = "delegate-agenda delegate-agenda-children";
          parent.append(children);
        }
        children.append(li);
      } else agendaList.append(li);
    }
    const empty = element("agenda-empty");
    if (empty) empty.hidden = items.length > 0;
  }
  const next = nextItem(live);
  for (const li of agendaList.querySelectorAll("li[data-item]")) {
    const item = live.items.get(li.dataset.item);
    if (!item) continue;
    agendaTag(li, item === next && item.status === "planned" ? "next" : item.status);
  }
}

function drawLive() {
  if (!live) return;
  drawNow();
  drawChoices();
  drawMine();
  drawAgenda();
}

function showSpeakError(error) {
  speakError.textContent = t("js.delegate.speak.refused", {
    message: error?.message || error?.code || "",
  });
  speakError.hidden = false;
}

/** An answer carries the list as it became: applied unless a newer one came meanwhile. */
function applyAnswer(data) {
  const list = live?.lists.get(data?.item);
  if (!live || !data?.item || (list && list.version >= data.version)) return;
  applyEvent(live, { type: "speakers/updated", data });
}

async function speak(kind) {
  if (sending || !itemSelect.value) return;
  sending = true;
  speakError.hidden = true;
  drawMine();
  const body = { item: itemSelect.value, kind, topic: topicInput.value.trim() };
  const answer = await request("POST", `${liveBase}/speakers`, body);
  sending = false;
  if (answer.ok) {
    topicInput.value = "";
    applyAnswer(answer.data);
    announce(
      t(kind === "point_of_order" ? "js.delegate.speak.order_sent" : "js.delegate.speak.sent"),
    );
  } else showSpeakError(answer.error);
  drawMine();
}

speakForm.addEventListener("submit", (e) => {
  e.preventDefault();
  speak("request");
});
orderButton.addEventListener("click", () => speak("point_of_order"));
itemSelect.addEventListener("change", () => {
  itemSelect.dataset.chosen = itemSelect.value;
  speakError.hidden = true;
  drawMine();
});
withdrawButton.addEventListener("click", async () => {
  const spid = withdrawButton.dataset.speaker;
  if (sending || !spid) return;
  sending = true;
  speakError.hidden = true;
  drawMine();
  const url = `${liveBase}/speakers/${encodeURIComponent(spid)}/withdraw`;
  const answer = await request("POST", url, {});
  sending = false;
  if (answer.ok) {
    applyAnswer(answer.data);
    announce(t("js.delegate.speak.withdrawn"));
  } else showSpeakError(answer.error);
  drawMine();
});

function takeSnapshot(snapshot) {
  if (live && typeof snapshot.seq === "number" && snapshot.seq < live.seq) return;
  live = fromSnapshot(snapshot);
  drawLive();
}

const liveBanner = connectionBanner(element("live-region"), bannerStrings(t));

// The events of the catalogue this page does nothing with (the rest it handles).
const IGNORED = eventSet(
  ...eventsOf("attendance"),
  ...OFF_THE_FLOOR,
  "document/updated",
);
const feed = new LiveFeed(page.conference.id, {
  ignored: IGNORED,
  auth: { link: page.secret },
  onSnapshot: takeSnapshot,
  onEvent(event, message) {
    minutesEvent(event);
    if (!live) return;
    if (applyEvent(live, event)) {
      live.seq = message.seq;
      drawLive();
    }
  },
  onStatus: liveBanner,
});

// The first picture over HTTP (quick, and there even where the socket cannot connect).
request("GET", `${liveBase}/live`).then((answer) => {
  if (answer.ok && !live) takeSnapshot(answer.data);
});
window.addEventListener("pagehide", () => feed.stop());
feed.start();
