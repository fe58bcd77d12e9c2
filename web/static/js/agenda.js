// The organizer's agenda: every item in reading order, nested in its session, with its
// kind, planned start (in the conference's time zone), duration, presenter, site,
// speaking limit and live status. Items are added, edited and removed through dialogs and
// reordered within their level by drag and drop, the ↑ ↓ buttons or Alt+↑ / ↓.
// The state is the shared live agenda (live-agenda.js) fed by the live stream, so other
// organizers' changes appear at once; a change is sent to the JSON API and drawn when its
// event comes back. An order the server refuses as stale (409) is said and the agenda is
// drawn again from a fresh reading.

import { followPage } from "./live.js";
import { eventSet, eventsOf } from "./lib/events.js";
import { OFF_THE_FLOOR } from "./lib/event-groups.js";
import { ITEM_EVENTS, applyEvent, clock, fromSnapshot, itemsInOrder } from "./live-agenda.js";
import { announce, element, page, t } from "./page.js";
import { limitOf } from "./chair-speakers.js";
import { moved, sortable } from "./reorder.js";
import {
  changedFields,
  checkParsable,
  clearErrors,
  loadForm,
  refreshForm,
  showErrors,
  submitting,
} from "./forms.js";
import { DAY_AND_TIME, formatDate, formatTime, zoneFormat } from "./lib/format.js";
import { request } from "./lib/http.js";

const conference = page.conference;
const base = `/api/v1/conferences/${encodeURIComponent(conference.id)}`;
const FORM_FIELDS = [
  "title",
  "kind",
  "site",
  "planned_date",
  "planned_start",
  "duration_minutes",
  "presenter",
  "speaking_limit_seconds",
];
const NUMBERS = ["duration_minutes", "speaking_limit_seconds"];

let state = null;

/** The API under this conference: {ok, status, data, error}. */
function call(method, path, body) {
  return request(method, `${base}${path}`, body);
}

const message = (answer) => answer.error?.message || answer.error?.code || "";

// --- times in the conference's time zone ----------------------------------------------------

const zoneParts = (() => {
  const format = zoneFormat("en-CA", DAY_AND_TIME);
  return (ms) => {
    const parts = {};
    for (const part of format.formatToParts(new Date(ms))) parts[part.type] = part.value;
    return parts;
  };
})();

/** {date: "2026-12-15", time: "08:05"} of an instant, on the conference's clock. */
function localParts(iso) {
  if (!iso) return { date: "", time: "" };
  const p = zoneParts(Date.parse(iso));
  return { date: `${p.year}-${p.month}-${p.day}`, time: `${p.hour}:${p.minute}` };
}

/** The instant (ISO, UTC) of a date and time on the conference's clock. */
function instantOf(date, time) {
  const [year, month, day] = date.split("-").map(Number);
  const [hour, minute] = time.split(":").map(Number);
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  let guess = wall;
  // Twice: the offset at the first guess may differ from the one at the answer.
  for (let i = 0; i < 2; i += 1) {
    const p = zoneParts(guess);
    const shown = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute));
    guess += wall - shown;
  }
  return new Date(guess).toISOString();
}

const manyDays = conference.starts_on !== conference.ends_on;

function startText(item) {
  if (!item.planned_start) return t("js.agenda.no_start");
  const time = formatTime(item.planned_start);
  return manyDays ? `${formatDate(localParts(item.planned_start).date)} ${time}` : time;
}

// --- delegates: the presenter's suggestions --------------------------------------------------

const delegatesByKey = new Map(); // the text shown in the list -> delegate
const keyOfDelegate = new Map(); // delegate id -> that text

