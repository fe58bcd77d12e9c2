// Forms that talk to the JSON API: reading values, showing the API's errors by each field.

import { t } from "./page.js";

// Each entry of an API error's details carries pydantic's error type, which names the
// rule that failed whatever the wording; the page says it in its own language.
const BY_TYPE = {
  missing: "js.error.required",
  string_too_long: "js.error.too_long",
  date_type: "js.error.date",
  date_parsing: "js.error.date",
  date_from_datetime_parsing: "js.error.date",
  date_from_datetime_inexact: "js.error.date",
  int_type: "js.error.number",
  int_parsing: "js.error.number",
  int_from_float: "js.error.number",
  greater_than: "js.error.number",
  greater_than_equal: "js.error.number",
  less_than: "js.error.too_large",
  less_than_equal: "js.error.too_large",
  literal_error: "js.error.choice",
  extra_forbidden: "js.error.unknown_field",
};

// The project's own rules (type value_error) and a service's errors naming a field
// (no type) tell only in their English text which rule it was (conference/schemas.py).
const MESSAGES = [
  [/required|must not be empty|may not be null/i, "js.error.required"],
  [/ends_on is before starts_on/i, "js.error.date_order"],
  [/time zone/i, "js.error.timezone"],
  [/email/i, "js.error.email"],
  [/phone/i, "js.error.phone"],
  [/site code/i, "js.error.site_code"],
];

const CONFLICTS = { code: "js.error.code_taken", kind: "js.error.main_taken" };

function localMessage(code, field, problem) {
  if (code === "conflict" && CONFLICTS[field]) return t(CONFLICTS[field]);
  if (Object.hasOwn(BY_TYPE, problem.type)) return t(BY_TYPE[problem.type]);
  const message = String(problem.message ?? "");
  for (const [pattern, key] of MESSAGES) {
    if (pattern.test(message)) return t(key);
  }
  return t("js.error.invalid", { message });
}

function formLevelMessage(error, status) {
  if (error.code === "network") return t("js.error.network");
  if (status === 401) return t("js.error.login");
  if (status === 403) return t("js.error.forbidden");
  if (status === 404) return t("js.error.not_found");
  return t("js.error.generic", { message: error.message });
}

function control(form, name) {
  const found = form.elements.namedItem(name);
  return found instanceof Element ? found : null;
}

function describedBy(input, id, add) {
  const ids = (input.getAttribute("aria-describedby") ?? "").split(/\s+/).filter(Boolean);
  const next = add ? [...new Set([...ids, id])] : ids.filter((x) => x !== id);
  if (next.length) input.setAttribute("aria-describedby", next.join(" "));
  else input.removeAttribute("aria-describedby");
}

function showFormError(form, message) {
  const box = document.getElementById(`${form.id}-error`);
  if (!box) return;
  box.textContent = message;
  box.hidden = false;
}

function showFieldError(form, name, message) {
  const input = control(form, name);
  const box = document.getElementById(`${form.id}-${name}-error`);
  if (!input || !box) return false;
  box.textContent = message;
  box.hidden = false;
  input.setAttribute("aria-invalid", "true");
  describedBy(input, box.id, true);
  return true;
}

function firstMentioned(names, message) {
  let best = null;
  let at = Infinity;
  for (const name of names) {
    const found = message.search(new RegExp(`\\b${name}\\b`));
    if (found >= 0 && found < at) [best, at] = [name, found];
  }
  return best;
}

/** Remove every error shown on form. */
export function clearErrors(form) {
  for (const box of form.querySelectorAll(".field-error, .form-error")) {
    box.textContent = "";
    box.hidden = true;
  }
  for (const input of form.querySelectorAll("[aria-invalid]")) {
    input.removeAttribute("aria-invalid");
    describedBy(input, `${form.id}-${input.name}-error`, false);
  }
}

/** Show an API error ({code, message, field, details}) next to the fields it names. */
export function showErrors(form, error, status = 0) {
  clearErrors(form);
  const problems = Array.isArray(error.details)
    ? error.details.filter((p) => p && typeof p.field === "string")
    : error.field
      ? [{ field: error.field, message: error.message }]
      : [];
  const names = [...form.elements].map((el) => el.name).filter(Boolean);
  let first = null;
  for (const problem of problems) {
    // A rule over several fields names none; the message does ("ends_on is before...").
    const name = names.includes(problem.field)
      ? problem.field
      : firstMentioned(names, problem.message);
    const message = localMessage(error.code, name, problem);
    if (name && showFieldError(form, name, message)) first ??= control(form, name);
  }
  if (first) {
    showFormError(form, t("js.error.summary"));
    first.focus();
  } else {
    showFormError(form, formLevelMessage(error, status));
  }
}

/** Mark fields the browser could not even parse (a number field holding "abc"). */
export function checkParsable(form) {
  clearErrors(form);
  let first = null;
  for (const input of form.querySelectorAll("input[type=number]")) {
    if (input.validity.badInput && showFieldError(form, input.name, t("js.error.number"))) {
      first ??= input;
    }
  }
  if (first) {
    showFormError(form, t("js.error.summary"));
    first.focus();
  }
  return first === null;
}

