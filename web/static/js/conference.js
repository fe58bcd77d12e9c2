// The conference page: details and connection points, kept live; editing for organizers.

import { followPage } from "./live.js";
import { eventSet, eventsOf } from "./lib/events.js";
import { MAKING } from "./lib/event-groups.js";
import { announce, api, page, t } from "./page.js";
import {
  changedFields,
  checkParsable,
  clearErrors,
  loadForm,
  readForm,
  refreshForm,
  showErrors,
  submitting,
} from "./forms.js";
import { formatDate, formatDates } from "./lib/format.js";

const CONFERENCE_FIELDS = ["title", "starts_on", "ends_on", "timezone", "venue", "public"];
const SITE_KINDS = { expected_attendance: "int" };

const state = {
  conference: page.conference,
  sites: new Map(page.sites.map((site) => [site.id, site])),
};
const base = `/api/v1/conferences/${encodeURIComponent(state.conference.id)}`;
const tbody = document.getElementById("sites-body");
const rowTemplate = document.getElementById("site-row-template");

// --- showing the state ---------------------------------------------------------------

function setText(selector, text) {
  for (const element of document.querySelectorAll(selector)) element.textContent = text;
}

const editConference = document.getElementById("edit-conference");
const siteDialog = document.getElementById("site-dialog");
const confirmDialog = document.getElementById("confirm-dialog");
const editSite = document.getElementById("edit-site");
const removeSite = document.getElementById("remove-site");
const addSite = document.getElementById("add-site");
// The site fields this page edits: those its forms hold (macros.html, site_fields).
const siteFields = (form) => [...form.elements].map((input) => input.name).filter(Boolean);
let editing = null;
let removing = null;
let deleting = null;

function renderConference() {
  const c = state.conference;
  setText('[data-conference-field="title"]', c.title);
  setText('[data-conference-field="dates"]', formatDates(c.starts_on, c.ends_on));
  setText('[data-conference-field="venue"]', c.venue || t("js.conference.no_venue"));
  setText('[data-conference-field="timezone"]', c.timezone);
  setText('[data-conference-field="public"]', t(c.public ? "js.public.yes" : "js.public.no"));
  document.title = `${c.title} · ${document.title.split(" · ").pop()}`;
  // Someone else's change must not overwrite what this person is typing.
  if (editConference) refreshForm(editConference, c, showValue);
}

/** A field's value as the page shows it, for "someone else changed this to ...". */
function showValue(name, value) {
  if (name === "public") return t(value ? "js.public.yes" : "js.public.no");
  if (name === "kind") return t(`js.kind.${value}`);
  if (name === "starts_on" || name === "ends_on") return formatDate(value);
  return String(value ?? "");
}

function fillCell(cell, site) {
  const field = cell.dataset.field;
  const value = site[field] ?? "";
  if (field === "kind") {
    cell.textContent = t(`js.kind.${value}`);
  } else if (cell.dataset.link) {
    cell.replaceChildren();
    if (value) {
      const link = document.createElement("a");
      const target = cell.dataset.link === "tel" ? String(value).replace(/\s+/g, "") : value;
      link.href = `${cell.dataset.link}:${target}`;
      link.textContent = value;
      cell.append(link);
    }
  } else {
    cell.textContent = String(value);
  }
}

function rowFor(site) {
  let row = tbody.querySelector(`tr[data-site-id="${CSS.escape(site.id)}"]`);
  if (!row) {
    row = rowTemplate.content.firstElementChild.cloneNode(true);
    row.dataset.siteId = site.id;
  }
  for (const cell of row.querySelectorAll("[data-field]")) fillCell(cell, site);
  return row;
}

function sortedSites() {
  return [...state.sites.values()].sort(
    (a, b) => a.position - b.position || a.code.localeCompare(b.code),
  );
}

function renderSites() {
  const sites = sortedSites();
  const keep = new Set(sites.map((s) => s.id));
  for (const row of [...tbody.rows]) {
    if (!keep.has(row.dataset.siteId)) row.remove();
  }
  // Rows are updated in place and only moved when out of order, so focus stays put.
  sites.forEach((site, index) => {
    const row = rowFor(site);
    if (tbody.rows[index] !== row) tbody.insertBefore(row, tbody.rows[index] ?? null);
  });
  const people = sites.reduce((sum, s) => sum + (s.expected_attendance || 0), 0);
  setText("#sites-summary", t("js.sites.summary", { count: sites.length, people }));
  document.getElementById("sites-table").hidden = sites.length === 0;
  document.getElementById("sites-empty").hidden = sites.length > 0;
}

// --- live ---------------------------------------------------------------------------------

function applyEvent(event) {
  const data = event.data ?? {};
  switch (event.type) {
    case "conference/updated":
      state.conference = data;
      renderConference();
      return;
    case "site/created":
    case "site/updated":
      state.sites.set(data.id, data);
      followOpenDialogs();
      break;
    case "site/deleted":
      state.sites.delete(data.id);
      followOpenDialogs();
      break;
    default:
      return;
  }
  renderSites();
}

// The events of the catalogue this page does nothing with (the rest it handles).
const IGNORED = eventSet(
  ...eventsOf("agenda", "awards", "attendance", "minutes"),
  ...MAKING,
  "document/updated",
);
followPage(state.conference.id, {
  ignored: IGNORED,
  onSnapshot(snapshot) {
    state.conference = snapshot.conference;
    state.sites = new Map(snapshot.sites.map((site) => [site.id, site]));
    renderConference();
    renderSites();
    followOpenDialogs();
  },
  onEvent: applyEvent,
});

// --- editing (organizers) -------------------------------------------------------------------

