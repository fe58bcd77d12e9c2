// A site's self check-in screen (on the hall's projector): the current check-in code as a
// large QR, redrawn when it changes (every 30 s), a countdown, and the live count.

import qrcode from "../vendor/qrcode-generator/qrcode.js";
import { fullscreenToggle } from "./lib/fullscreen.js";
import { LiveFeed, bannerStrings, connectionBanner } from "./live.js";
import { eventSet, eventsOf } from "./lib/events.js";
import { DELEGATE_RECORDS } from "./lib/event-groups.js";
import { conferenceApi, element, page, t } from "./page.js";
import { SitePresent } from "./lib/site-present.js";
import { request } from "./lib/http.js";

const RETRY_MS = 3000;
const REFUSED_RETRY_MS = 30000;
const QUIET = 4;
const ALPHANUMERIC = /^[0-9A-Z $%*+\-./:]*$/;

const conferenceId = page.conference.id;
const site = page.site;
const qrBox = element("screen-qr");
const qrPath = element("screen-qr-path");
const countdown = element("countdown-seconds");
const countdownText = element("countdown");
const codeStatus = element("code-status");

const state = {
  code: null,
  expiresAt: 0,
  // Server clock minus this clock, from the live snapshot: countdowns agree with the server.
  offset: 0,
  timer: null,
};

const serverNow = () => Date.now() + state.offset;

/** Draw text as a QR code: one SVG path, each dark run of a row as one rectangle. */
function drawQr(text) {
  const qr = qrcode(0, "M");
  qr.addData(text, ALPHANUMERIC.test(text) ? "Alphanumeric" : "Byte");
  qr.make();
  const count = qr.getModuleCount();
  const size = count + 2 * QUIET;
  const parts = [];
  for (let row = 0; row < count; row += 1) {
    let col = 0;
    while (col < count) {
      if (!qr.isDark(row, col)) {
        col += 1;
        continue;
      }
      const start = col;
      while (col < count && qr.isDark(row, col)) col += 1;
      parts.push(`M${start + QUIET} ${row + QUIET}h${col - start}v1h${start - col}z`);
    }
  }
  qrBox.setAttribute("viewBox", `0 0 ${size} ${size}`);
  qrPath.setAttribute("d", parts.join(""));
  qrBox.dataset.code = text;
}

async function fetchCode() {
  window.clearTimeout(state.timer);
  const url = `${conferenceApi}/sites/${encodeURIComponent(site.id)}/checkin-code`;
  const answer = await request("GET", url, undefined, 8000);
  if (!answer.ok) {
    qrBox.classList.add("stale");
    codeStatus.textContent = answer.unreachable
      ? t("js.screen.offline")
      : t("js.screen.failed", { message: answer.error?.message || answer.error?.code || "" });
    // Unreachable: soon again. Refused (the role was taken away): not every 3 seconds.
    state.timer = window.setTimeout(fetchCode, answer.unreachable ? RETRY_MS : REFUSED_RETRY_MS);
    return;
  }
  const { code, expires_at: expiresAt, period } = answer.data;
  const changed = code !== state.code;
  state.code = code;
  state.expiresAt = Date.parse(expiresAt);
  if (changed) drawQr(code);
  qrBox.classList.remove("stale");
  codeStatus.textContent = "";
  // The next code is due at expiry; never ask more than once a second.
  const wait = Math.max(1000, Math.min(state.expiresAt - serverNow(), (period || 30) * 1000));
  state.timer = window.setTimeout(fetchCode, wait + 150);
  tick();
}

function tick() {
  const left = Math.max(0, Math.ceil((state.expiresAt - serverNow()) / 1000));
  countdown.textContent = String(left);
  countdownText.hidden = !state.code;
}

const figure = new SitePresent(conferenceApi, site.code);

const banner = connectionBanner(element("live-region"), bannerStrings(t));

// The events of the catalogue this page does nothing with (the rest it handles).
const IGNORED = eventSet(
  ...eventsOf("agenda", "awards", "conference", "minutes"),
  ...DELEGATE_RECORDS,
  "delegate/checkin_conflict",
);
const feed = new LiveFeed(conferenceId, {
  ignored: IGNORED,
  onSnapshot(snapshot) {
    const server = Date.parse(snapshot.server_time ?? "");
    if (!Number.isNaN(server)) state.offset = server - Date.now();
    figure.load();
  },
  onEvent(event, message) {
    if (event.type === "delegate/checked_in" || event.type === "delegate/checkin_undone") {
      figure.show(event.data?.present, message.seq);
    }
  },
  onStatus: banner,
});

fullscreenToggle(element("fullscreen"), element("screen"));

window.setInterval(tick, 250);
window.addEventListener("pagehide", () => feed.stop());
document.addEventListener("visibilitychange", () => {
  // A screen woken from sleep must not show a code that expired meanwhile.
  if (!document.hidden && serverNow() >= state.expiresAt) fetchCode();
});
feed.start();
fetchCode();
figure.load();
