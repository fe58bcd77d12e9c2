// How the award documents look: the place and heading printed, the emblem, the kinds of
// award, and the template files an organizer replaces (each tried on samples by the server
// before it is kept; a broken one is refused with the reason).

import { announce, api, page, t } from "./page.js";
import { changedFields, clearErrors, loadForm, readForm, showErrors, submitting } from "./forms.js";
import {
  base,
  confirmAction,
  failure,
  fieldMessage,
  formError,
  formatMoment,
  openDialog,
  sendRaw,
} from "./awards-common.js";

const options = { onKinds: () => {} };
let kinds = page.kinds ?? [];

// --- place and heading -------------------------------------------------------------------------

const settingsForm = document.getElementById("document-settings");
const MAX_HEADING_LINES = 4;

function headingLines(text) {
  return text.split(/\r?\n/).filter((line) => line.trim()).length;
}

settingsForm.addEventListener("submit", (event) => {
  event.preventDefault();
  submitting(settingsForm, async () => {
    clearErrors(settingsForm);
    const values = readForm(settingsForm, ["place", "heading"]);
    if (headingLines(values.heading) > MAX_HEADING_LINES) {
      showErrors(settingsForm, { code: "invalid_input", field: "heading", message: "" });
      fieldMessage(settingsForm, "heading", t("js.awards.settings.heading_lines"));
      return "";
    }
    const { ok, status, data, error } = await api("PUT", `${base}/settings`, values);
    if (!ok) {
      showErrors(settingsForm, error, status);
      if (/4 lines/.test(JSON.stringify(error.details ?? error.message))) {
        fieldMessage(settingsForm, "heading", t("js.awards.settings.heading_lines"));
      }
      return "";
    }
    settingsForm.elements.place.value = data.place;
    settingsForm.elements.heading.value = data.heading;
    const message = t("js.awards.settings.saved");
    announce(message);
    return message;
  });
});

// --- the emblem --------------------------------------------------------------------------------

const emblemForm = document.getElementById("emblem-form");
const emblemInput = document.getElementById("emblem-form-emblem");
const preview = document.getElementById("emblem-preview");
const noEmblem = document.getElementById("emblem-none");
const removeEmblem = document.getElementById("emblem-remove");

function showEmblem(present) {
  if (present) preview.src = `${base}/emblem?seen=${Date.now()}`;
  else preview.removeAttribute("src");
  preview.hidden = !present;
  noEmblem.hidden = present;
  removeEmblem.hidden = !present;
}

emblemForm.addEventListener("submit", (event) => {
  event.preventDefault();
  submitting(emblemForm, async () => {
    clearErrors(emblemForm);
    const file = emblemInput.files?.[0];
    if (!file) {
      showErrors(emblemForm, { code: "invalid_input", field: "emblem", message: "" });
      fieldMessage(emblemForm, "emblem", t("js.awards.emblem.no_file"));
      return "";
    }
    const type = file.type || "application/octet-stream";
    const { ok, status, error } = await sendRaw("PUT", `${base}/emblem`, file, type);
    if (!ok) {
      showErrors(emblemForm, { ...error, field: "emblem" }, status);
      fieldMessage(emblemForm, "emblem", t("js.awards.emblem.refused", { message: error.message }));
      return "";
    }
    emblemInput.value = "";
    showEmblem(true);
    const message = t("js.awards.emblem.saved");
    announce(message);
    return message;
  });
});

removeEmblem.addEventListener("click", () => {
  confirmAction({
    title: t("js.awards.emblem.remove_title"),
    text: t("js.awards.emblem.remove_text"),
    submit: t("js.awards.emblem.remove"),
    opener: removeEmblem,
    fallback: () => emblemInput.focus(),
    run: async () => {
      const { ok, status, error } = await api("DELETE", `${base}/emblem`);
      if (!ok) return failure(error, status);
      showEmblem(false);
      announce(t("js.awards.emblem.removed"));
      return "";
    },
  });
});

// --- kinds of award ----------------------------------------------------------------------------

const kindsBody = document.getElementById("kinds-body");
const kindsHeading = document.getElementById("kinds-heading");
const addKind = document.getElementById("add-kind");
const editKindDialog = document.getElementById("edit-kind-dialog");
const editKind = document.getElementById("edit-kind");
const KIND_FIELDS = ["name", "label", "layout"];
let editing = null;

function cell(tag, label, text) {
  const el = document.createElement(tag);
  if (tag === "th") el.scope = "row";
  el.dataset.label = label;
  el.textContent = text ?? "";
  return el;
}

