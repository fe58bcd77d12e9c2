// One section of the minutes: the secretary's text and decisions, autosaved on the
// revision they were made on and kept on this device until saved; a stale save opens the
// merge view (the saved text beside yours, the differing lines marked); the history of
// revisions with a comparison of any two; the text shown formatted once read-only.

import { announce, t } from "./page.js";
import { RevisionHistory } from "./minutes-history.js";
import {
  clone,
  diffItems,
  diffLines,
  drafts,
  errorText,
  prose,
  relabel,
  roleIn,
  sameDecisions,
  timeOf,
} from "./minutes-text.js";

const QUIET_MS = 1500; // save once typing has stopped this long
const AT_LEAST_MS = 5000; // and at least this often while it goes on
const RETRY_MS = 5000; // after a network failure


export class SectionEditor {
  /**
   * key: the section; options: {conference, call, canEdit, staff, fetchSection, onSaved}.
   * fetchSection(key) resolves to the section as the server has it now (or null).
   */
  constructor(key, { conference, call, canEdit, staff, fetchSection, onSaved }) {
    this.key = key;
    this.conference = conference;
    this.call = call;
    this.canEdit = canEdit;
    this.fetchSection = fetchSection;
    this.onSaved = onSaved ?? (() => {});
    this.prefix = `sec-${key.replace(/[^A-Za-z0-9_-]/g, "_")}`;
    this.path = `/minutes/sections/${encodeURIComponent(key)}`;
    this.server = null; // the section as last read from the server
    this.revision = 0; // the revision the text in the editor was made on
    this.saved = { text: "", decisions: [] };
    this.dirty = false;
    this.saving = false;
    this.again = false;
    this.conflict = null; // the saved section a stale save ran into
    this.final = false;
    this.timer = null;
    this.firstChange = null;
    this.root = document.createElement("div");
    this.read = clone("read-template");
    this.root.append(this.read);
    if (canEdit) this.buildEditor();
    if (staff) {
      this.history = new RevisionHistory(this.prefix, this.path, call);
      this.root.append(this.history.root);
    }
  }

  buildEditor() {
    const editor = clone("editor-template");
    this.editor = editor;
    this.read.hidden = true;
    this.text = relabel(editor, "text", "text-label", `${this.prefix}-text`);
    this.text.setAttribute("aria-describedby", `format-hint ${this.prefix}-save`);
    this.textField = roleIn(editor, "text-field");
    this.decisionList = roleIn(editor, "decisions");
    this.saveStatus = roleIn(editor, "save");
    this.saveStatus.id = `${this.prefix}-save`;
    this.notice = roleIn(editor, "notice");
    this.merge = roleIn(editor, "merge");
    this.yours = relabel(editor, "yours", "yours-label", `${this.prefix}-yours`);
    this.text.addEventListener("input", () => this.changed());
    this.yours.addEventListener("input", () => {
      this.changed();
      this.showDifferences();
    });
    this.decisionList.addEventListener("input", () => this.changed());
    editor.addEventListener("click", (e) => {
      const act = e.target.closest("button[data-act]")?.dataset.act;
      if (act === "add-decision") this.addDecision("", true);
      else if (act === "remove-decision") this.removeDecision(e.target.closest("li"));
      else if (act === "merge-save") this.mergeSave();
      else if (act === "merge-theirs") this.useTheirs();
    });
    this.root.append(editor);
  }

  setTitle(title) {
    this.title = title;
    const label = roleIn(this.root, "label-title");
    if (label) label.textContent = `: ${title}`;
    this.history?.setTitle(title);
  }

  // --- values, decisions, status ------------------------------------------------------------

  decisionInputs() {
    return [...this.decisionList.querySelectorAll("input")];
  }

  values() {
    const text = this.conflict ? this.yours.value : this.text.value;
    const decisions = this.decisionInputs()
      .map((input) => input.value.trim())
      .filter(Boolean);
    return { text, decisions };
  }

  isSaved(values) {
    return values.text === this.saved.text && sameDecisions(values.decisions, this.saved.decisions);
  }

  setValues(text, decisions) {
    this.text.value = text;
    this.decisionList.replaceChildren();
    for (const line of decisions) this.addDecision(line, false);
  }

  addDecision(value, focus) {
    const li = clone("decision-template");
    this.decisionList.append(li);
    const input = roleIn(li, "input");
    input.value = value;
    this.numberDecisions();
    if (focus) input.focus();
  }

  removeDecision(li) {
    const next = li.nextElementSibling ?? li.previousElementSibling;
    li.remove();
    this.numberDecisions();
    (next ? roleIn(next, "input") : this.editor.querySelector('[data-act="add-decision"]')).focus();
    this.changed();
  }

  numberDecisions() {
    this.decisionInputs().forEach((input, n) => {
      const li = input.closest("li");
      const label = t("js.minutes.decision.label", { number: n + 1 });
      relabel(li, "input", "label", `${this.prefix}-decision-${n + 1}`);
      roleIn(li, "label").textContent = label;
      roleIn(li, "remove-label").textContent = `: ${label}`;
    });
  }

