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