async function loadDelegates() {
  const answer = await call("GET", "/delegates?limit=1000");
  if (!answer.ok) return;
  const items = answer.data.items ?? [];
  const counts = new Map();
  for (const d of items) counts.set(d.name, (counts.get(d.name) ?? 0) + 1);
  const options = [];
  for (const d of items) {
    // Two delegates of the same name are told apart by their site.
    const key = counts.get(d.name) > 1 ? `${d.name} (${siteName(d.site)})` : d.name;
    if (delegatesByKey.has(key)) continue;
    delegatesByKey.set(key, d);
    keyOfDelegate.set(d.id, key);
    const option = document.createElement("option");
    option.value = key;
    option.label = [d.title, siteName(d.site)].filter(Boolean).join(" · ");
    options.push(option);
  }
  element("delegate-names").replaceChildren(...options);
}

const sites = new Map((page.sites ?? []).map((site) => [site.code, site]));
const siteName = (code) => sites.get(code)?.name ?? code;

// --- drawing the agenda ------------------------------------------------------------------

const root = element("agenda-list");
const rowTemplate = element("item-row");
const rows = new Map(); // item id -> {li, cells, buttons}

function labelButton(node, label, title) {
  node.replaceChildren(
    label,
    Object.assign(document.createElement("span"), {
      className: "visually-hidden",
      textContent: ` ${title}`,
    }),
  );
}

function rowOf(id) {
  let row = rows.get(id);
  if (row) return row;
  const li = rowTemplate.content.firstElementChild.cloneNode(true);
  li.dataset.id = id;
  const cells = {};
  for (const cell of li.querySelectorAll("[data-cell]")) {
    // The cells of this item, not of the items inside it.
    if (cell.closest("li") === li) cells[cell.dataset.cell] = cell;
  }
  const buttons = {};
  for (const node of li.querySelector(".agenda-actions").querySelectorAll("button[data-act]")) {
    node.dataset.id = id;
    buttons[node.dataset.act] = node;
  }
  row = { li, cells, buttons };
  rows.set(id, row);
  return row;
}

function limitText(item) {
  const limit = limitOf(state, item);
  if (item.speaking_limit_seconds > 0) return clock(limit);
  const byKind = Number(state.settings?.kind_limits?.[item.kind] ?? 0) > 0;
  return t(byKind ? "js.agenda.limit.kind" : "js.agenda.limit.default", { limit: clock(limit) });
}

function fillRow(row, item, { number, index, count, hasItems }) {
  const { li, cells, buttons } = row;
  li.dataset.status = item.status;
  li.dataset.kind = item.kind;
  cells.number.textContent = number;
  cells.title.textContent = item.title;
  cells.kind.textContent = t(`js.agenda.kind.${item.kind}`);
  cells.status.textContent = t(`js.chair.status.${item.status}`);
  cells.status.dataset.status = item.status;
  cells.start.textContent = startText(item);
  cells.duration.textContent = item.duration_minutes
    ? t("js.agenda.minutes", { minutes: item.duration_minutes })
    : "–";
  cells.presenter.textContent = item.presenter || "–";
  cells.site.textContent = item.site ? siteName(item.site) : "–";
  // A session's speaker limit means nothing: its items have their own lists.
  cells.limit.parentElement.hidden = hasItems || item.kind === "session";
  cells.limit.textContent = limitText(item);
  labelButton(buttons.up, "↑", t("js.agenda.move_up", { title: item.title }));
  labelButton(buttons.down, "↓", t("js.agenda.move_down", { title: item.title }));
  buttons.up.disabled = index === 0;
  buttons.down.disabled = index === count - 1;
  labelButton(buttons.edit, t("js.agenda.edit"), item.title);
  labelButton(buttons.inside, t("js.agenda.add_inside"), item.title);
  buttons.inside.hidden = !(item.kind === "session" || hasItems);
  labelButton(buttons.remove, t("js.agenda.remove"), item.title);
}

/** What has the focus inside the agenda: {id, act}, so a redraw can put it back. */
function focusKey() {
  const active = document.activeElement;
  if (!active || !root.contains(active) || !active.dataset.act) return null;
  return { id: active.dataset.id, act: active.dataset.act };
}

