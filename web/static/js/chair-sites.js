// The chair's sites at a glance: every connection point with its connection (connected,
// disconnected, never seen), since when, its round trip, checked in / expected and its
// answer to the roll call. Built for thousands of sites: rows are made once, an event
// updates only the rows it names, the counts change by what changed, and the filter and
// sort only hide and move rows.

import { announce, element, page, t } from "./page.js";
import { formatNumber, formatTime } from "./lib/format.js";

const FILTER_DELAY_MS = 150;
const STATE_RANK = { disconnected: 0, never: 1, connected: 2 };

/** Lower case without diacritics: "Đà Nẵng" and "da nang" match. */
export function fold(text) {
  return String(text ?? "")
    .normalize("NFD")
    .replace(/\p{M}/gu, "")
    .replace(/[đĐ]/g, "d")
    .toLowerCase();
}


export class SitesPanel {
  constructor({ call, base }) {
    this.call = call;
    this.base = base;
    this.entries = new Map(); // code -> entry
    this.counts = { connected: 0, disconnected: 0, never: 0 };
    this.rollCall = null;
    this.shown = 0;
    this.filter = { text: "", state: "" };
    this.sort = "position";
    this.attendance = { seq: -1, loading: null, buffered: [] };
    this.tbody = element("sites-body");
    this.template = element("site-row");
    this.summary = element("sites-summary");
    this.bind();
  }

  bind() {
    let timer = null;
    const input = element("site-filter");
    input.addEventListener("input", () => {
      window.clearTimeout(timer);
      timer = window.setTimeout(() => {
        this.filter.text = fold(input.value.trim());
        this.applyFilter();
      }, FILTER_DELAY_MS);
    });
    element("site-state").addEventListener("change", (e) => {
      this.filter.state = e.target.value;
      this.applyFilter();
    });
    element("site-sort").addEventListener("change", (e) => {
      this.sort = e.target.value;
      this.placeRows();
      announce(t("js.chair.sites.sorted", { order: e.target.selectedOptions[0].textContent }));
    });
    element("roll-start").addEventListener("click", () => this.rollAction("POST", "/roll-call"));
    element("roll-close").addEventListener("click", () =>
      this.rollAction("POST", "/roll-call/close"),
    );
    element("roll-missing").addEventListener("click", () => {
      const select = element("site-state");
      select.value = "missing";
      this.filter.state = "missing";
      this.applyFilter();
      select.focus();
    });
  }

  async rollAction(method, path) {
    const error = element("roll-error");
    error.hidden = true;
    const answer = await this.call(method, path);
    if (!answer.ok) {
      error.textContent = t("js.chair.failed", {
        message: answer.error?.message || answer.error?.code || "",
      });
      error.hidden = false;
    }
  }

  /** Every site from a (fresh) state: rows are kept for sites that stay. */
  load(state) {
    const old = this.entries;
    this.entries = new Map();
    this.rollCall = state.rollCall;
    let position = 0;
    for (const site of state.sites.values()) {
      const entry = old.get(site.code) ?? this.newEntry(site.code);
      entry.site = site;
      entry.position = position++;
      entry.folded = fold(`${site.code} ${site.name}`);
      entry.presence = state.presence.get(site.code) ?? null;
      this.entries.set(site.code, entry);
    }
    for (const [code, entry] of old) if (!this.entries.has(code)) entry.row.remove();
    this.counts = { connected: 0, disconnected: 0, never: 0 };
    for (const entry of this.entries.values()) {
      entry.state = this.stateOf(entry);
      entry.roll = this.rollOf(entry);
      this.counts[entry.state] += 1;
      this.fill(entry);
    }
    this.placeRows();
    this.applyFilter();
    this.showCounts();
    this.showRollCall();
    element("sites-panel").hidden = false;
    element("sites-none").hidden = this.entries.size > 0;
  }

  newEntry(code) {
    const row = this.template.content.firstElementChild.cloneNode(true);
    row.dataset.site = code;
    const cells = {};
    for (const cell of row.querySelectorAll("[data-cell]")) cells[cell.dataset.cell] = cell;
    return { row, cells, figures: null, state: "never", roll: "" };
  }

