// Shared by the check-in pages: requests with a time limit, times in the conference's time zone,
// counts, and why a check-in was refused, in plain words.

import { csrfToken, page, t } from "./page.js";
import { Scanner } from "./scanner.js";

// Statuses that mean the server was not reached (or is restarting): worth queueing.
const UNREACHABLE = new Set([0, 502, 503, 504]);

/**
 * page.js api() with a time limit: a phone on a dead network must not wait for minutes.
 * Resolves to {ok, status, data, error, retryAfter, unreachable}.
 */
export async function request(method, url, body, timeoutMs = 10000) {
  const headers = { Accept: "application/json", "X-CSRF-Token": csrfToken() };
  const init = { method, headers, credentials: "same-origin" };
  if (typeof AbortSignal.timeout === "function") init.signal = AbortSignal.timeout(timeoutMs);
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch {
    const error = { code: "network", message: "" };
    return { ok: false, status: 0, data: null, error, retryAfter: null, unreachable: true };
  }
  let data = null;
  if ((response.headers.get("Content-Type") ?? "").includes("application/json")) {
    data = await response.json().catch(() => null);
  }
  const unreachable = UNREACHABLE.has(response.status);
  if (response.ok) return { ok: true, status: response.status, data, error: null, unreachable };
  const error = data?.error ?? {
    code: unreachable ? "network" : "unknown_error",
    message: response.statusText,
  };
  const retryAfter = Number(response.headers.get("Retry-After")) || null;
  return { ok: false, status: response.status, data, error, retryAfter, unreachable };
}

const LOCALE = page.lang === "vi" ? "vi-VN" : "en-GB";
const numbers = new Intl.NumberFormat(LOCALE);
const percents = new Intl.NumberFormat(LOCALE, { style: "percent", maximumFractionDigits: 0 });

function timeFormat() {
  try {
    return new Intl.DateTimeFormat(LOCALE, {
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
      timeZone: page.timezone || undefined,
    });
  } catch {
    // An unknown zone in an old browser: the phone's own.
    return new Intl.DateTimeFormat(LOCALE, {
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
  }
}

const times = timeFormat();

/** 14:05 in the conference's time zone ("" for no time). */
export function formatTime(iso) {
  const when = iso ? new Date(iso) : null;
  return when && !Number.isNaN(when.getTime()) ? times.format(when) : "";
}

export function formatNumber(value) {
  return numbers.format(Number(value) || 0);
}

/** 61 % of expected, or "" when nobody is expected. */
export function formatPercent(part, whole) {
  return whole > 0 ? percents.format(part / whole) : "";
}

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