function focusRow(key) {
  const row = rows.get(key.id);
  if (!row) return false;
  const wanted = row.buttons[key.act];
  const target =
    wanted && !wanted.disabled && !wanted.hidden
      ? wanted
      : Object.values(row.buttons).find((b) => !b.disabled && !b.hidden);
  target?.focus();
  return Boolean(target);
}

let focusAfter = null; // {id, act}: focus this once it is drawn (a new item)

function render() {
  const keep = focusKey();
  const items = itemsInOrder(state);
  const levels = new Map();
  for (const item of items) {
    const key = item.parent ?? "";
    if (!levels.has(key)) levels.set(key, []);
    levels.get(key).push(item);
  }
  const seen = new Set();
  const fill = (list, parent, prefix) => {
    const level = levels.get(parent) ?? [];
    const nodes = level.map((item, index) => {
      const row = rowOf(item.id);
      const number = `${prefix}${index + 1}`;
      const hasItems = levels.has(item.id);
      fillRow(row, item, { number: `${number}.`, index, count: level.length, hasItems });
      seen.add(item.id);
      fill(row.cells.children, item.id, `${number}.`);
      return row.li;
    });
    const shown = [...list.children];
    if (shown.length !== nodes.length || shown.some((node, i) => node !== nodes[i])) {
      list.replaceChildren(...nodes);
    }
    if (list !== root) list.hidden = nodes.length === 0;
  };
  fill(root, "", "");
  for (const [id, row] of rows) {
    if (!seen.has(id)) {
      row.li.remove();
      rows.delete(id);
    }
  }
  element("agenda-empty").hidden = items.length > 0;
  // A redraw that moved the focused entry took the focus away: put it back.
  const lost = !document.activeElement || document.activeElement === document.body;
  if (focusAfter && rows.has(focusAfter.id)) {
    focusRow(focusAfter);
    focusAfter = null;
  } else if (keep && lost && !focusRow(keep)) {
    element("agenda-heading").focus();
  }
}

// --- reordering -----------------------------------------------------------------------------

function showError(text) {
  const node = element("agenda-error");
  node.textContent = text;
  node.hidden = !text;
}

async function sendOrder(order, id, how) {
  const item = state.items.get(id);
  if (!item) return;
  const parent = item.parent ?? null;
  showError("");
  const answer = await call("POST", "/agenda/order", { parent, order });
  if (answer.ok) {
    element("conflict").hidden = true;
    announce(
      t("js.agenda.moved", { title: item.title, position: order.indexOf(id) + 1, count: order.length }),
    );
    if (how === "keyboard") focusAfter = { id, act: focusKey()?.act ?? "up" };
    // The order's own event may have come first; then draw now to place the focus.
    if (focusAfter) render();
    return;
  }
  if (answer.status === 409) {
    await conflict(id);
    return;
  }
  showError(t("js.chair.failed", { message: message(answer) }));
}

/** The agenda changed meanwhile: say so and draw it as it is now. */
async function conflict(id) {
  const keep = focusKey() ?? { id, act: "up" };
  element("conflict-text").textContent = t("js.agenda.conflict");
  element("conflict").hidden = false;
  const fresh = await call("GET", "/agenda");
  if (!fresh.ok) return;
  state = fromSnapshot({
    seq: state.seq,
    conference: state.conference,
    sites: [...state.sites.values()],
    agenda: { items: fresh.data.items, current: state.current, settings: state.settings },
  });
  focusAfter = keep;
  render();
}

sortable(root, { onMove: (order, id, _level, how) => sendOrder(order, id, how) });

element("conflict-dismiss").addEventListener("click", () => {
  element("conflict").hidden = true;
  element("agenda-heading").focus();
});

// --- adding and editing -------------------------------------------------------------------

const itemDialog = element("item-dialog");
const itemForm = element("item-form");
let editing = null; // the item the dialog edits (null: a new one)
let parentOf = null; // the session a new item goes into
let opener = null; // the control that opened a dialog: it has the focus back on cancel
let backToOpener = true;

