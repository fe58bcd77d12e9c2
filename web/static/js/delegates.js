// The delegates page: search and page through the list; organizers add, change, remove,
// reissue personal links and import a CSV or XLSX list (dry run first).

import { announce, api, conferenceApi, page, t } from "./page.js";
import { changedFields, clearErrors, loadForm, readForm, showErrors, submitting } from "./forms.js";
import { SpreadsheetImport, chosenFile } from "./import-report.js";

const base = `${conferenceApi}/delegates`;
const FIELDS = ["name", "title", "unit", "site", "category", "phone", "email"];
const siteNames = new Map(page.sites.map((s) => [s.code, s.name]));
const limit = page.pageSize ?? 50;

const search = document.getElementById("delegate-search");
const table = document.getElementById("delegates-table");
const body = document.getElementById("delegates-body");
const summary = document.getElementById("delegates-summary");
const pager = document.getElementById("delegates-pager");
const pageLabel = document.getElementById("delegates-page");

const state = { q: "", site: "", offset: 0, total: 0, items: new Map(), seq: 0, refocus: null };

function cell(tag, label, text, field) {
  const el = document.createElement(tag);
  if (tag === "th") el.scope = "row";
  el.dataset.label = label;
  if (field) el.dataset.field = field;
  el.textContent = text ?? "";
  return el;
}

function button(text, action, id, name) {
  const el = document.createElement("button");
  el.type = "button";
  el.className = action === "remove" ? "button-danger" : "button-secondary";
  el.dataset.action = action;
  el.dataset.id = id;
  el.textContent = text;
  el.setAttribute("aria-label", `${text}: ${name}`);
  return el;
}

function row(item) {
  const heads = table.tHead.rows[0].cells;
  const label = (i) => heads[i].textContent;
  const tr = document.createElement("tr");
  tr.dataset.id = item.id;
  const siteName = siteNames.get(item.site);
  tr.append(
    cell("th", label(0), item.name, "name"),
    cell("td", label(1), item.title, "title"),
    cell("td", label(2), item.unit, "unit"),
    cell("td", label(3), siteName ? `${siteName} (${item.site})` : item.site, "site"),
    cell("td", label(4), t(`js.delegates.category.${item.category}`), "category"),
    cell(
      "td",
      label(5),
      item.checked_in_at ? t("js.delegates.yes") : t("js.delegates.no"),
      "checked_in",
    ),
  );
  const actions = document.createElement("td");
  actions.className = "actions";
  const badge = document.createElement("a");
  badge.className = "button-secondary";
  badge.href = `${base}/${encodeURIComponent(item.id)}/badge.pdf`;
  badge.textContent = t("js.delegates.badge");
  badge.setAttribute("aria-label", `${t("js.delegates.badge")}: ${item.name}`);
  actions.append(badge);
  if (page.organizer) {
    actions.append(
      button(t("js.delegates.edit"), "edit", item.id, item.name),
      button(t("js.delegates.reissue"), "reissue", item.id, item.name),
      button(t("js.delegates.remove"), "remove", item.id, item.name),
    );
  }
  tr.append(actions);
  return tr;
}

async function load({ say = false } = {}) {
  const seq = ++state.seq;
  const params = new URLSearchParams({ limit: String(limit), offset: String(state.offset) });
  if (state.q) params.set("q", state.q);
  if (state.site) params.set("site", state.site);
  const { ok, status, data, error } = await api("GET", `${base}?${params}`);
  if (seq !== state.seq) return;
  if (!ok) {
    summary.textContent =
      status === 0 ? t("js.error.network") : t("js.error.generic", { message: error.message });
    return;
  }
  state.total = data.total;
  state.items = new Map(data.items.map((item) => [item.id, item]));
  body.replaceChildren(...data.items.map(row));
  table.hidden = data.items.length === 0;
  if (state.refocus) {
    const { id, action } = state.refocus;
    state.refocus = null;
    const again = [...body.querySelectorAll("button[data-action]")].find(
      (b) => b.dataset.id === id && b.dataset.action === action,
    );
    if (again) again.focus();
    else if (!document.activeElement || document.activeElement === document.body) summary.focus();
  }
  const message =
    data.total === 0
      ? t("js.delegates.none")
      : t("js.delegates.found", {
          count: data.total,
          from: data.offset + 1,
          to: data.offset + data.items.length,
        });
  summary.textContent = message;
  if (say) announce(message);
  const pages = Math.max(1, Math.ceil(data.total / limit));
  const current = Math.floor(data.offset / limit) + 1;
  pager.hidden = pages <= 1;
  pageLabel.textContent = t("js.delegates.page", { page: current, pages });
  pager.querySelector('[data-action="previous"]').disabled = current <= 1;
  pager.querySelector('[data-action="next"]').disabled = current >= pages;
}

let timer = 0;
search.addEventListener("submit", (event) => event.preventDefault());
search.elements.q.addEventListener("input", () => {
  window.clearTimeout(timer);
  timer = window.setTimeout(() => {
    state.q = search.elements.q.value.trim();
    state.offset = 0;
    load({ say: true });
  }, 300);
});
search.elements.site.addEventListener("change", () => {
  state.site = search.elements.site.value;
  state.offset = 0;
  load({ say: true });
});
pager.addEventListener("click", (event) => {
  const action = event.target.closest("button")?.dataset.action;
  if (!action) return;
  state.offset = Math.max(0, state.offset + (action === "next" ? limit : -limit));
  load({ say: true });
});

// --- organizers: add, change, remove, reissue ------------------------------------------------