function kindButton(text, action, kind, danger = false) {
  const el = document.createElement("button");
  el.type = "button";
  el.className = danger ? "button-danger" : "button-secondary";
  el.dataset.action = action;
  el.dataset.key = kind.key;
  el.textContent = text;
  el.setAttribute("aria-label", `${text}: ${kind.name}`);
  return el;
}

function drawKinds(refocus = null) {
  const heads = kindsBody.closest("table").tHead.rows[0].cells;
  const label = (i) => heads[i].textContent;
  kindsBody.replaceChildren(
    ...kinds.map((kind) => {
      const tr = document.createElement("tr");
      tr.dataset.key = kind.key;
      const actions = cell("td", label(4), "");
      actions.className = "actions";
      if (kind.builtin) {
        actions.textContent = t("js.awards.kind.builtin");
      } else {
        actions.append(
          kindButton(t("js.awards.kind.edit"), "edit", kind),
          kindButton(t("js.awards.kind.remove"), "remove", kind, true),
        );
      }
      tr.append(
        cell("th", label(0), kind.name),
        cell("td", label(1), kind.key),
        cell("td", label(2), kind.label),
        cell("td", label(3), t(`js.awards.layout.${kind.layout}`)),
        actions,
      );
      return tr;
    }),
  );
  if (refocus) {
    const again = kindsBody.querySelector(
      `button[data-key="${CSS.escape(refocus.key)}"][data-action="${refocus.action}"]`,
    );
    (again ?? kindsHeading).focus();
  }
}

async function reloadKinds(refocus = null) {
  const { ok, data } = await api("GET", `${base}/kinds`);
  if (!ok) return;
  kinds = data.kinds;
  drawKinds(refocus);
  options.onKinds(kinds);
}

function kindErrors(form, error, status) {
  showErrors(form, error, status);
  if (error.code === "conflict" && error.field === "key") {
    fieldMessage(form, "key", t("js.awards.kind.key_taken"));
  } else if (/lower-case letters/.test(JSON.stringify(error.details ?? error.message))) {
    fieldMessage(form, "key", t("js.awards.kind.key_rule"));
  }
}

addKind.addEventListener("submit", (event) => {
  event.preventDefault();
  submitting(addKind, async () => {
    clearErrors(addKind);
    const values = readForm(addKind, ["key", "name", "label", "layout"]);
    values.key = values.key.trim();
    const { ok, status, data, error } = await api("POST", `${base}/kinds`, values);
    if (!ok) {
      kindErrors(addKind, error, status);
      return "";
    }
    for (const name of ["key", "name", "label"]) addKind.elements[name].value = "";
    await reloadKinds();
    const message = t("js.awards.kind.added", { name: data.name });
    announce(message);
    return message;
  });
});

editKind.addEventListener("submit", async (event) => {
  event.preventDefault();
  const changed = changedFields(editKind);
  if (!editing || changed.length === 0) {
    editKindDialog.close();
    return;
  }
  const key = editing.key;
  const values = readForm(editKind, changed);
  const url = `${base}/kinds/${encodeURIComponent(key)}`;
  const { ok, status, data, error } = await api("PATCH", url, values);
  if (!ok) {
    kindErrors(editKind, error, status);
    return;
  }
  editKindDialog.close();
  announce(t("js.awards.kind.saved", { name: data.name }));
  await reloadKinds({ key, action: "edit" });
});

kindsBody.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  const kind = button && kinds.find((k) => k.key === button.dataset.key);
  if (!kind) return;
  if (button.dataset.action === "edit") {
    editing = kind;
    clearErrors(editKind);
    loadForm(editKind, kind, KIND_FIELDS);
    openDialog(editKindDialog, button, () => kindsHeading.focus());
    editKind.elements.name.focus();
    return;
  }
  confirmAction({
    title: t("js.awards.kind.remove_title"),
    text: t("js.awards.kind.remove_text", { name: kind.name }),
    submit: t("js.awards.kind.remove"),
    opener: button,
    fallback: () => kindsHeading.focus(),
    run: async () => {
      const url = `${base}/kinds/${encodeURIComponent(kind.key)}`;
      const { ok, status, error } = await api("DELETE", url);
      if (status === 409) return t("js.awards.kind.in_use", { name: kind.name });
      if (!ok) return failure(error, status);
      announce(t("js.awards.kind.removed", { name: kind.name }));
      await reloadKinds();
      return "";
    },
  });
});

// --- template files ----------------------------------------------------------------------------

const templateList = document.getElementById("templates");
const templatesStatus = document.getElementById("templates-status");
const templatesError = document.getElementById("templates-error");
const templatesHeading = document.getElementById("templates-heading");
let templates = [];