function formRecord(item) {
  const { date, time } = localParts(item.planned_start);
  const presenter =
    (item.presenter_delegate && keyOfDelegate.get(item.presenter_delegate)) || item.presenter || "";
  return {
    title: item.title,
    kind: item.kind,
    site: item.site ?? "",
    planned_date: date,
    planned_start: time,
    duration_minutes: String(item.duration_minutes ?? 0),
    presenter,
    speaking_limit_seconds: String(item.speaking_limit_seconds ?? 0),
  };
}

function openItemDialog(item, parent) {
  opener = document.activeElement;
  backToOpener = true;
  editing = item;
  parentOf = parent;
  clearErrors(itemForm);
  itemForm.querySelector(".form-status").textContent = "";
  const heading = element("item-dialog-heading");
  if (item) {
    heading.textContent = t("js.agenda.dialog.edit", { title: item.title });
    loadForm(itemForm, formRecord(item), FORM_FIELDS);
  } else {
    heading.textContent = parent
      ? t("js.agenda.dialog.add_inside", { title: parent.title })
      : t("js.agenda.dialog.add");
    loadForm(
      itemForm,
      {
        title: "",
        kind: parent ? "speech" : "other",
        site: "",
        planned_date: conference.starts_on,
        planned_start: "",
        duration_minutes: "0",
        presenter: "",
        speaking_limit_seconds: "0",
      },
      FORM_FIELDS,
    );
  }
  itemDialog.showModal();
  itemForm.elements.title.focus();
}

/** The presenter field as the API takes it: free text, or a delegate picked from the list. */
function presenterOf(text) {
  const value = text.trim();
  const delegate = delegatesByKey.get(value);
  return delegate
    ? { presenter: delegate.name, presenter_delegate: delegate.id }
    : { presenter: value, presenter_delegate: null };
}

function intOf(value) {
  const raw = String(value).trim();
  return raw === "" ? 0 : /^\d+$/.test(raw) ? Number(raw) : raw;
}

/** The body to send: every field for a new item, the changed ones for an edit. */
function itemBody(names) {
  const f = itemForm.elements;
  const body = {};
  for (const name of names) {
    if (name === "title") body.title = f.title.value.trim();
    else if (name === "kind") body.kind = f.kind.value;
    else if (name === "site") body.site = f.site.value || null;
    else if (NUMBERS.includes(name)) body[name] = intOf(f[name].value);
    else if (name === "presenter") Object.assign(body, presenterOf(f.presenter.value));
  }
  if (names.includes("planned_date") || names.includes("planned_start")) {
    const date = f.planned_date.value || conference.starts_on;
    const time = f.planned_start.value;
    body.planned_start = time ? instantOf(date, time) : null;
  }
  return body;
}

function fieldProblem(name, key) {
  showErrors(
    itemForm,
    { code: "invalid_input", message: "", details: [{ field: name, message: t(key) }] },
    422,
  );
  // showErrors words known problems itself; this one is already in the page's words.
  element(`item-form-${name}-error`).textContent = t(key);
}

itemForm.addEventListener("submit", (e) => {
  e.preventDefault();
  if (!checkParsable(itemForm)) return;
  if (!itemForm.elements.title.value.trim()) {
    fieldProblem("title", "js.agenda.title_needed");
    return;
  }
  if (itemForm.elements.planned_date.value && !itemForm.elements.planned_start.value) {
    fieldProblem("planned_start", "js.agenda.time_needed");
    return;
  }
  submitting(itemForm, async () => {
    clearErrors(itemForm);
    let answer;
    if (editing) {
      const changed = changedFields(itemForm);
      if (changed.length === 0) return t("js.form.unchanged");
      answer = await call("PATCH", `/agenda/${encodeURIComponent(editing.id)}`, itemBody(changed));
    } else {
      const body = itemBody(FORM_FIELDS);
      if (!body.presenter_delegate) delete body.presenter_delegate;
      if (parentOf) body.parent = parentOf.id;
      answer = await call("POST", "/agenda", body);
    }
    if (!answer.ok) return showErrors(itemForm, answer.error, answer.status);
    const saved = answer.data;
    focusAfter = { id: saved.id, act: "edit" };
    const news = editing ? "js.agenda.saved" : "js.agenda.added";
    editing = null;
    backToOpener = false;
    itemDialog.close();
    announce(t(news, { title: saved.title }));
    // The event may already have drawn it; else the redraw it brings places the focus.
    if (rows.has(saved.id)) render();
    return "";
  });
});