const addForm = document.getElementById("add-delegate");
addForm?.addEventListener("submit", (event) => {
  event.preventDefault();
  submitting(addForm, async () => {
    clearErrors(addForm);
    const values = readForm(addForm, FIELDS);
    const { ok, status, data, error } = await api("POST", base, values);
    if (!ok) {
      showErrors(addForm, error, status);
      return "";
    }
    for (const name of ["name", "title", "unit", "phone", "email"]) addForm.elements[name].value = "";
    const message = t("js.delegates.added", { name: data.name });
    announce(message);
    await load();
    return message;
  });
});

const editDialog = document.getElementById("edit-dialog");
const editForm = document.getElementById("edit-delegate");
const confirmDialog = document.getElementById("confirm-dialog");
const confirmForm = document.getElementById("confirm-delegate");
let editing = null;
let confirming = null;

function openEdit(item) {
  editing = item;
  clearErrors(editForm);
  loadForm(editForm, item, FIELDS);
  editDialog.showModal();
  editForm.elements.name.focus();
}

editForm?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const changed = changedFields(editForm);
  if (!editing || changed.length === 0) {
    editDialog.close();
    return;
  }
  const values = readForm(editForm, changed);
  const { ok, status, data, error } = await api(
    "PATCH",
    `${base}/${encodeURIComponent(editing.id)}`,
    values,
  );
  if (!ok) {
    showErrors(editForm, error, status);
    return;
  }
  // The list is drawn again: focus goes back to the new row's button.
  state.refocus = { id: editing.id, action: "edit" };
  editDialog.close();
  announce(t("js.delegates.saved", { name: data.name }));
  await load();
});

function openConfirm(kind, item) {
  confirming = { kind, item };
  clearErrors(confirmForm);
  document.getElementById("confirm-dialog-heading").textContent = t(`js.delegates.${kind}.title`);
  document.getElementById("confirm-dialog-text").textContent = t(`js.delegates.${kind}.text`, {
    name: item.name,
  });
  const submit = document.getElementById("confirm-dialog-submit");
  submit.textContent = t(`js.delegates.${kind}.confirm`);
  submit.hidden = false;
  document.getElementById("confirm-dialog-link").hidden = true;
  confirmDialog.showModal();
}

function formError(form, message) {
  const box = document.getElementById(`${form.id}-error`);
  box.textContent = message;
  box.hidden = false;
  announce(message);
}

confirmForm?.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!confirming) return;
  const { kind, item } = confirming;
  const url = `${base}/${encodeURIComponent(item.id)}`;
  if (kind === "remove") {
    const { ok, status, error } = await api("DELETE", url);
    if (!ok) {
      formError(
        confirmForm,
        status === 409
          ? t("js.delegates.remove.checked_in", { name: item.name })
          : t("js.error.generic", { message: error.message }),
      );
      return;
    }
    state.refocus = { id: item.id, action: "remove" };
    confirmDialog.close();
    announce(t("js.delegates.removed", { name: item.name }));
    await load();
    return;
  }
  const { ok, data, error } = await api("POST", `${url}/reissue`);
  if (!ok) {
    formError(confirmForm, t("js.error.generic", { message: error.message }));
    return;
  }
  document.getElementById("confirm-dialog-text").textContent = t("js.delegates.reissue.done", {
    name: item.name,
  });
  document.getElementById("confirm-dialog-submit").hidden = true;
  document.getElementById("confirm-dialog-link").hidden = false;
  const link = document.getElementById("confirm-dialog-link-value");
  link.value = data.link;
  link.focus();
  link.select();
  announce(t("js.delegates.reissue.done", { name: item.name }));
});

for (const dialog of [editDialog, confirmDialog]) {
  dialog?.addEventListener("click", (event) => {
    if (event.target.closest('[data-action="close"]')) dialog.close();
  });
}

body.addEventListener("click", (event) => {
  const target = event.target.closest("button[data-action]");
  const item = target && state.items.get(target.dataset.id);
  if (!item) return;
  const opener = target;
  const dialog = target.dataset.action === "edit" ? editDialog : confirmDialog;
  dialog.addEventListener(
    "close",
    () => {
      if (opener.isConnected) opener.focus();
      else summary.focus();
    },
    { once: true },
  );
  if (target.dataset.action === "edit") openEdit(item);
  else openConfirm(target.dataset.action, item);
});

// --- personal links as CSV ---------------------------------------------------------------------

const linksSite = document.getElementById("links-site");
const linksDownload = document.getElementById("links-download");
linksSite?.addEventListener("change", () => {
  const code = linksSite.value;
  linksDownload.href = `${base}/links.csv${code ? `?site=${encodeURIComponent(code)}` : ""}`;
});

// --- import a CSV or XLSX list -----------------------------------------------------------------

const importForm = document.getElementById("import-delegates");
const importFile = document.getElementById("import-delegates-file");
const sheet = importForm && new SpreadsheetImport(importForm, {
  row: "js.delegates.import.row",
  omitted: "js.delegates.import.omitted",
  ignored: "js.delegates.import.ignored",
  working: "js.delegates.import.working",
  checked: "js.delegates.import.checked",
  done: "js.delegates.import.done",
  refused: "js.delegates.import.refused",
  failed: "js.delegates.import.failed",
});

importForm?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const say = (message, isError) => sheet.say(message, isError);
  const file = chosenFile(importFile, say, t("js.delegates.import.no_file"));
  if (!file) return;
  await sheet.send(`${base}/import`, file, event.submitter?.dataset.mode ?? "check", {
    failed: (error, status, data) => data?.error?.message ?? status,
    onImported: () => load(),
  });
});

load();