function templateState(item) {
  if (!item.replaced) return t("js.awards.template.shipped");
  return t("js.awards.template.replaced_by", {
    who: item.updated_by || "?",
    ...formatMoment(item.updated_at),
  });
}

function templateItem(item) {
  const li = document.createElement("li");
  li.className = "template-item";
  li.dataset.name = item.name;
  const head = document.createElement("p");
  head.className = "template-name";
  const name = document.createElement("code");
  name.textContent = item.name;
  const state = document.createElement("span");
  state.className = item.replaced ? "template-state is-replaced" : "template-state";
  state.textContent = templateState(item);
  head.append(name, " ", state);
  const actions = document.createElement("div");
  actions.className = "buttons";
  const download = document.createElement("a");
  download.className = "button-secondary";
  download.href = `${base}/templates/${encodeURIComponent(item.name)}`;
  download.download = item.name;
  download.textContent = t("js.awards.template.download");
  download.setAttribute("aria-label", `${download.textContent}: ${item.name}`);
  // A file chooser inside a button-like label: the input itself covers it (to be reached
  // by keyboard and touch) but is not seen.
  const replace = document.createElement("label");
  replace.className = "button-secondary file-button";
  const input = document.createElement("input");
  input.type = "file";
  input.dataset.action = "replace";
  input.dataset.name = item.name;
  input.accept = ".html,.css,.svg,text/html,text/css,image/svg+xml";
  replace.append(t("js.awards.template.replace"), input);
  input.setAttribute("aria-label", `${t("js.awards.template.replace")}: ${item.name}`);
  actions.append(download, replace);
  if (item.replaced) {
    const reset = document.createElement("button");
    reset.type = "button";
    reset.className = "button-danger";
    reset.dataset.action = "reset";
    reset.dataset.name = item.name;
    reset.textContent = t("js.awards.template.reset");
    reset.setAttribute("aria-label", `${reset.textContent}: ${item.name}`);
    actions.append(reset);
  }
  li.append(head, actions);
  return li;
}

async function reloadTemplates(refocus = null) {
  const { ok, status, data, error } = await api("GET", `${base}/templates`);
  if (!ok) {
    templatesError.textContent = failure(error, status);
    templatesError.hidden = false;
    return;
  }
  templates = data.templates;
  templateList.replaceChildren(...templates.map(templateItem));
  if (refocus) {
    const selector = `[data-name="${CSS.escape(refocus.name)}"][data-action="${refocus.action}"]`;
    (templateList.querySelector(selector) ?? templatesHeading).focus();
  }
}

function templateMessage(message, isError) {
  templatesError.hidden = !isError;
  templatesError.textContent = isError ? message : "";
  templatesStatus.textContent = isError ? "" : message;
  if (isError) announce(message);
}

templateList.addEventListener("change", async (event) => {
  const input = event.target.closest('input[data-action="replace"]');
  const file = input?.files?.[0];
  if (!file) return;
  const name = input.dataset.name;
  templateMessage(t("js.awards.template.trying", { name }), false);
  const url = `${base}/templates/${encodeURIComponent(name)}`;
  const { ok, status, error } = await sendRaw("PUT", url, file, "text/plain; charset=utf-8");
  input.value = "";
  if (!ok) {
    const message =
      status === 422
        ? t("js.awards.template.refused", { name, message: error.message })
        : failure(error, status);
    templateMessage(message, true);
    input.focus();
    return;
  }
  templateMessage(t("js.awards.template.replaced", { name }), false);
  await reloadTemplates({ name, action: "replace" });
});

templateList.addEventListener("click", (event) => {
  const button = event.target.closest('button[data-action="reset"]');
  if (!button) return;
  const name = button.dataset.name;
  confirmAction({
    title: t("js.awards.template.reset_title"),
    text: t("js.awards.template.reset_text", { name }),
    submit: t("js.awards.template.reset"),
    opener: button,
    fallback: () => {
      const selector = `input[data-name="${CSS.escape(name)}"][data-action="replace"]`;
      (templateList.querySelector(selector) ?? templatesHeading).focus();
    },
    run: async () => {
      const { ok, status, error } = await api(
        "DELETE",
        `${base}/templates/${encodeURIComponent(name)}`,
      );
      if (!ok) return failure(error, status);
      templateMessage(t("js.awards.template.reset_done", { name }), false);
      await reloadTemplates();
      return "";
    },
  });
});

/** Start: onKinds(kinds) runs whenever the kinds change. */
export function setupSettings({ onKinds }) {
  options.onKinds = onKinds;
  showEmblem(Boolean(page.emblem));
  drawKinds();
  reloadTemplates();
}

export function currentKinds() {
  return kinds;
}