  stateOf(entry) {
    if (!entry.presence) return "never";
    return entry.presence.connected ? "connected" : "disconnected";
  }

  /** "" (no roll call), "answered" or "missing". */
  rollOf(entry) {
    if (!this.rollCall) return "";
    return this.rollCall.answered?.[entry.site.code] ? "answered" : "missing";
  }

  fill(entry) {
    const { site, cells, presence, figures } = entry;
    cells.code.textContent = site.code;
    cells.name.textContent = site.name;
    cells.state.textContent = t(`js.chair.state.${entry.state}`);
    cells.state.dataset.state = entry.state;
    cells.since.textContent = presence ? formatTime(presence.since) || "–" : "–";
    cells.latency.textContent =
      entry.state === "connected" && presence.latency_ms != null
        ? t("js.chair.ms", { ms: formatNumber(presence.latency_ms) })
        : "–";
    if (figures) {
      const expected = figures.expected || figures.registered || 0;
      cells.present.textContent = `${formatNumber(figures.checked_in)} / ${formatNumber(expected)}`;
    } else {
      cells.present.textContent = "–";
    }
    if (entry.roll === "answered") {
      cells.roll.textContent = t("js.chair.roll.answered_at", {
        time: formatTime(this.rollCall.answered[site.code]),
      });
    } else if (entry.roll === "missing") {
      cells.roll.textContent = t("js.chair.roll.missing");
    } else {
      cells.roll.textContent = "–";
    }
    cells.roll.dataset.roll = entry.roll;
    entry.row.dataset.state = entry.state;
    entry.row.dataset.roll = entry.roll;
  }

  matches(entry) {
    const { text, state } = this.filter;
    if (text && !entry.folded.includes(text)) return false;
    if (!state) return true;
    if (state === "offline") return entry.state !== "connected";
    if (state === "missing" || state === "answered") return entry.roll === state;
    return entry.state === state;
  }

  applyFilter() {
    let shown = 0;
    for (const entry of this.entries.values()) {
      const hidden = !this.matches(entry);
      if (entry.row.hidden !== hidden) entry.row.hidden = hidden;
      if (!hidden) shown += 1;
    }
    this.shown = shown;
    this.showSummary();
  }

  showSummary() {
    this.summary.textContent = t("js.chair.sites.shown", {
      shown: formatNumber(this.shown),
      count: formatNumber(this.entries.size),
    });
  }

  compare(a, b) {
    let order = 0;
    switch (this.sort) {
      case "name":
        order = a.site.name.localeCompare(b.site.name, page.lang);
        break;
      case "state":
        order = STATE_RANK[a.state] - STATE_RANK[b.state];
        break;
      case "latency":
        order = (b.presence?.latency_ms ?? -1) - (a.presence?.latency_ms ?? -1);
        break;
      case "attendance": {
        const share = (e) => {
          const expected = e.figures ? e.figures.expected || e.figures.registered : 0;
          return expected > 0 ? e.figures.checked_in / expected : 2;
        };
        order = share(a) - share(b);
        break;
      }
      case "roll":
        order = (a.roll === "missing" ? 0 : 1) - (b.roll === "missing" ? 0 : 1);
        break;
      default:
        break;
    }
    return order || a.position - b.position;
  }

  placeRows() {
    const fragment = document.createDocumentFragment();
    for (const entry of [...this.entries.values()].sort((a, b) => this.compare(a, b))) {
      fragment.append(entry.row);
    }
    this.tbody.append(fragment);
  }

  /** One entry changed: its row, the counts and the summary, nothing else. */
  changed(entry) {
    const before = entry.state;
    const wasShown = !entry.row.hidden;
    entry.state = this.stateOf(entry);
    entry.roll = this.rollOf(entry);
    if (before !== entry.state) {
      this.counts[before] -= 1;
      this.counts[entry.state] += 1;
    }
    this.fill(entry);
    const shown = this.matches(entry);
    entry.row.hidden = !shown;
    if (shown !== wasShown) this.shown += shown ? 1 : -1;
  }

