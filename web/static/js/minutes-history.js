// A section's history: every saved revision (who, when) and the comparison of any two,
// the changed lines marked + and − (and named, not only coloured).

import { t } from "./page.js";
import { clone, diffItems, errorText, momentOf, relabel, roleIn } from "./minutes-text.js";

export class RevisionHistory {
  constructor(prefix, path, call) {
    this.path = path;
    this.call = call;
    const history = clone("history-template");
    this.root = history;
    this.fromSelect = relabel(history, "from", "from-label", `${prefix}-from`);
    this.toSelect = relabel(history, "to", "to-label", `${prefix}-to`);
    history.addEventListener("toggle", () => {
      if (history.open) this.load();
    });
    roleIn(history, "compare").addEventListener("submit", (e) => {
      e.preventDefault();
      this.compare();
    });
  }

  setTitle(title) {
    roleIn(this.root, "history-title").textContent = `: ${title}`;
  }

  /** Read the revisions again if they are shown. */
  refresh() {
    if (this.root.open) this.load();
  }

  async load() {
    const status = roleIn(this.root, "history-status");
    status.textContent = t("js.minutes.history.loading");
    const answer = await this.call("GET", `${this.path}/revisions`);
    const list = roleIn(this.root, "revisions");
    const form = roleIn(this.root, "compare");
    if (!answer.ok) {
      list.replaceChildren();
      form.hidden = true;
      status.textContent =
        answer.status === 404
          ? t("js.minutes.history.empty")
          : t("js.minutes.history.failed", { message: errorText(answer.error) });
      return;
    }
    const revisions = answer.data.revisions;
    status.textContent = revisions.length ? "" : t("js.minutes.history.empty");
    list.replaceChildren(
      ...revisions.map((r) =>
        Object.assign(document.createElement("li"), {
          textContent: t("js.minutes.history.item", {
            revision: r.revision,
            by: r.saved_by || t("js.minutes.someone"),
            time: momentOf(r.saved_at),
          }),
        }),
      ),
    );
    form.hidden = revisions.length === 0;
    const option = (value, label) => new Option(label, String(value));
    const numbers = revisions.map((r) => r.revision);
    const last = numbers.at(-1) ?? 0;
    this.fromSelect.replaceChildren(
      option(0, t("js.minutes.compare.empty")),
      ...numbers.map((n) => option(n, t("js.minutes.compare.revision", { revision: n }))),
    );
    this.toSelect.replaceChildren(
      ...numbers.map((n) => option(n, t("js.minutes.compare.revision", { revision: n }))),
    );
    this.fromSelect.value = String(numbers.at(-2) ?? 0);
    this.toSelect.value = String(last);
  }

  async compare() {
    const from = this.fromSelect.value;
    const to = this.toSelect.value;
    const summary = roleIn(this.root, "compare-summary");
    const answer = await this.call("GET", `${this.path}/compare?from=${from}&to=${to}`);
    const list = roleIn(this.root, "changes");
    if (!answer.ok) {
      list.replaceChildren();
      summary.textContent = t("js.minutes.history.failed", { message: errorText(answer.error) });
      return;
    }
    const changes = answer.data.changes;
    const count = (op) =>
      changes.filter((c) => c.op === op).reduce((sum, c) => sum + c.lines.length, 0);
    const labels = {
      removed: t("js.minutes.compare.removed"),
      added: t("js.minutes.compare.added"),
    };
    list.replaceChildren(...diffItems(changes, labels));
    summary.textContent = t("js.minutes.compare.summary", {
      from,
      to,
      added: count("added"),
      removed: count("removed"),
    });
  }
}
