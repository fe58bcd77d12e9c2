// The chair's speaker list of one item: requests to approve or reject, the queue to
// reorder (drag and drop, move buttons, or Alt+Up/Down on an entry), the speaker on the
// floor with the countdown, calling the next one, closing and opening the list.
// Everything it shows comes from the shared live state; a change is sent to the API and
// shown when its event comes back. A reorder made on an older version of the list is
// refused by the server: the conflict and the list as it is now are shown, never applied.

import { clock, elapsedSeconds, queueOf, requestsOf, speakingOf } from "./live-agenda.js";
import { announce, element, t } from "./page.js";
import { moved, sortable } from "./reorder.js";
import { formatTime } from "./lib/format.js";


function make(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function button(label, act, id, extra = "", kind = "button-secondary") {
  const node = make("button", kind);
  node.type = "button";
  node.dataset.act = act;
  node.dataset.id = id;
  node.append(label);
  if (extra) node.append(make("span", "visually-hidden", ` ${extra}`));
  return node;
}

/** Seconds a speaker on item has: its own limit, its kind's, or the default. */
export function limitOf(state, item) {
  if (!item) return 0;
  if (item.speaking_limit_seconds > 0) return item.speaking_limit_seconds;
  const settings = state.settings ?? {};
  return Number(settings.kind_limits?.[item.kind] ?? 0) || settings.default_speaking_seconds || 0;
}

/** "4:05" left, or "+0:12" past the limit. */
export function countdownText(remaining) {
  return remaining >= 0 ? clock(remaining) : `+${clock(-remaining)}`;
}

export class SpeakersPanel {
  constructor({ call, siteName, now }) {
    this.call = call;
    this.siteName = siteName;
    this.now = now;
    this.state = null;
    this.itemId = null;
    this.pinned = null; // an item the chair chose to look at, else the current one
    this.overtimeTold = null;
    this.queue = element("queue");
    this.requests = element("requests");
    this.bind();
  }

  bind() {
    element("call-next").addEventListener("click", () => this.callNext());
    element("list-open").addEventListener("click", () => this.toggleOpen());
    element("timer-toggle").addEventListener("click", () => this.toggleTimer());
    element("speaker-finish").addEventListener("click", () => this.finish());
    element("conflict-dismiss").addEventListener("click", () => {
      element("conflict").hidden = true;
      this.queue.querySelector("button")?.focus();
    });
    for (const list of [this.queue, this.requests]) {
      list.addEventListener("click", (e) => {
        const target = e.target.closest("button[data-act]");
        if (target) this.act(target.dataset.act, target.dataset.id);
      });
    }
    sortable(this.queue, { onMove: (order, id) => this.sendOrder(order, id) });
    element("add-speaker").addEventListener("submit", (e) => {
      e.preventDefault();
      this.add(e.target);
    });
  }

  /** The item whose list is shown: the one the chair chose, else the running, else the next. */
  show(itemId) {
    this.pinned = itemId;
    this.render();
    element("speakers-heading").focus?.();
  }

  list() {
    return this.state.lists.get(this.itemId) ?? null;
  }

  speakerLine(speaker) {
    const parts = [speaker.title, speaker.unit].filter(Boolean);
    if (speaker.site) parts.push(this.siteName(speaker.site));
    return parts.join(" · ");
  }

  entry(speaker, { queued, index, count }) {
    const li = make("li", "chair-speaker");
    li.dataset.id = speaker.id;
    li.dataset.kind = speaker.kind;
    const head = make("p", "chair-speaker-head");
    if (queued) head.append(make("span", "chair-position", `${index + 1}.`), " ");
    head.append(make("strong", "chair-speaker-name", speaker.name));
    if (speaker.kind !== "request") {
      head.append(" ", make("span", "chair-kind", t(`js.chair.kind.${speaker.kind}`)));
    }
    li.append(head);
    const line = this.speakerLine(speaker);
    if (line) li.append(make("p", "chair-speaker-line", line));
    if (speaker.topic) li.append(make("p", "chair-speaker-topic", speaker.topic));
    if (!queued && speaker.requested_at) {
      li.append(make("p", "hint", t("js.chair.asked_at", { time: formatTime(speaker.requested_at) })));
    }
    const actions = make("div", "chair-speaker-actions");
    if (queued) {
      li.draggable = true;
      const up = button("↑", "up", speaker.id, t("js.chair.move_up", { name: speaker.name }));
      const down = button("↓", "down", speaker.id, t("js.chair.move_down", { name: speaker.name }));
      up.setAttribute("aria-keyshortcuts", "Alt+ArrowUp");
      down.setAttribute("aria-keyshortcuts", "Alt+ArrowDown");
      up.disabled = index === 0;
      down.disabled = index === count - 1;
      actions.append(
        up,
        down,
        button(t("js.chair.call"), "call", speaker.id, speaker.name),
        button(t("js.chair.remove"), "reject", speaker.id, speaker.name),
      );
    } else {
      actions.append(
        button(t("js.chair.approve"), "approve", speaker.id, speaker.name, "button"),
        button(t("js.chair.reject"), "reject", speaker.id, speaker.name),
      );
    }
    li.append(actions);
    return li;
  }

  /** Draw the list from the state (after a snapshot or an event). */
  render(state = this.state) {
    this.state = state;
    const pinned = this.pinned && state.items.has(this.pinned) ? this.pinned : null;
    const item = pinned
      ? state.items.get(pinned)
      : (state.current && state.items.get(state.current)) || this.fallback?.(state) || null;
    this.itemId = item ? item.id : null;
    element("list-item").textContent = item ? item.title : t("js.chair.no_item");
    const list = this.list();
    const open = list ? list.open : item ? item.speakers_open : true;
    const listOpen = element("list-open");
    listOpen.textContent = t(open ? "js.chair.list.close" : "js.chair.list.open");
    listOpen.disabled = !item;
    element("list-state").textContent = item
      ? t(open ? "js.chair.list.is_open" : "js.chair.list.is_closed", {
          limit: clock(limitOf(state, item)),
        })
      : "";
    element("list-state").dataset.open = String(open);

    // Keep the focus on the same control of the same entry across the redraw.
    const active = document.activeElement;
    const keep =
      active?.dataset?.act && active.dataset.id
        ? { id: active.dataset.id, act: active.dataset.act }
        : null;

    const requests = item ? requestsOf(state, item.id) : [];
    this.requests.replaceChildren(
      ...requests.map((s) => this.entry(s, { queued: false })),
    );
    element("requests-count").textContent = String(requests.length);
    element("requests-empty").hidden = requests.length > 0;

    const queue = item ? queueOf(state, item.id) : [];
    this.queue.replaceChildren(
      ...queue.map((s, index) => this.entry(s, { queued: true, index, count: queue.length })),
    );
    element("queue-count").textContent = String(queue.length);
    element("queue-empty").hidden = queue.length > 0;
    element("call-next").disabled = queue.length === 0;

    if (keep) {
      const li = [...this.queue.children, ...this.requests.children].find(
        (node) => node.dataset.id === keep.id,
      );
      const target = li?.querySelector(`button[data-act="${keep.act}"]`);
      if (target && !target.disabled) target.focus();
      else li?.querySelector("button:not(:disabled)")?.focus();
    }
    this.renderSpeaking();
  }

  renderSpeaking() {
    const speaker = this.itemId ? speakingOf(this.state, this.itemId) : null;
    this.speaker = speaker;
    element("speaking").hidden = !speaker;
    if (!speaker) return;
    element("speaking-name").textContent = speaker.name;
    element("speaking-line").textContent = [
      speaker.kind !== "request" ? t(`js.chair.kind.${speaker.kind}`) : "",
      this.speakerLine(speaker),
    ]
      .filter(Boolean)
      .join(" · ");
    const running = Boolean(speaker.timer_started_at);
    const toggle = element("timer-toggle");
    toggle.textContent = t(running ? "js.chair.timer.pause" : "js.chair.timer.start");
    toggle.dataset.running = String(running);
    this.tick();
  }

  /** The countdown, from the server's clock; called a few times a second. */
  tick() {
    const speaker = this.speaker;
    if (!speaker) return;
    const spoken = elapsedSeconds(speaker, this.now());
    const limit = speaker.limit_seconds || 0;
    const remaining = limit - spoken;
    const over = limit > 0 && remaining < 0;
    const box = element("countdown");
    const value = limit > 0 ? countdownText(remaining) : clock(spoken);
    const valueNode = element("countdown-value");
    if (valueNode.textContent !== value) valueNode.textContent = value;
    const mode = over ? "over" : speaker.timer_started_at ? "running" : "paused";
    if (box.dataset.state !== mode) box.dataset.state = mode;
    const note = over
      ? t("js.chair.timer.over", { limit: clock(limit) })
      : t(speaker.timer_started_at ? "js.chair.timer.running" : "js.chair.timer.paused", {
          spoken: clock(spoken),
          limit: clock(limit),
        });
    const noteNode = element("countdown-note");
    if (noteNode.textContent !== note) noteNode.textContent = note;
    const key = `${speaker.id}:${speaker.timer_generation}`;
    if (over && this.overtimeTold !== key) {
      this.overtimeTold = key;
      announce(t("js.chair.timer.over_announce", { name: speaker.name }));
    }
  }

  error(answer) {
    const node = element("speakers-error");
    if (answer.ok) {
      node.hidden = true;
      return true;
    }
    node.textContent = t("js.chair.failed", {
      message: answer.error?.message || answer.error?.code || "",
    });
    node.hidden = false;
    return false;
  }

  async act(action, id) {
    if (action === "up" || action === "down") {
      this.move(id, action === "up" ? -1 : 1);
      return;
    }
    this.error(await this.call("POST", `/speakers/${encodeURIComponent(id)}`, { action }));
  }

  async callNext() {
    if (!this.itemId || element("call-next").disabled) return;
    const answer = await this.call(
      "POST",
      `/agenda/${encodeURIComponent(this.itemId)}/speakers/next`,
    );
    if (this.error(answer)) {
      const name = answer.data?.changed?.find((s) => s.id === answer.data.speaking)?.name;
      if (name) announce(t("js.chair.called", { name }));
    }
  }

  async toggleOpen() {
    if (!this.itemId) return;
    const list = this.list();
    const open = list ? list.open : this.state.items.get(this.itemId)?.speakers_open;
    this.error(
      await this.call("POST", `/agenda/${encodeURIComponent(this.itemId)}/speakers/open`, {
        open: !open,
      }),
    );
  }

  async toggleTimer() {
    const speaker = this.speaker;
    if (!speaker) return;
    const action = speaker.timer_started_at ? "pause" : "start";
    this.error(
      await this.call("POST", `/speakers/${encodeURIComponent(speaker.id)}`, { action }),
    );
  }

  async finish() {
    if (!this.speaker) return;
    this.error(
      await this.call("POST", `/speakers/${encodeURIComponent(this.speaker.id)}`, {
        action: "finish",
      }),
    );
  }

  move(id, step) {
    const order = moved(queueOf(this.state, this.itemId).map((s) => s.id), id, step);
    if (order) this.sendOrder(order, id);
  }

  async sendOrder(order, movedId) {
    const itemId = this.itemId;
    const list = this.list();
    if (!itemId || !list) return;
    const answer = await this.call(
      "POST",
      `/agenda/${encodeURIComponent(itemId)}/speakers/order`,
      { order, version: list.version },
    );
    if (answer.ok) {
      element("speakers-error").hidden = true;
      element("conflict").hidden = true;
      const name = list.speakers.get(movedId)?.name ?? "";
      announce(t("js.chair.moved", { name, position: order.indexOf(movedId) + 1 }));
      return;
    }
    if (answer.status === 409) {
      await this.conflict(itemId);
      return;
    }
    this.error(answer);
  }

  /** The list changed meanwhile: say so and show it as it is now (nothing is applied). */
  async conflict(itemId) {
    const fresh = await this.call("GET", `/agenda/${encodeURIComponent(itemId)}/speakers`);
    const box = element("conflict");
    const list = element("conflict-list");
    element("conflict-text").textContent = t("js.chair.conflict");
    if (fresh.ok) {
      const byId = new Map(fresh.data.speakers.map((s) => [s.id, s]));
      list.replaceChildren(
        ...fresh.data.order.map((id) => {
          const speaker = byId.get(id);
          const line = speaker?.site ? ` (${this.siteName(speaker.site)})` : "";
          return make("li", "", `${speaker?.name ?? id}${line}`);
        }),
      );
      list.dataset.version = String(fresh.data.version);
    } else {
      list.replaceChildren();
    }
    box.hidden = false;
    element("conflict-dismiss").focus();
  }

  async add(form) {
    const error = element("add-error");
    error.hidden = true;
    if (!this.itemId) return;
    const name = form.elements.name.value.trim();
    if (!name) {
      error.textContent = t("js.chair.add.name_needed");
      error.hidden = false;
      form.elements.name.focus();
      return;
    }
    const body = { name, kind: form.elements.kind.value, topic: form.elements.topic.value.trim() };
    const site = form.elements.site.value.trim().toUpperCase();
    if (site) body.site = site;
    const answer = await this.call(
      "POST",
      `/agenda/${encodeURIComponent(this.itemId)}/speakers`,
      body,
    );
    if (!answer.ok) {
      error.textContent = t("js.chair.failed", {
        message: answer.error?.message || answer.error?.code || "",
      });
      error.hidden = false;
      return;
    }
    form.reset();
    announce(t("js.chair.added", { name }));
    form.elements.name.focus();
  }
}
