// The organizer's awards page: decisions with their recipients in order, adding both,
// corrections (the verification code stays), revocation with a reason, importing from a
// file (awards-import.js), documents rendered in bulk (awards-jobs.js) and how they look
// (awards-settings.js). It follows the conference's live stream: another organizer's
// change, an import or a finished rendering redraws the list.

import { followPage } from "./live.js";
import { eventSet, eventsOf } from "./lib/events.js";
import { SETUP } from "./lib/event-groups.js";
import { announce, api, page, t } from "./page.js";
import { changedFields, clearErrors, loadForm, readForm, showErrors, submitting } from "./forms.js";
import {
  base,
  clone,
  failure,
  fieldMessage,
  formatMoment,
  openDialog,
  part,
} from "./awards-common.js";
import { chooseImportDecision, setupImport } from "./awards-import.js";
import { jobNews, redrawJobs, resyncJobs, setupJobs, startRender } from "./awards-jobs.js";
import { setupSettings } from "./awards-settings.js";
import { formatDate } from "./lib/format.js";

// Changes of decisions and recipients: the list is read again.
const AWARD_EVENTS = eventSet(
  "decision/created",
  "award/created",
  "award/updated",
  "award/revoked",
  "award/imported",
);
const DECISION_FIELDS = [
  "number",
  "issued_on",
  "award_kind",
  "issuing_body",
  "signer_name",
  "signer_title",
  "title",
];
const RECIPIENT_FIELDS = ["recipient_kind", "name", "title", "unit", "site", "citation"];

const list = document.getElementById("decisions");
const summary = document.getElementById("decisions-summary");
const decisionSelects = [
  document.getElementById("add-award-decision"),
  document.getElementById("import-awards-decision"),
];
const kindSelect = document.getElementById("add-decision-award_kind");
const siteNames = new Map(page.sites.map((s) => [s.code, s.name]));

const state = {
  decisions: [],
  awards: new Map(),
  kinds: new Map(page.kinds.map((k) => [k.key, k])),
  seq: 0,
  loaded: false,
};

function kindOf(key) {
  return state.kinds.get(key) ?? { key, name: key, layout: "certificate" };
}

function decisionLabel(id) {
  const decision = state.decisions.find((d) => d.id === id);
  return decision ? t("js.awards.decision.heading", { number: decision.number }) : "";
}

// --- drawing ---------------------------------------------------------------------------------

function labelled(element, text, name) {
  element.setAttribute("aria-label", `${text}: ${name}`);
}

function recipientItem(award, decision) {
  const li = clone("recipient-template");
  li.id = `award-${award.id}`;
  li.dataset.id = award.id;
  li.classList.toggle("is-revoked", award.revoked);
  part(li, "position").textContent = `${award.position}.`;
  const name = part(li, "name");
  name.textContent = award.name;
  const heading = name.closest("h4");
  heading.tabIndex = -1;
  heading.dataset.key = `award:${award.id}`;
  part(li, "kind").textContent = t(`js.awards.recipient.${award.recipient_kind}`);
  const revoked = part(li, "revoked");
  revoked.hidden = !award.revoked;
  if (award.revoked) {
    revoked.textContent = t("js.awards.recipient.revoked_on", {
      ...formatMoment(award.revoked_at),
      reason: award.revoked_reason,
    });
  }
  const work = [award.title, award.unit].filter(Boolean).join(", ");
  part(li, "work").textContent = work;
  part(li, "work-row").hidden = !work;
  const siteName = award.site ? siteNames.get(award.site) : "";
  part(li, "site").textContent = award.site
    ? siteName
      ? `${siteName} (${award.site})`
      : award.site
    : "";
  part(li, "site-row").hidden = !award.site;
  part(li, "citation").textContent = award.citation;
  part(li, "citation-row").hidden = !award.citation;
  const code = part(li, "code");
  code.textContent = award.code;
  code.href = `/verify/${encodeURIComponent(award.code)}`;
  labelled(code, t("js.awards.recipient.verify"), `${award.code}, ${award.name}`);
  part(li, "rendered").textContent = award.rendered_at
    ? t("js.awards.recipient.rendered", formatMoment(award.rendered_at))
    : t("js.awards.recipient.not_rendered");
  const flag = kindOf(decision.award_kind).layout === "flag_award";
  const links = {
    pdf: "document.pdf",
    "flag-pdf": flag ? "flag.pdf" : "",
    "flag-svg": flag ? "flag.svg" : "",
  };
  for (const [name_, file] of Object.entries(links)) {
    const link = part(li, name_);
    link.hidden = award.revoked || !file;
    if (!link.hidden) {
      link.href = `${base}/${encodeURIComponent(award.id)}/${file}`;
      labelled(link, link.textContent, award.name);
    }
  }
  for (const button of li.querySelectorAll("button[data-action]")) {
    button.hidden = award.revoked;
    button.dataset.id = award.id;
    button.dataset.key = `${button.dataset.action}:${award.id}`;
    labelled(button, button.textContent, award.name);
  }
  return li;
}