/** The values of form's named fields: kinds maps a name to "int" or "bool" (else text). */
export function readForm(form, names, kinds = {}) {
  const values = {};
  for (const name of names) {
    const input = control(form, name);
    if (!input) continue;
    if (kinds[name] === "bool") {
      values[name] = input.checked;
    } else if (kinds[name] === "int") {
      const raw = input.value.trim();
      values[name] = raw === "" ? 0 : /^-?\d+$/.test(raw) ? Number(raw) : raw;
    } else {
      values[name] = input.value;
    }
  }
  return values;
}

/** Put values into form's fields. */
export function fillForm(form, values) {
  for (const [name, value] of Object.entries(values)) {
    const input = control(form, name);
    if (!input) continue;
    if (input.type === "checkbox") input.checked = Boolean(value);
    else input.value = value ?? "";
  }
}

/** Run save while the form shows it is busy; the status line says what happened. */
export async function submitting(form, save) {
  const button = form.querySelector('button[type="submit"]');
  const status = form.querySelector(".form-status");
  if (button) button.disabled = true;
  if (status) status.textContent = t("js.saving");
  try {
    const message = await save();
    if (status) status.textContent = message ?? "";
  } finally {
    if (button) button.disabled = false;
  }
}

// --- editing a record others may change at the same time ----------------------------------
//
// An edit form remembers, per field, the value it was loaded with (the record as this page
// last knew it). Only fields whose value differs from that are sent, so a save never writes
// back a field the person did not change. A newer version of the record (a live event)
// moves the fields the person has not changed; a field they changed that someone else
// changed too keeps their value and gets a notice saying what the other value is.

const loaded = new WeakMap();

function valueOf(input) {
  return input.type === "checkbox" ? input.checked : input.value;
}

function asValue(input, value) {
  return input.type === "checkbox" ? Boolean(value) : String(value ?? "");
}

function setValue(input, value) {
  if (input.type === "checkbox") input.checked = Boolean(value);
  else input.value = value ?? "";
}

function noticeBox(form, name, create = false) {
  const id = `${form.id}-${name}-notice`;
  let box = document.getElementById(id);
  if (box || !create) return box;
  const input = control(form, name);
  const field = input?.closest(".field");
  if (!field) return null;
  // Present (empty) from the start, so screen readers announce what is put in it.
  box = document.createElement("div");
  box.id = id;
  box.className = "field-notice";
  box.setAttribute("role", "status");
  box.setAttribute("aria-live", "polite");
  box.style.gridColumn = "1 / -1";
  field.append(box);
  return box;
}

function showNotice(form, name, message) {
  const box = noticeBox(form, name, true);
  const input = control(form, name);
  if (!box || !input) return;
  const text = document.createElement("p");
  text.className = "notice";
  text.textContent = message;
  box.replaceChildren(text);
  describedBy(input, box.id, true);
}

function hideNotice(form, name) {
  const box = noticeBox(form, name);
  if (!box) return;
  box.replaceChildren();
  const input = control(form, name);
  if (input) describedBy(input, box.id, false);
}

/** Remove every "someone else changed this" notice shown on form. */
export function clearNotices(form) {
  for (const name of loaded.get(form)?.keys() ?? []) hideNotice(form, name);
}

/**
 * Put record's values into form's fields (names) and remember them as the loaded values.
 * A field changed back to what someone else saved loses its notice.
 */
export function loadForm(form, record, names) {
  const known = new Map();
  for (const name of names) {
    const input = control(form, name);
    if (!input) continue;
    setValue(input, record[name]);
    known.set(name, valueOf(input));
    noticeBox(form, name, true);
  }
  if (!loaded.has(form)) {
    form.addEventListener("input", (e) => {
      const name = e.target?.name;
      const values = loaded.get(form);
      const input = name && control(form, name);
      if (input && values?.has(name) && valueOf(input) === values.get(name)) {
        hideNotice(form, name);
      }
    });
  }
  loaded.set(form, known);
  clearNotices(form);
}

/** The names of form's fields whose value differs from the one they were loaded with. */
export function changedFields(form) {
  const changed = [];
  for (const [name, value] of loaded.get(form) ?? []) {
    const input = control(form, name);
    if (input && valueOf(input) !== value) changed.push(name);
  }
  return changed;
}

/**
 * A newer version of the record form was loaded with. Fields the person has not changed
 * take the new values; a field they changed that the new version changes differently keeps
 * their value and shows a notice (show(name, value) words the other value).
 */
export function refreshForm(form, record, show = (name, value) => String(value ?? "")) {
  const known = loaded.get(form);
  if (!known) return;
  for (const [name, before] of known) {
    const input = control(form, name);
    if (!input || !Object.hasOwn(record, name)) continue;
    const theirs = asValue(input, record[name]);
    if (theirs === before) continue;
    const mine = valueOf(input);
    if (mine === before) {
      setValue(input, record[name]);
      known.set(name, valueOf(input));
      hideNotice(form, name);
      continue;
    }
    known.set(name, theirs);
    if (mine === theirs) {
      hideNotice(form, name);
    } else if (theirs === "") {
      showNotice(form, name, t("js.form.cleared_elsewhere"));
    } else {
      showNotice(form, name, t("js.form.changed_elsewhere", { value: show(name, record[name]) }));
    }
  }
}