  status(text, state) {
    if (!this.saveStatus) return;
    this.saveStatus.textContent = text;
    this.saveStatus.dataset.state = state;
  }

  savedStatus() {
    if (this.revision === 0) this.status("", "new");
    else {
      const time = timeOf(this.server?.updated_at);
      this.status(t("js.minutes.save.saved", { revision: this.revision, time }), "saved");
    }
  }

  showNotice(text) {
    this.notice.textContent = text;
    this.notice.hidden = !text;
  }

  // --- from the server ----------------------------------------------------------------------

  /** The section as the server has it (null: never saved); unsaved work is never replaced. */
  load(section) {
    const s = section ?? { text: "", decisions: [], revision: 0, updated_by: "", updated_at: null };
    if (this.canEdit && (this.dirty || this.saving || this.conflict)) {
      if (s.revision > this.revision && !this.conflict) {
        this.showNotice(t("js.minutes.notice.updated", { by: s.updated_by, revision: s.revision }));
      }
      return;
    }
    this.accept(s);
    if (this.canEdit && !this.final) {
      this.setValues(s.text, s.decisions);
      this.savedStatus();
    }
  }

  accept(section) {
    this.server = section;
    this.revision = section.revision;
    this.saved = { text: section.text, decisions: [...section.decisions] };
    this.renderRead();
    this.history?.refresh();
  }

  /** Text typed here but not saved (a reload, a crash) comes back; true if there was some. */
  restore() {
    const draft = drafts.read(this.conference, this.key);
    if (!draft || !this.canEdit) return false;
    const decisions = Array.isArray(draft.decisions) ? draft.decisions.map(String) : [];
    if (this.isSaved({ text: draft.text, decisions })) {
      drafts.drop(this.conference, this.key);
      return false;
    }
    if (this.final) {
      // Too late to save it: shown here so that it can go into an amendment.
      const kept = Object.assign(document.createElement("p"), {
        className: "notice minutes-kept",
        textContent: t("js.minutes.notice.final_draft", { text: draft.text }),
      });
      this.root.prepend(kept);
      return true;
    }
    this.setValues(draft.text, decisions);
    this.dirty = true;
    if (draft.revision === this.revision) {
      this.status(t("js.minutes.save.restored"), "unsaved");
      this.schedule();
    } else {
      this.enterConflict(this.server);
    }
    return true;
  }

  /** minutes/updated for this section: reload it unless unsaved work is here. */
  async remote(data) {
    if (data.revision <= this.revision || this.saving) return;
    if (this.conflict || (this.canEdit && this.dirty)) {
      if (this.conflict) {
        const section = await this.fetchSection(this.key);
        if (section && this.conflict && section.revision > this.conflict.revision) {
          this.enterConflict(section);
        }
        return;
      }
      this.showNotice(t("js.minutes.notice.updated", { by: data.by, revision: data.revision }));
      return;
    }
    const section = await this.fetchSection(this.key);
    if (section) this.load(section);
  }

  setFinal(final) {
    this.final = final;
    if (!this.canEdit) return;
    this.editor.hidden = final;
    this.read.hidden = !final;
    if (final) {
      window.clearTimeout(this.timer);
      if (this.dirty || this.conflict) this.showNotice(t("js.minutes.save.final"));
    }
  }

  pending() {
    return this.canEdit && (this.dirty || this.saving || this.conflict !== null);
  }

  renderRead() {
    const { text, decisions } = this.saved;
    roleIn(this.read, "prose").replaceChildren(prose(text));
    roleIn(this.read, "empty").hidden = Boolean(text.trim());
    const list = roleIn(this.read, "decisions");
    list.replaceChildren(
      ...decisions.map((line) => Object.assign(document.createElement("li"), { textContent: line })),
    );
    list.hidden = decisions.length === 0;
    roleIn(this.read, "decisions-heading").hidden = decisions.length === 0;
  }

  // --- autosave -----------------------------------------------------------------------------

  changed() {
    if (!this.canEdit || this.final) return;
    const values = this.values();
    this.dirty = !this.isSaved(values);
    if (this.dirty) {
      drafts.write(this.conference, this.key, { ...values, revision: this.revision, at: Date.now() });
    } else {
      drafts.drop(this.conference, this.key);
    }
    if (this.conflict) return;
    if (!this.dirty) {
      window.clearTimeout(this.timer);
      this.firstChange = null;
      if (!this.saving) this.savedStatus();
      return;
    }
    this.status(t("js.minutes.save.unsaved"), "unsaved");
    this.schedule();
  }

  schedule() {
    window.clearTimeout(this.timer);
    const now = Date.now();
    if (this.firstChange === null) this.firstChange = now;
    const wait = Math.max(0, Math.min(QUIET_MS, this.firstChange + AT_LEAST_MS - now));
    this.timer = window.setTimeout(() => this.save(), wait);
  }