  showCounts() {
    for (const [state, count] of Object.entries(this.counts)) {
      document.querySelector(`[data-count="${state}"]`).textContent = formatNumber(count);
    }
    let present = 0;
    let expected = 0;
    for (const entry of this.entries.values()) {
      if (!entry.figures) continue;
      present += entry.figures.checked_in;
      expected += entry.figures.expected || entry.figures.registered || 0;
    }
    element("present-total").textContent = this.attendance.seq >= 0
      ? `${formatNumber(present)} / ${formatNumber(expected)}`
      : "–";
  }

  showRollCall() {
    const call = this.rollCall;
    const status = element("roll-status");
    const open = Boolean(call && !call.closed_at);
    element("roll-close").hidden = !open;
    element("roll-missing").hidden = !call;
    element("roll-start").textContent = t(call ? "js.chair.roll.again" : "js.chair.roll.start");
    if (!call) {
      status.textContent = t("js.chair.roll.none");
      return;
    }
    const answered = Object.keys(call.answered ?? {}).length;
    const values = {
      time: formatTime(call.started_at),
      answered: formatNumber(answered),
      count: formatNumber(this.entries.size),
      missing: formatNumber(Math.max(0, this.entries.size - answered)),
    };
    status.textContent = t(open ? "js.chair.roll.open" : "js.chair.roll.closed", values);
    status.dataset.open = String(open);
  }

  /** A live event (after the shared state took it); true when it concerned the sites. */
  event(event, message, state) {
    const data = event.data ?? {};
    switch (event.type) {
      case "sites/presence":
        for (const item of data.sites ?? []) {
          const entry = this.entries.get(item.site);
          if (!entry) continue;
          entry.presence = item;
          this.changed(entry);
        }
        this.showCounts();
        this.showSummary();
        return true;
      case "roll_call/started":
        this.rollCall = state.rollCall;
        for (const entry of this.entries.values()) this.changed(entry);
        this.showRollCall();
        this.showSummary();
        return true;
      case "roll_call/answered": {
        this.rollCall = state.rollCall;
        const entry = this.entries.get(data.site);
        if (entry) this.changed(entry);
        this.showRollCall();
        this.showSummary();
        if (entry) announce(t("js.chair.roll.heard", { site: entry.site.name }));
        return true;
      }
      case "roll_call/closed":
        this.rollCall = state.rollCall;
        this.showRollCall();
        return true;
      case "site/created":
      case "site/updated":
      case "site/deleted":
        if (event.type === "site/deleted") state.sites.delete(data.code);
        this.load(state);
        this.refreshAttendance();
        return true;
      case "delegate/checked_in":
      case "delegate/checkin_undone":
        this.present(data.present, message);
        return true;
      case "delegate/created":
      case "delegate/updated":
      case "delegate/removed":
      case "delegates/imported":
        this.refreshAttendance();
        return true;
      default:
        return false;
    }
  }

  present(present, message) {
    if (this.attendance.loading) {
      this.attendance.buffered.push([present, message]);
      return;
    }
    if (message.seq <= this.attendance.seq) return;
    const entry = present && this.entries.get(present.site);
    if (!entry || !entry.figures || typeof present.checked_in !== "number") return;
    entry.figures.checked_in = present.checked_in;
    if (typeof present.expected === "number") entry.figures.expected = present.expected;
    this.fill(entry);
    this.showCounts();
  }

  /** Checked in / expected per site, read once (and again after a gap in the stream). */
  refreshAttendance() {
    const att = this.attendance;
    if (att.loading) return att.loading;
    att.buffered = [];
    att.loading = (async () => {
      const answer = await this.call("GET", "/attendance", undefined, 20000);
      if (!answer.ok) return;
      att.seq = answer.data.seq ?? -1;
      for (const figures of answer.data.sites ?? []) {
        const entry = this.entries.get(figures.code);
        if (!entry) continue;
        entry.figures = figures;
        this.fill(entry);
      }
      this.showCounts();
    })().finally(() => {
      att.loading = null;
      const waiting = att.buffered;
      att.buffered = [];
      for (const [present, message] of waiting) this.present(present, message);
    });
    return att.loading;
  }
}