function decisionArticle(decision) {
  const article = clone("decision-template");
  article.id = `decision-${decision.id}`;
  article.dataset.id = decision.id;
  const title = t("js.awards.decision.heading", { number: decision.number });
  const heading = part(article, "heading");
  heading.textContent = title;
  heading.id = `decision-${decision.id}-heading`;
  heading.dataset.key = `decision:${decision.id}`;
  article.setAttribute("aria-labelledby", heading.id);
  part(article, "kind").textContent = kindOf(decision.award_kind).name;
  part(article, "issued_on").textContent = formatDate(decision.issued_on);
  part(article, "issuing_body").textContent = decision.issuing_body;
  part(article, "signer").textContent = `${decision.signer_name}, ${decision.signer_title}`;
  part(article, "subject").textContent = decision.title;
  part(article, "subject-row").hidden = !decision.title;
  const valid = decision.awards.filter((a) => !a.revoked).length;
  for (const button of article.querySelectorAll(".decision-actions button")) {
    button.dataset.id = decision.id;
    button.dataset.key = `${button.dataset.action}:${decision.id}`;
    labelled(button, button.textContent, title);
    if (button.dataset.action === "render") {
      button.disabled = valid === 0;
      button.textContent = t("js.awards.decision.render_count", { count: valid });
      labelled(button, button.textContent, title);
    }
  }
  part(article, "empty").hidden = decision.awards.length > 0;
  const items = part(article, "recipients");
  items.setAttribute("aria-label", t("js.awards.recipients_of", { number: decision.number }));
  items.append(...decision.awards.map((award) => recipientItem(award, decision)));
  return article;
}

function fillDecisionSelects() {
  for (const select of decisionSelects) {
    const chosen = select.value;
    const first = select.options[0];
    const options = state.decisions.map((decision) => {
      const option = document.createElement("option");
      option.value = decision.id;
      option.textContent = t("js.awards.decision.option", {
        number: decision.number,
        kind: kindOf(decision.award_kind).name,
      });
      return option;
    });
    select.replaceChildren(first, ...options);
    select.value = state.decisions.some((d) => d.id === chosen) ? chosen : "";
    // With a single decision there is nothing to choose.
    if (!select.value && state.decisions.length === 1) select.value = state.decisions[0].id;
  }
}

function draw() {
  // Focus inside the list comes back to the same control after it is drawn again.
  const active = document.activeElement;
  const key = list.contains(active) ? active.dataset.key : null;
  state.awards = new Map();
  for (const decision of state.decisions) {
    for (const award of decision.awards) state.awards.set(award.id, { award, decision });
  }
  list.replaceChildren(...state.decisions.map(decisionArticle));
  fillDecisionSelects();
  redrawJobs();
  const count = state.awards.size;
  summary.textContent = state.decisions.length
    ? t("js.awards.summary", { decisions: state.decisions.length, awards: count })
    : t("js.awards.none");
  if (key) {
    const again = list.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (again && !again.hidden && !again.disabled) again.focus();
    else summary.focus();
  }
}

