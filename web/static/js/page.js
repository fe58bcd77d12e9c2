// Shared by every page: its data and strings, the JSON API, announcements.

import { request } from "./lib/http.js";

const dataElement = document.getElementById("page-data");
export const page = dataElement ? JSON.parse(dataElement.textContent) : { strings: {} };

/** The API path of the page's conference ("" on a page of none). */
export const conferenceApi = page.conference
  ? `/api/v1/conferences/${encodeURIComponent(page.conference.id)}`
  : "";

/** The page's string for key, with {name} placeholders filled from values. */
/** The page's element with this id. */
export const element = (id) => document.getElementById(id);

export function t(key, values = {}) {
  const text = page.strings[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) =>
    Object.hasOwn(values, name) ? String(values[name]) : whole,
  );
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

/** The JSON API without a time limit (lib/http.js request). */
export function api(method, url, body) {
  return request(method, url, body, null);
}