function closeDialog(dialog) {
  if (dialog?.open) dialog.close();
}

// Says, next to the sites table, why a dialog closed by itself.
const sitesNotice = siteDialog ? document.createElement("div") : null;
if (sitesNotice) {
  sitesNotice.id = "sites-notice";
  sitesNotice.setAttribute("role", "status");
  sitesNotice.setAttribute("aria-live", "polite");
  document.getElementById("sites-summary").after(sitesNotice);
}

function showSitesNotice(message) {
  if (!sitesNotice) return;
  const text = document.createElement("p");
  text.className = "notice";
  text.textContent = message;
  sitesNotice.replaceChildren(text);
}

/** Keep the open dialogs on the sites as they are now: changed, or gone. */
function followOpenDialogs() {
  if (editing && siteDialog?.open) {
    const now = state.sites.get(editing.id);
    if (now) {
      editing = now;
      refreshForm(editSite, now, showValue);
    } else {
      goneWhileOpen(siteDialog, editing);
    }
  }
  // While this page removes a site, that removal's own event is no news.
  if (removing && confirmDialog?.open && removing.id !== deleting) {
    const now = state.sites.get(removing.id);
    if (now) {
      removing = now;
      document.getElementById("confirm-dialog-text").textContent = t("js.site.confirm", now);
    } else {
      goneWhileOpen(confirmDialog, removing);
    }
  }
}

function goneWhileOpen(dialog, site) {
  closeDialog(dialog);
  showSitesNotice(t("js.site.removed_elsewhere", site));
  // The row and its button are gone: put focus somewhere sensible.
  document.getElementById("sites-heading").focus();
}

function remember(site) {
  state.sites.set(site.id, site);
  renderSites();
}

if (editConference) {
  loadForm(editConference, state.conference, CONFERENCE_FIELDS);
  editConference.addEventListener("submit", (e) => {
    e.preventDefault();
    submitting(editConference, async () => {
      clearErrors(editConference);
      // Only what this person changed: the other fields may have moved on meanwhile.
      const changed = changedFields(editConference);
      if (changed.length === 0) return t("js.form.unchanged");
      const values = readForm(editConference, changed, { public: "bool" });
      const answer = await api("PATCH", base, values);
      if (!answer.ok) return showErrors(editConference, answer.error, answer.status);
      loadForm(editConference, answer.data, CONFERENCE_FIELDS);
      // A later change by someone else may have arrived live before this answer.
      const known = Date.parse(state.conference.updated_at);
      if (!(known > Date.parse(answer.data.updated_at))) state.conference = answer.data;
      renderConference();
      return t("js.conference.saved");
    });
  });
}

if (addSite) {
  addSite.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!checkParsable(addSite)) return;
    submitting(addSite, async () => {
      const values = readForm(addSite, siteFields(addSite), SITE_KINDS);
      const answer = await api("POST", `${base}/sites`, values);
      if (!answer.ok) return showErrors(addSite, answer.error, answer.status);
      remember(answer.data);
      addSite.reset();
      addSite.elements.namedItem("code").focus();
      const message = t("js.site.added", { name: answer.data.name });
      announce(message);
      return message;
    });
  });
}

if (tbody && siteDialog) {
  tbody.addEventListener("click", (e) => {
    const button = e.target.closest("button[data-action]");
    const site = button && state.sites.get(button.closest("tr")?.dataset.siteId);
    if (!site) return;
    sitesNotice?.replaceChildren();
    if (button.dataset.action === "edit") {
      editing = site;
      clearErrors(editSite);
      loadForm(editSite, site, siteFields(editSite));
      siteDialog.showModal();
    } else if (button.dataset.action === "remove") {
      removing = site;
      clearErrors(removeSite);
      document.getElementById("confirm-dialog-text").textContent = t("js.site.confirm", site);
      confirmDialog.showModal();
    }
  });

  for (const dialog of [siteDialog, confirmDialog]) {
    dialog.addEventListener("click", (e) => {
      if (e.target.closest('[data-action="close"]')) dialog.close();
    });
  }
  siteDialog.addEventListener("close", () => {
    editing = null;
  });
  confirmDialog.addEventListener("close", () => {
    removing = null;
  });

  editSite.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!editing || !checkParsable(editSite)) return;
    const site = editing;
    submitting(editSite, async () => {
      // Only what this person changed: someone else may have changed the rest meanwhile.
      const changed = changedFields(editSite);
      if (changed.length === 0) {
        closeDialog(siteDialog);
        announce(t("js.form.unchanged"));
        return "";
      }
      const values = readForm(editSite, changed, SITE_KINDS);
      const answer = await api("PATCH", `${base}/sites/${encodeURIComponent(site.id)}`, values);
      if (!answer.ok) return showErrors(editSite, answer.error, answer.status);
      remember(answer.data);
      closeDialog(siteDialog);
      announce(t("js.site.saved", { name: answer.data.name }));
      return "";
    });
  });

  removeSite.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!removing) return;
    const site = removing;
    submitting(removeSite, async () => {
      const url = `${base}/sites/${encodeURIComponent(site.id)}`;
      deleting = site.id;
      const answer = await api("DELETE", url).finally(() => {
        deleting = null;
      });
      if (!answer.ok && answer.status !== 404) {
        return showErrors(removeSite, answer.error, answer.status);
      }
      state.sites.delete(site.id);
      renderSites();
      closeDialog(confirmDialog);
      // The row and its button are gone: put focus somewhere sensible.
      document.getElementById("sites-heading").focus();
      announce(t("js.site.removed", { name: site.name }));
      return "";
    });
  });
}