let loading = Promise.resolve();

/** Read the list again and draw it; resolves once the newest reading is drawn (a reading
 * overtaken by a newer one waits for that one, so that what follows sees the new list). */
function load() {
  loading = readAndDraw(++state.seq);
  return loading;
}

async function readAndDraw(seq) {
  const { ok, status, data, error } = await api("GET", base);
  if (seq !== state.seq) return loading;
  if (!ok) {
    summary.textContent = failure(error, status);
    return;
  }
  state.decisions = data.decisions;
  state.loaded = true;
  draw();
}

let pending = 0;

/** Load again soon: several events in a burst (an import) make one request. */
function reloadSoon() {
  window.clearTimeout(pending);
  pending = window.setTimeout(load, 150);
}

/** Focus el once the list is drawn again (its old self is replaced). */
function focusKey(key) {
  const el = list.querySelector(`[data-key="${CSS.escape(key)}"]`);
  if (el) {
    el.scrollIntoView({ block: "center" });
    el.focus({ preventScroll: true });
  } else {
    summary.focus();
  }
}

// --- a new decision --------------------------------------------------------------------------

const addDecision = document.getElementById("add-decision");
addDecision.addEventListener("submit", (event) => {
  event.preventDefault();
  submitting(addDecision, async () => {
    clearErrors(addDecision);
    const values = readForm(addDecision, DECISION_FIELDS);
    const { ok, status, data, error } = await api("POST", `${base}/decisions`, values);
    if (!ok) {
      showErrors(addDecision, error, status);
      if (error.code === "conflict" && error.field === "number") {
        fieldMessage(addDecision, "number", t("js.awards.decision.number_taken"));
      }
      return "";
    }
    // The next decision is often signed by the same body and person.
    for (const name of ["number", "title"]) addDecision.elements[name].value = "";
    await load();
    for (const select of decisionSelects) select.value = data.id;
    const message = t("js.awards.decision.added", { number: data.number });
    announce(message);
    return message;
  });
});

// --- a new recipient -------------------------------------------------------------------------

const addAward = document.getElementById("add-award");

function recipientValues(form, names) {
  const values = readForm(form, names);
  if ("site" in values && values.site === "") values.site = null;
  return values;
}

addAward.addEventListener("submit", (event) => {
  event.preventDefault();
  submitting(addAward, async () => {
    clearErrors(addAward);
    const decision = addAward.elements.decision.value;
    if (!decision) {
      showErrors(addAward, { code: "invalid_input", field: "decision", message: "required" });
      fieldMessage(addAward, "decision", t("js.awards.decision.required"));
      return "";
    }
    const values = recipientValues(addAward, RECIPIENT_FIELDS);
    const url = `${base}/decisions/${encodeURIComponent(decision)}/awards`;
    const { ok, status, data, error } = await api("POST", url, values);
    if (!ok) {
      showErrors(addAward, error, status);
      return "";
    }
    for (const name of ["name", "title", "unit", "citation"]) addAward.elements[name].value = "";
    await load();
    addAward.elements.name.focus();
    const message = t("js.awards.recipient.added", {
      name: data.name,
      decision: decisionLabel(decision),
    });
    announce(message);
    return message;
  });
});

// --- a correction ----------------------------------------------------------------------------

const editDialog = document.getElementById("edit-award-dialog");
const editForm = document.getElementById("edit-award");
let editing = null;

function openEdit(award, opener) {
  editing = award;
  clearErrors(editForm);
  loadForm(editForm, { ...award, site: award.site ?? "" }, RECIPIENT_FIELDS);
  openDialog(editDialog, opener, () => summary.focus());
  editForm.elements.name.focus();
}

editForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const changed = changedFields(editForm);
  if (!editing || changed.length === 0) {
    editDialog.close();
    return;
  }
  const id = editing.id;
  const values = recipientValues(editForm, changed);
  const url = `${base}/${encodeURIComponent(id)}`;
  const { ok, status, data, error } = await api("PATCH", url, values);
  if (!ok) {
    showErrors(editForm, error, status);
    if (status === 409) fieldMessage(editForm, "name", t("js.awards.recipient.revoked_already"));
    return;
  }
  editDialog.close();
  announce(t("js.awards.recipient.saved", { name: data.name }));
  await load();
  focusKey(`edit:${id}`);
});

// --- revocation --------------------------------------------------------------------------------

const revokeDialog = document.getElementById("revoke-dialog");
const revokeForm = document.getElementById("revoke-award");
let revoking = null;

function openRevoke(award, opener) {
  revoking = award;
  clearErrors(revokeForm);
  revokeForm.elements.reason.value = "";
  document.getElementById("revoke-text").textContent = t("js.awards.revoke.text", {
    name: award.name,
    code: award.code,
  });
  openDialog(revokeDialog, opener, () => focusKey(`award:${award.id}`));
  revokeForm.elements.reason.focus();
}

revokeForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!revoking) return;
  clearErrors(revokeForm);
  const reason = revokeForm.elements.reason.value.trim();
  if (!reason) {
    showErrors(revokeForm, { code: "invalid_input", field: "reason", message: "required" });
    fieldMessage(revokeForm, "reason", t("js.awards.revoke.reason_required"));
    return;
  }
  const award = revoking;
  const button = revokeForm.querySelector('button[type="submit"]');
  button.disabled = true;
  try {
    const url = `${base}/${encodeURIComponent(award.id)}/revoke`;
    const { ok, status, error } = await api("POST", url, { reason });
    if (!ok) {
      showErrors(revokeForm, error, status);
      return;
    }
  } finally {
    button.disabled = false;
  }
  await load();
  // Its buttons are gone: focus goes to the recipient, now marked revoked.
  revokeDialog.close();
  announce(t("js.awards.recipient.revoked_done", { name: award.name }));
});

// --- the list's buttons -----------------------------------------------------------------------

list.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  const { action, id } = button.dataset;
  if (action === "add") {
    addAward.elements.decision.value = id;
    clearErrors(addAward);
    addAward.elements.recipient_kind.scrollIntoView({ block: "center" });
    addAward.elements.recipient_kind.focus({ preventScroll: true });
  } else if (action === "import") {
    chooseImportDecision(id);
  } else if (action === "render") {
    startRender(id, button);
  } else if (action === "edit" || action === "revoke") {
    const found = state.awards.get(id);
    if (!found) return;
    if (action === "edit") openEdit(found.award, button);
    else openRevoke(found.award, button);
  }
});

// --- start -------------------------------------------------------------------------------------

setupImport({
  onImported: async (decision, count) => {
    await load();
    announce(t("js.awards.import.imported", { count, decision: decisionLabel(decision) }));
  },
});
setupJobs({ decisionLabel, onDone: () => reloadSoon() });
setupSettings({
  onKinds: (kinds) => {
    state.kinds = new Map(kinds.map((k) => [k.key, k]));
    const chosen = kindSelect.value;
    kindSelect.replaceChildren(
      ...kinds.map((kind) => {
        const option = document.createElement("option");
        option.value = kind.key;
        option.textContent = kind.name;
        return option;
      }),
    );
    kindSelect.value = state.kinds.has(chosen) ? chosen : "certificate_of_merit";
    if (state.loaded) draw();
  },
});
load();

// The events of the catalogue this page does nothing with (the rest it handles).
const IGNORED = eventSet(...eventsOf("agenda", "attendance", "minutes"), ...SETUP);
followPage(page.conference.id, {
  ignored: IGNORED,
  onSnapshot() {
    // Whatever changed while disconnected.
    if (state.loaded) reloadSoon();
    resyncJobs();
  },
  onEvent(event) {
    const type = event.type ?? "";
    if (type === "document/updated") {
      if (event.data?.kind === "awards") jobNews(event.data);
    } else if (AWARD_EVENTS.has(type)) {
      reloadSoon();
    }
  },
});
