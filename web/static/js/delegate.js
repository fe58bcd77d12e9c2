// The delegate's personal page: scan the hall screen's rotating code to check in.

import { page, t } from "./page.js";
import { newNonce } from "./checkin-queue.js";
import { cameraToggle, formatTime, refusalText, request } from "./checkin-common.js";

const element = (id) => document.getElementById(id);
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
