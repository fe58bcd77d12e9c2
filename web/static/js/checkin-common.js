// Shared by the check-in pages: why a check-in was refused, in plain words, the delegate's
// line, and the camera.

import { page, t } from "./page.js";
import { formatTime } from "./lib/format.js";
import { Scanner } from "./scanner.js";

const REFUSALS = {
  credential_forged: "js.checkin.refused.credential_forged",
  credential_malformed: "js.checkin.refused.credential_malformed",
  credential_expired: "js.checkin.refused.credential_expired",
  credential_revoked: "js.checkin.refused.credential_revoked",
  credential_other_conference: "js.checkin.refused.credential_other_conference",
  delegate_other_site: "js.checkin.refused.delegate_other_site",
  site_code_required: "js.checkin.refused.site_code_required",
  site_code_expired: "js.checkin.refused.site_code_expired",
  site_code_other_conference: "js.checkin.refused.site_code_other_conference",
  site_code_invalid: "js.checkin.refused.site_code_invalid",
  not_found: "js.checkin.refused.not_found",
  forbidden: "js.error.forbidden",
  unauthorized: "js.error.login",
  csrf_failed: "js.error.login",
};

/** Where and when someone was already admitted, from an error's or a result's details. */
export function alreadyText(details) {
  const where = details?.site_name || details?.site || "";
  const time = formatTime(details?.at);
  return t("js.checkin.already", { site: where, time });
}

/** The plain-words reason for an API error {code, message, details} (or a batch result). */
export function refusalText(error, retryAfter = null) {
  const code = error?.code ?? "";
  if (code === "already_checked_in") return alreadyText(error.details ?? error);
  if (code === "rate_limited") {
    return t("js.checkin.refused.rate_limited", { seconds: retryAfter ?? 5 });
  }
  if (code === "network") return t("js.error.network");
  const key = REFUSALS[code];
  if (key) {
    const details = error?.details ?? {};
    const site = details.site_name || details.site || details.delegate?.site || "";
    return site && code === "delegate_other_site"
      ? t("js.checkin.refused.delegate_other_site_named", { site })
      : t(key);
  }
  return t("js.checkin.refused.other", { message: error?.message || code || "?" });
}

/** "Chủ tịch · Văn phòng Tỉnh ủy": a delegate's title and unit on one line. */
export function delegateLine(delegate) {
  return [delegate?.title, delegate?.unit].filter(Boolean).join(" · ");
}

/** The site's name for a code, from the names the page knows. */
export function siteName(code) {
  return page.siteNames?.[code] ?? code ?? "";
}

/**
 * A camera scanner behind a start/stop button, with its status line: the operator's page
 * and the delegate's page share it. Labels are catalogue keys.
 */
export function cameraToggle({ video, button, box, status, decoder, onCode, startKey, runningKey }) {
  const scanner = new Scanner(video, {
    decoder,
    onCode,
    onState(state, error) {
      const running = state === "running";
      button.textContent = t(running ? "js.camera.stop" : startKey);
      box.hidden = !running;
      if (state === "error") status.textContent = t(`js.camera.error.${error?.reason ?? "failed"}`);
      else status.textContent = running ? t(runningKey) : "";
    },
  });
  button.addEventListener("click", async () => {
    if (scanner.running) {
      scanner.stop();
      return;
    }
    status.textContent = t("js.camera.starting");
    try {
      await scanner.start();
    } catch (error) {
      scanner.onState("error", error);
    }
  });
  return scanner;
}