function dialogClosed() {
  if (backToOpener && opener?.isConnected) opener.focus();
  opener = null;
  backToOpener = true;
}

itemDialog.addEventListener("close", () => {
  editing = null;
  parentOf = null;
  dialogClosed();
});

element("add-item").addEventListener("click", () => openItemDialog(null, null));

// --- removing -------------------------------------------------------------------------------

const removeDialog = element("remove-dialog");
const removeForm = element("remove-item");
let removing = null;
let deleting = null; // the item this page is removing: its event is no news

function itemsInside(id) {
  const inside = [];
  const walk = (parent) => {
    for (const item of state.items.values()) {
      if (item.parent === parent) {
        inside.push(item);
        walk(item.id);
      }
    }
  };
  walk(id);
  return inside;
}

function confirmText(item) {
  const count = itemsInside(item.id).length;
  return count
    ? t("js.agenda.remove.confirm_inside", { title: item.title, count })
    : t("js.agenda.remove.confirm", { title: item.title });
}

function openRemoveDialog(item) {
  opener = document.activeElement;
  backToOpener = true;
  removing = item;
  clearErrors(removeForm);
  element("remove-dialog-text").textContent = confirmText(item);
  removeDialog.showModal();
}

removeForm.addEventListener("submit", async (e) => {
  e.preventDefault();
  if (!removing) return;
  const item = removing;
  const button = removeForm.querySelector('button[type="submit"]');
  button.disabled = true;
  deleting = item.id;
  const answer = await call("DELETE", `/agenda/${encodeURIComponent(item.id)}`);
  button.disabled = false;
  deleting = null;
  if (!answer.ok && answer.status !== 404) {
    const box = element("remove-item-error");
    box.textContent =
      answer.status === 409
        ? t("js.agenda.remove.started", { message: message(answer) })
        : t("js.chair.failed", { message: message(answer) });
    box.hidden = false;
    return;
  }
  // Focus goes to a neighbour of the removed item, or to the button that adds one.
  const li = rows.get(item.id)?.li;
  const next = li?.nextElementSibling ?? li?.previousElementSibling ?? li?.parentElement?.closest("li");
  focusAfter = next?.dataset.id ? { id: next.dataset.id, act: "edit" } : null;
  removing = null;
  backToOpener = false;
  removeDialog.close();
  announce(t("js.agenda.removed", { title: item.title }));
  if (!focusAfter) element("add-item").focus();
  if (!state.items.has(item.id)) render();
});

removeDialog.addEventListener("close", () => {
  removing = null;
  dialogClosed();
});

for (const dialog of [itemDialog, removeDialog]) {
  dialog.addEventListener("click", (e) => {
    if (e.target.closest('[data-action="close"]')) dialog.close();
  });
}

/** Keep the open dialogs true to the item as it is now: changed, or gone. */
function followOpenDialogs() {
  if (editing && itemDialog.open) {
    const now = state.items.get(editing.id);
    if (now) {
      editing = now;
      refreshForm(itemForm, formRecord(now));
    } else {
      editing = null;
      itemDialog.close();
      showError(t("js.agenda.removed_elsewhere"));
    }
  }
  if (parentOf && itemDialog.open && !state.items.has(parentOf.id)) {
    itemDialog.close();
    showError(t("js.agenda.removed_elsewhere"));
  }
  if (removing && removeDialog.open && removing.id !== deleting) {
    const now = state.items.get(removing.id);
    if (now) {
      removing = now;
      element("remove-dialog-text").textContent = confirmText(now);
    } else {
      removeDialog.close();
      showError(t("js.agenda.removed_elsewhere"));
    }
  }
}