  async save() {
    window.clearTimeout(this.timer);
    this.timer = null;
    if (this.saving) {
      this.again = true;
      return;
    }
    if (!this.dirty || this.conflict || this.final) return;
    const values = this.values();
    this.saving = true;
    this.firstChange = null;
    this.status(t("js.minutes.save.saving"), "saving");
    const answer = await this.call("POST", this.path, { ...values, revision: this.revision });
    this.saving = false;
    if (answer.ok) {
      this.accept(answer.data);
      this.showNotice("");
      this.changed();
      if (!this.dirty) this.savedStatus();
      this.again = false;
      this.onSaved(this);
      return;
    }
    const error = answer.error ?? {};
    const current = error.details;
    if (answer.status === 409 && error.field === "revision" && current) {
      if (current.text === values.text && sameDecisions(current.decisions, values.decisions)) {
        // Saved meanwhile with the very same words (another tab of this browser): no merge.
        this.accept(current);
        this.changed();
        if (!this.dirty) this.savedStatus();
        return;
      }
      this.enterConflict(current);
    } else if (answer.status === 409) {
      this.status(t("js.minutes.save.final"), "error");
    } else if (answer.unreachable) {
      this.status(t("js.minutes.save.offline"), "error");
      this.timer = window.setTimeout(() => this.save(), RETRY_MS);
    } else {
      this.status(t("js.minutes.save.error", { message: errorText(error) }), "error");
    }
  }

  // --- the merge view -----------------------------------------------------------------------

  enterConflict(section) {
    window.clearTimeout(this.timer);
    const first = this.conflict === null;
    const yours = this.values().text;
    this.conflict = section;
    if (first) this.yours.value = yours;
    this.textField.hidden = true;
    this.merge.hidden = false;
    this.showNotice("");
    const by = section.updated_by || t("js.minutes.someone");
    roleIn(this.merge, "merge-intro").textContent = t("js.minutes.merge.intro", {
      by,
      revision: section.revision,
      time: timeOf(section.updated_at),
    });
    roleIn(this.merge, "theirs-heading").textContent = t("js.minutes.merge.theirs", {
      revision: section.revision,
      by,
    });
    const theirs = roleIn(this.merge, "theirs-decisions");
    theirs.replaceChildren(
      ...section.decisions.map((line) =>
        Object.assign(document.createElement("li"), { textContent: line }),
      ),
    );
    theirs.hidden = section.decisions.length === 0;
    roleIn(this.merge, "theirs-decisions-label").hidden = theirs.hidden;
    // Decisions are not lost either: the saved ones join yours (remove any you do not keep).
    const mine = new Set(this.values().decisions);
    for (const line of section.decisions) if (!mine.has(line)) this.addDecision(line, false);
    roleIn(this.merge, "merge-error").hidden = true;
    this.showDifferences();
    this.status(t("js.minutes.save.conflict"), "error");
    if (first) {
      roleIn(this.merge, "merge-heading").focus();
      announce(t("js.minutes.merge.announce", { title: this.title }));
    }
  }

  showDifferences() {
    if (!this.conflict) return;
    const changes = diffLines(this.conflict.text, this.yours.value);
    const labels = {
      removed: t("js.minutes.merge.only_saved"),
      added: t("js.minutes.merge.only_yours"),
    };
    roleIn(this.merge, "theirs").replaceChildren(...diffItems(changes, labels, ["equal", "removed"]));
    const added = diffItems(changes, labels, ["added"]);
    if (added.length === 0) {
      added.push(Object.assign(document.createElement("li"), { textContent: t("js.minutes.merge.none") }));
    }
    roleIn(this.merge, "added").replaceChildren(...added);
  }

  leaveConflict(text) {
    this.conflict = null;
    this.merge.hidden = true;
    this.textField.hidden = false;
    this.text.value = text;
    this.text.focus();
  }

  async mergeSave() {
    if (!this.conflict) return;
    const values = this.values();
    const buttons = this.merge.querySelectorAll("button");
    for (const button of buttons) button.disabled = true;
    this.status(t("js.minutes.save.saving"), "saving");
    this.saving = true;
    const answer = await this.call("POST", this.path, {
      ...values,
      revision: this.conflict.revision,
    });
    this.saving = false;
    for (const button of buttons) button.disabled = false;
    if (answer.ok) {
      this.leaveConflict(values.text);
      this.accept(answer.data);
      this.changed();
      if (!this.dirty) this.savedStatus();
      announce(t("js.minutes.merge.saved", { revision: this.revision }));
      this.onSaved(this);
      return;
    }
    const error = answer.error ?? {};
    if (answer.status === 409 && error.field === "revision" && error.details) {
      this.enterConflict(error.details);
      return;
    }
    const problem = roleIn(this.merge, "merge-error");
    problem.textContent = t("js.minutes.save.error", { message: errorText(error) });
    problem.hidden = false;
    this.status(t("js.minutes.save.conflict"), "error");
  }

  useTheirs() {
    if (!this.conflict) return;
    const section = this.conflict;
    this.leaveConflict(section.text);
    this.accept(section);
    this.setValues(section.text, section.decisions);
    this.dirty = false;
    drafts.drop(this.conference, this.key);
    this.savedStatus();
    announce(t("js.minutes.merge.dropped"));
  }
}
