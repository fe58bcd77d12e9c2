// The one HTTP client of the pages: JSON in and out, the CSRF token, a time limit, and the
// answer in one shape whatever happened.

export function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]')?.content ?? "";
}

// Statuses that mean the server was not reached (or is restarting): worth queueing.
const UNREACHABLE = new Set([0, 502, 503, 504]);

/**
 * Call the JSON API with the session's CSRF token, within timeoutMs (null: no limit): a
 * phone on a dead network must not wait for minutes. Resolves to {ok, status, data,
 * error, retryAfter, unreachable}; error is the API's {code, message, field, details}.
 */
export function request(method, url, body, timeoutMs = 10000) {
  const json = body === undefined ? undefined : JSON.stringify(body);
  return send(method, url, json, "application/json", timeoutMs);
}

/** Send a file (or text) as the raw body, answered as request() is. */
export function sendRaw(method, url, body, contentType, timeoutMs = null) {
  return send(method, url, body, contentType, timeoutMs);
}

async function send(method, url, body, contentType, timeoutMs) {
  const headers = { Accept: "application/json", "X-CSRF-Token": csrfToken() };
  const init = { method, headers, credentials: "same-origin" };
  if (timeoutMs !== null && typeof AbortSignal.timeout === "function") {
    init.signal = AbortSignal.timeout(timeoutMs);
  }
  if (body !== undefined) {
    headers["Content-Type"] = contentType;
    init.body = body;
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
