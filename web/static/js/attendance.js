// The attendance board: every site's check-ins against its expected attendance and the
// national total, kept live. Built for thousands of sites: the rows are made once, an
// event updates one row, and the filter only hides rows.

import { followPage } from "./live.js";
import { eventSet, eventsOf } from "./lib/events.js";
import { MAKING } from "./lib/event-groups.js";
import { announce, conferenceApi, element, page, t } from "./page.js";
import { formatNumber, formatPercent } from "./lib/format.js";
import { request } from "./lib/http.js";

const FILTER_DELAY_MS = 150;
const conferenceId = page.conference.id;
const base = conferenceApi;
const tbody = element("board-body");
const rowTemplate = element("board-row");
const filterInput = element("site-filter");
const summary = element("board-summary");
const table = element("board");

const state = {
  // code -> {site, row, folded}
  sites: new Map(),
  order: [],
  total: { expected: 0, registered: 0, checked_in: 0 },
  conflicts: 0,
  seq: -1,
  loading: null,
  buffered: [],
  sort: { key: "position", descending: false },
  filter: "",
};

/** Lower case without diacritics: "Đà Nẵng" and "da nang" match. */
function fold(text) {
  return String(text ?? "")
    .normalize("NFD")
    .replace(/\p{M}/gu, "")
    .replace(/[đĐ]/g, "d")
    .toLowerCase();
}

const expectedOf = (site) => site.expected || site.registered || 0;
const ratio = (site) => {
  const expected = expectedOf(site);
  return expected > 0 ? site.checked_in / expected : -1;
};

function setBar(bar, part, whole) {
  const share = whole > 0 ? Math.min(1, part / whole) : 0;
  // CSSOM, which the pages' style-src 'self' allows (a style attribute it would not).
  bar.style.width = `${(share * 100).toFixed(1)}%`;
}

function fillRow(entry) {
  const { site, row } = entry;
  const expected = expectedOf(site);
  row.querySelector('[data-cell="code"]').textContent = site.code;
  row.querySelector('[data-cell="name"]').textContent = site.name;
  row.querySelector('[data-cell="checked_in"]').textContent = formatNumber(site.checked_in);
  row.querySelector('[data-cell="expected"]').textContent = formatNumber(expected);
  row.querySelector('[data-cell="percent"]').textContent =
    formatPercent(site.checked_in, expected) || "–";
  setBar(row.querySelector(".share-bar-fill"), site.checked_in, expected);
  row.classList.toggle("complete", expected > 0 && site.checked_in >= expected);
}

function showTotal() {
  const total = state.total;
  const expected = total.expected || total.registered;
  element("total-checked-in").textContent = formatNumber(total.checked_in);
  element("total-expected").textContent = formatNumber(expected);
  element("total-percent").textContent = formatPercent(total.checked_in, expected) || "–";
  element("total-registered").textContent = formatNumber(total.registered);
  element("total-conflicts").textContent = formatNumber(state.conflicts);
  element("conflicts").classList.toggle("has-conflicts", state.conflicts > 0);
  setBar(element("total-bar"), total.checked_in, expected);
}

function compare(a, b) {
  const key = state.sort.key;
  let order;
  if (key === "site")
    order =
      a.site.name.localeCompare(b.site.name, page.lang) || a.site.code.localeCompare(b.site.code);
  else if (key === "percent") order = ratio(a.site) - ratio(b.site);
  else if (key === "expected") order = expectedOf(a.site) - expectedOf(b.site);
  else if (key === "checked_in") order = a.site.checked_in - b.site.checked_in;
  else order = a.position - b.position;
  if (order === 0) order = a.position - b.position;
  return state.sort.descending ? -order : order;
}

function placeRows() {
  const entries = [...state.sites.values()].sort(compare);
  const fragment = document.createDocumentFragment();
  for (const entry of entries) fragment.append(entry.row);
  tbody.append(fragment);
  for (const th of table.querySelectorAll("th[data-sort]")) {
    const sorted = th.dataset.sort === state.sort.key;
    th.setAttribute(
      "aria-sort",
      sorted ? (state.sort.descending ? "descending" : "ascending") : "none",
    );
  }
}

