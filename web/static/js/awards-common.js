// Shared by the awards page's modules: where the API is, template parts, times, dialogs.

import { announce, conferenceApi, page, t } from "./page.js";
import { DAY_AND_TIME, formatDate, zoneFormat } from "./lib/format.js";

export const cid = page.conference.id;
export const base = `${conferenceApi}/awards`;
export const documentsBase = `${conferenceApi}/documents`;

/** The element of a cloned template marked data-part=name. */
export function part(element, name) {
  return element.querySelector(`[data-part="${name}"]`);
}

/** A fresh copy of the <template id=id>'s first element. */
export function clone(id) {
  return document.getElementById(id).content.firstElementChild.cloneNode(true);
}

const moments = zoneFormat("en-GB", DAY_AND_TIME);

/**
 * An ISO time as the conference's clock shows it: {day, time}, the day written as the
 * server writes days (10/12/2026 in Vietnamese, 2026-12-10 in English).
 */
export function formatMoment(iso) {
  const when = Date.parse(iso ?? "");
  if (Number.isNaN(when)) return { day: "", time: "" };
  const parts = Object.fromEntries(moments.formatToParts(when).map((p) => [p.type, p.value]));
  return {
    day: formatDate(`${parts.year}-${parts.month}-${parts.day}`),
    time: `${parts.hour}:${parts.minute}`,
  };
}

/** Why an API call failed, in the page's words where the reason is general. */
export function reason(error, status) {
  if (status === 0 || error?.code === "network") return t("js.error.network");
  if (status === 401) return t("js.error.login");
  if (status === 403) return t("js.error.forbidden");
  if (status === 404) return t("js.error.not_found");
  return error?.message || String(status);
}

/** A sentence saying a step failed, and why. */
export function failure(error, status) {
  return t("js.awards.failed", { message: reason(error, status) });
}

/** Show message in a form's error box (role=alert) and say it. */
export function formError(form, message) {
  const box = document.getElementById(`${form.id}-error`);
  if (!box) return;
  box.textContent = message;
  box.hidden = !message;
  if (message) announce(message);
}

/** A field's error box with message in it (after forms.showErrors filled it in English). */
export function fieldMessage(form, name, message) {
  const box = document.getElementById(`${form.id}-${name}-error`);
  if (box && !box.hidden) box.textContent = message;
}

/** Open dialog from opener; when it closes, focus goes back (or to fallback()). */
export function openDialog(dialog, opener, fallback) {
  dialog.addEventListener(
    "close",
    () => {
      if (opener?.isConnected) opener.focus();
      else fallback?.();
    },
    { once: true },
  );
  dialog.showModal();
}

for (const dialog of document.querySelectorAll("dialog")) {
  dialog.addEventListener("click", (event) => {
    if (event.target.closest('[data-action="close"]')) dialog.close();
  });
}

// --- one confirmation dialog for the page's irreversible steps ------------------------------

const confirmDialog = document.getElementById("confirm-dialog");
const confirmForm = document.getElementById("confirm-action");
let confirming = null;

/**
 * Ask before doing something: run() resolves to "" when done (the dialog closes) or to a
 * message saying why not (shown in the dialog).
 */
export function confirmAction({ title, text, submit, run, opener, fallback }) {
  confirming = run;
  formError(confirmForm, "");
  document.getElementById("confirm-heading").textContent = title;
  document.getElementById("confirm-text").textContent = text;
  document.getElementById("confirm-submit").textContent = submit;
  openDialog(confirmDialog, opener, fallback);
}

confirmForm?.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!confirming) return;
  const button = document.getElementById("confirm-submit");
  button.disabled = true;
  try {
    const problem = await confirming();
    if (problem) formError(confirmForm, problem);
    else confirmDialog.close();
  } finally {
    button.disabled = false;
  }
});

export { sendRaw } from "./lib/http.js";
