// Shared by every page: its data and strings, the JSON API, form errors, announcements.

const dataElement = document.getElementById("page-data");
export const page = dataElement ? JSON.parse(dataElement.textContent) : { strings: {} };

/** The page's string for key, with {name} placeholders filled from values. */
export function t(key, values = {}) {
  const text = page.strings[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) =>
    Object.hasOwn(values, name) ? String(values[name]) : whole,
  );
}

/** 10/12/2026 in Vietnamese, 2026-12-10 in English (as the server writes them). */
export function formatDate(iso) {
  if (typeof iso !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(iso)) return String(iso ?? "");
  if (page.lang !== "vi") return iso;
  const [year, month, day] = iso.split("-");
  return `${day}/${month}/${year}`;
}

export function formatDates(start, end) {
  if (start === end) return formatDate(start);
  return t("js.dates.range", { start: formatDate(start), end: formatDate(end) });
}

export function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]')?.content ?? "";
}

/** Say message to screen readers (and nothing visible). */
export function announce(message) {
  const region = document.getElementById("announcer");
  if (!region) return;
  region.textContent = "";
  // A fresh text node after a tick is announced even when the text repeats.
  window.setTimeout(() => {
    region.textContent = message;
  }, 50);
}

/**
 * Call the JSON API with the session's CSRF token.
 * Resolves to {ok, status, data, error}; error is the API's {code, message, field, details}.
 */
export async function api(method, url, body) {
  const headers = { Accept: "application/json", "X-CSRF-Token": csrfToken() };
  const init = { method, headers, credentials: "same-origin" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch {
    return { ok: false, status: 0, data: null, error: { code: "network", message: "" } };
  }
  let data = null;
  if ((response.headers.get("Content-Type") ?? "").includes("application/json")) {
    data = await response.json().catch(() => null);
  }
  if (response.ok) return { ok: true, status: response.status, data, error: null };
  const error = data?.error ?? { code: "unknown_error", message: response.statusText };
  return { ok: false, status: response.status, data, error };
}