function applyFilter() {
  const wanted = fold(filterInput.value.trim());
  state.filter = wanted;
  let shown = 0;
  for (const entry of state.sites.values()) {
    const hidden = wanted !== "" && !entry.folded.includes(wanted);
    if (entry.row.hidden !== hidden) entry.row.hidden = hidden;
    if (!hidden) shown += 1;
  }
  summary.textContent = t("js.board.shown", {
    shown: formatNumber(shown),
    count: formatNumber(state.sites.size),
  });
  element("board-empty").hidden = shown > 0 || state.sites.size === 0;
}

function render(data) {
  const old = state.sites;
  state.sites = new Map();
  (data.sites ?? []).forEach((site, position) => {
    const row = old.get(site.code)?.row ?? rowTemplate.content.firstElementChild.cloneNode(true);
    row.dataset.site = site.code;
    const entry = { site: { ...site }, row, position, folded: fold(`${site.code} ${site.name}`) };
    state.sites.set(site.code, entry);
    fillRow(entry);
  });
  for (const [code, entry] of old) if (!state.sites.has(code)) entry.row.remove();
  state.total = { ...state.total, ...(data.total ?? {}) };
  state.conflicts = data.conflicts ?? 0;
  placeRows();
  applyFilter();
  showTotal();
  element("board-loading").hidden = true;
  table.hidden = state.sites.size === 0;
  element("board-none").hidden = state.sites.size > 0;
}

async function refresh() {
  if (state.loading) return state.loading;
  state.buffered = [];
  state.loading = (async () => {
    const answer = await request("GET", `${base}/attendance`, undefined, 20000);
    if (!answer.ok) {
      element("board-loading").textContent = t("js.board.failed", {
        message: answer.error?.message || answer.error?.code || "",
      });
      return;
    }
    state.seq = answer.data.seq ?? -1;
    render(answer.data);
  })().finally(() => {
    state.loading = null;
    const waiting = state.buffered;
    state.buffered = [];
    for (const [event, message] of waiting) apply(event, message);
  });
  return state.loading;
}

/** One site's new figure: its row and the total, nothing else. */
function setPresent(present) {
  const entry = present && state.sites.get(present.site);
  if (!entry || typeof present.checked_in !== "number") return;
  const change = present.checked_in - entry.site.checked_in;
  if (change === 0) return;
  entry.site.checked_in = present.checked_in;
  state.total.checked_in += change;
  fillRow(entry);
  showTotal();
}

let siteChanges = null;

function apply(event, message) {
  if (state.loading) {
    state.buffered.push([event, message]);
    return;
  }
  if (message.seq <= state.seq) return;
  const data = event.data ?? {};
  switch (event.type) {
    case "delegate/checked_in":
    case "delegate/checkin_undone":
      setPresent(data.present);
      break;
    case "delegate/checkin_conflict":
      state.conflicts += 1;
      showTotal();
      break;
    case "site/created":
    case "site/updated":
    case "site/deleted":
    case "delegate/created":
    case "delegate/updated":
    case "delegate/removed":
    case "delegates/imported":
    case "delegate/checkin_conflict_resolved":
      // Rare and may change many figures: read them again, once for a burst.
      window.clearTimeout(siteChanges);
      siteChanges = window.setTimeout(refresh, 500);
      break;
    default:
      break;
  }
}

let filterTimer = null;
filterInput.addEventListener("input", () => {
  window.clearTimeout(filterTimer);
  filterTimer = window.setTimeout(applyFilter, FILTER_DELAY_MS);
});

table.querySelector("thead").addEventListener("click", (e) => {
  const button = e.target.closest("button[data-sort]");
  if (!button) return;
  const key = button.dataset.sort;
  // A new column starts with the largest figures first (names from A).
  state.sort =
    state.sort.key === key
      ? { key, descending: !state.sort.descending }
      : { key, descending: key !== "site" };
  placeRows();
  announce(
    t(state.sort.descending ? "js.board.sorted_descending" : "js.board.sorted_ascending", {
      column: button.textContent.trim(),
    }),
  );
});

let snapshots = 0;
// The events of the catalogue this page does nothing with (the rest it handles).
const IGNORED = eventSet(
  ...eventsOf("agenda", "awards", "minutes"),
  ...MAKING,
  "conference/updated",
  "delegate/reissued",
  "document/updated",
);
followPage(conferenceId, {
  ignored: IGNORED,
  // The first snapshot comes with the page's own first reading; a later one means a
  // reconnection missed events, so the figures are read again.
  onSnapshot: () => {
    snapshots += 1;
    if (snapshots > 1) refresh();
  },
  onEvent: apply,
});
refresh();