// --- the actions on an item ---------------------------------------------------------------

root.addEventListener("click", (e) => {
  const target = e.target.closest("button[data-act]");
  const item = target && state?.items.get(target.dataset.id);
  if (!item) return;
  const act = target.dataset.act;
  if (act === "up" || act === "down") {
    const li = rows.get(item.id).li;
    const siblings = [...li.parentElement.children].map((node) => node.dataset.id);
    const order = moved(siblings, item.id, act === "up" ? -1 : 1);
    if (order) sendOrder(order, item.id, "keyboard");
  } else if (act === "edit") {
    openItemDialog(item, null);
  } else if (act === "inside") {
    openItemDialog(null, item);
  } else if (act === "remove") {
    openRemoveDialog(item);
  }
});

// --- speaking-time settings -----------------------------------------------------------------

const settingsForm = element("settings");
const limitKinds = (page.kinds ?? []).filter((kind) => kind !== "session");

function showSettings() {
  if (settingsForm.contains(document.activeElement)) return;
  const settings = state.settings ?? {};
  const f = settingsForm.elements;
  f.default_speaking_seconds.value = settings.default_speaking_seconds ?? "";
  f.fair_order.checked = Boolean(settings.fair_order);
  for (const kind of limitKinds) {
    f[`limit_${kind}`].value = String(settings.kind_limits?.[kind] ?? 0);
  }
}

settingsForm.addEventListener("submit", (e) => {
  e.preventDefault();
  if (!checkParsable(settingsForm)) return;
  submitting(settingsForm, async () => {
    const f = settingsForm.elements;
    const kindLimits = {};
    for (const kind of limitKinds) kindLimits[kind] = intOf(f[`limit_${kind}`].value);
    const body = { fair_order: f.fair_order.checked, kind_limits: kindLimits };
    if (f.default_speaking_seconds.value.trim()) {
      body.default_speaking_seconds = intOf(f.default_speaking_seconds.value);
    }
    const answer = await call("PATCH", "/agenda/settings", body);
    if (!answer.ok) {
      // The API names a kind's limit kind_limits.<kind>: show it on that kind's field.
      const error = { ...answer.error };
      if (Array.isArray(error.details)) {
        error.details = error.details.map((p) => {
          const match = /^kind_limits\.(\w+)/.exec(p.field ?? "");
          return match ? { ...p, field: `limit_${match[1]}` } : p;
        });
      }
      showErrors(settingsForm, error, answer.status);
      return "";
    }
    announce(t("js.chair.settings.saved"));
    return t("js.chair.settings.saved");
  });
});

// --- the live stream ------------------------------------------------------------------------

function onSnapshot(snapshot) {
  state = fromSnapshot(snapshot);
  element("agenda-loading").hidden = true;
  element("agenda").hidden = false;
  render();
  showSettings();
  followOpenDialogs();
}

function onEvent(event) {
  if (!state) return;
  applyEvent(state, event);
  if (ITEM_EVENTS.has(event.type)) {
    render();
    followOpenDialogs();
    return;
  }
  switch (event.type) {
    case "agenda/settings":
      render();
      showSettings();
      break;
    case "site/created":
    case "site/updated":
      if (event.data?.code) sites.set(event.data.code, { ...sites.get(event.data.code), ...event.data });
      render();
      break;
    case "site/deleted":
      sites.delete(event.data?.code);
      render();
      break;
    default:
      break;
  }
}

// The events of the catalogue this page does nothing with (the rest it handles).
const IGNORED = eventSet(
  ...eventsOf("attendance", "minutes"),
  ...OFF_THE_FLOOR,
  "document/updated",
);
followPage(conference.id, {
  ignored: IGNORED,
  onSnapshot,
  onEvent,
});
loadDelegates();
