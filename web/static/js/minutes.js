// The minutes (biên bản): one document by agenda item. Each item has the facts drafted
// from the live log (minutes-facts.js) beside the secretary's text and decisions
// (minutes-editor.js: autosave, drafts on this device, merging, history). The book's
// settings, finalising (a signed PDF) and amendments, the versions with their SHA-256.
// The live stream says when anything changes: the facts are read again (debounced),
// a section saved elsewhere is reloaded; nothing polls.

import { LiveFeed, bannerStrings, connectionBanner } from "./live.js";
import { eventSet, eventsOf } from "./lib/events.js";
import { MAKING, NOTICES } from "./lib/event-groups.js";
import { announce, conferenceApi, element, page, t } from "./page.js";
import { SectionEditor } from "./minutes-editor.js";
import { renderItemFacts, renderOpeningFacts } from "./minutes-facts.js";
import { momentOf } from "./minutes-text.js";
import { request } from "./lib/http.js";

const FACTS_DEBOUNCE_MS = 400;
const RENDER_TIMEOUT_MS = 120000; // finalising renders and signs a PDF
// What the facts (attendance, times, speakers) are drawn from: read them again after these.
const FACT_EVENTS = eventSet(
  "agenda/live",
  "agenda_item/created",
  "agenda_item/updated",
  "agenda_item/deleted",
  "agenda/reordered",
  "speakers/updated",
  "roll_call/started",
  "roll_call/answered",
  "roll_call/closed",
  "delegate/created",
  "delegate/updated",
  "delegate/removed",
  "delegates/imported",
  "delegate/checked_in",
  "delegate/checkin_undone",
  "delegate/checkin_conflict",
  "delegate/checkin_conflict_resolved",
  "site/created",
  "site/updated",
  "site/deleted",
);
const OWN = { opening: "js.minutes.section.opening", closing: "js.minutes.section.closing" };
const conferenceId = page.conference.id;
const base = conferenceApi;
const canEdit = Boolean(page.canEdit);
const roleIn = (root, name) => root.querySelector(`[data-role="${name}"]`);
const message = (error) => error?.message || error?.code || "?";

function call(method, path, body, timeoutMs = 15000) {
  return request(method, `${base}${path}`, body, timeoutMs);
}

const doc = element("minutes-doc");
const sections = new Map(); // key -> {article, editor, facts}
let book = null;
let loaded = false;
let running = null;
let settingsDirty = false;

function showError(text) {
  const node = element("minutes-error");
  node.textContent = text;
  node.hidden = !text;
}

async function fetchSection(key) {
  const answer = await call("GET", "/minutes");
  if (!answer.ok) return null;
  applyBook(answer.data.book);
  return answer.data.sections.find((s) => s.section === key) ?? null;
}

// --- the document -------------------------------------------------------------------------

function section(key) {
  let entry = sections.get(key);
  if (entry) return entry;
  const article = element("section-template").content.firstElementChild.cloneNode(true);
  const safe = key.replace(/[^A-Za-z0-9_-]/g, "_");
  article.id = `section-${safe}`;
  article.dataset.section = key;
  const heading = article.querySelector("h2");
  heading.id = `section-${safe}-title`;
  article.setAttribute("aria-labelledby", heading.id);
  const editor = new SectionEditor(key, {
    conference: conferenceId,
    call,
    canEdit,
    staff: Boolean(page.staff),
    fetchSection,
  });
  roleIn(article, "work").append(editor.root);
  editor.setFinal(book?.status === "final");
  entry = { article, editor, facts: roleIn(article, "facts"), heading };
  sections.set(key, entry);
  return entry;
}

function layout(facts) {
  const keys = ["opening", ...facts.items.map((item) => item.item), "closing"];
  const items = new Map(facts.items.map((item) => [item.item, item]));
  for (const key of keys) {
    const { article, editor, facts: slot } = section(key);
    const item = items.get(key);
    const title = item ? item.title : t(OWN[key]);
    roleIn(article, "number").textContent = item ? `${item.number}.` : "";
    roleIn(article, "title").textContent = title;
    editor.setTitle(item ? `${item.number}. ${item.title}` : title);
    article.dataset.depth = String(Math.min(item?.depth ?? 0, 3));
    const status = item?.status ?? "";
    article.dataset.status = status;
    const statusNode = roleIn(article, "status");
    statusNode.textContent = status ? t(`js.minutes.status.${status}`) : "";
    statusNode.dataset.status = status;
    statusNode.hidden = !status;
    if (status === "running") article.setAttribute("aria-current", "step");
    else article.removeAttribute("aria-current");
    if (item) renderItemFacts(slot, item);
    else if (key === "opening") renderOpeningFacts(slot, facts);
    else slot.hidden = true;
  }
  for (const [key, entry] of sections) {
    if (!keys.includes(key)) {
      entry.article.remove();
      sections.delete(key);
    }
  }
  const shown = [...doc.children].map((node) => node.dataset.section);
  if (shown.join() !== keys.join()) doc.append(...keys.map((key) => sections.get(key).article));
  followRunning(facts.items.find((item) => item.status === "running") ?? null);
}

/** The running item is marked; when one starts the page goes there (unless you type elsewhere). */
function followRunning(item) {
  const key = item?.item ?? null;
  const link = element("goto-running");
  link.hidden = key === null;
  if (key) link.href = `#${sections.get(key).heading.id}`;
  if (key === running) return;
  const first = running === null && !loaded;
  running = key;
  if (!key || first) return;
  const entry = sections.get(key);
  announce(t("js.minutes.running", { title: `${item.number}. ${item.title}` }));
  const typing = document.activeElement?.closest?.("textarea, input");
  if (typing && doc.contains(typing) && !entry.article.contains(typing)) return;
  entry.article.scrollIntoView({ block: "start" });
}

// --- the facts, read again when the live log changes --------------------------------------

let factsTimer = null;
let factsRound = 0;

function scheduleFacts() {
  window.clearTimeout(factsTimer);
  factsTimer = window.setTimeout(refreshFacts, FACTS_DEBOUNCE_MS);
}

async function refreshFacts() {
  const round = ++factsRound;
  const answer = await call("GET", "/minutes/facts");
  // An older answer arriving after a newer one is dropped.
  if (round !== factsRound || !answer.ok) return;
  layout(answer.data);
}

// --- the book: state, settings, finalising, amendments, versions ---------------------------

function applyBook(next) {
  book = next;
  const final = book.status === "final";
  const state = element("minutes-state");
  state.dataset.status = book.status;
  state.textContent = final
    ? `${t("js.minutes.state.final", { version: book.version })} ${t("js.minutes.state.final_by", {
        time: momentOf(book.finalised_at),
        by: book.finalised_by,
      })}`
    : t("js.minutes.state.draft");
  for (const { editor } of sections.values()) editor.setFinal(final);
  if (!canEdit) return;
  element("book-panel").hidden = false;
  const form = element("minutes-settings");
  // Settings being typed are not replaced by what another save brings.
  if (!settingsDirty && !form.contains(document.activeElement)) {
    for (const field of form.elements) {
      if (field.name && field.name in book) field.value = book[field.name] ?? "";
    }
  }
  for (const field of form.elements) {
    if (field.name && field.name !== "readers") field.disabled = final;
  }
  element("settings-final-note").hidden = !final;
  element("finalise-box").hidden = final;
  element("amend-form").hidden = !final;
  element("amend-submit").textContent = t("js.minutes.amend.submit", { version: book.version + 1 });
}

function applyVersions(versions) {
  element("versions-panel").hidden = versions.length === 0;
  element("versions").replaceChildren(
    ...versions
      .slice()
      .reverse()
      .map((v) => {
        const li = document.createElement("li");
        li.className = "minutes-version";
        li.dataset.version = String(v.version);
        const title = document.createElement("h3");
        title.textContent = t("js.minutes.version.title", { version: v.version });
        const made = document.createElement("p");
        made.textContent = t("js.minutes.version.made", {
          time: momentOf(v.made_at),
          by: v.made_by,
          pages: v.pages,
          amendments: v.amendments,
        });
        const hash = document.createElement("p");
        const code = document.createElement("code");
        code.className = "minutes-sha";
        code.textContent = v.sha256;
        hash.append(`${t("js.minutes.version.sha")} `, code);
        const links = document.createElement("p");
        links.className = "buttons";
        const link = (href, text, download) => {
          const a = document.createElement("a");
          a.className = "button-secondary";
          a.href = href;
          if (download) a.download = "";
          a.append(text, Object.assign(document.createElement("span"), {
            className: "visually-hidden",
            textContent: ` (${title.textContent})`,
          }));
          return a;
        };
        links.append(
          link(`${page.verify}/${encodeURIComponent(v.code)}`, t("js.minutes.version.verify")),
        );
        if (canEdit) {
          links.append(
            link(`${base}/minutes/export.pdf?version=${v.version}`, "PDF", true),
            link(`${base}/minutes/export.docx?version=${v.version}`, "DOCX", true),
          );
        }
        li.append(title, made, hash, links);
        return li;
      }),
  );
}

async function refreshBook() {
  const [minutes, versions] = await Promise.all([
    call("GET", "/minutes"),
    call("GET", "/minutes/versions"),
  ]);
  if (minutes.ok) applyBook(minutes.data.book);
  if (versions.ok) applyVersions(versions.data.versions);
}

if (canEdit) {
  const form = element("minutes-settings");
  form.addEventListener("input", () => {
    settingsDirty = true;
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const error = element("settings-error");
    const status = element("settings-status");
    error.hidden = true;
    status.textContent = "";
    const body = {};
    for (const field of form.elements) {
      if (field.name && !field.disabled) body[field.name] = field.value;
    }
    if ("title" in body && !body.title.trim()) {
      error.textContent = t("js.minutes.settings.title_needed");
      error.hidden = false;
      form.elements.title.focus();
      return;
    }
    const answer = await call("PATCH", "/minutes/settings", body);
    if (!answer.ok) {
      error.textContent = t("js.minutes.settings.failed", { message: message(answer.error) });
      error.hidden = false;
      return;
    }
    settingsDirty = false;
    applyBook(answer.data);
    status.textContent = t("js.minutes.settings.saved");
  });

  const dialog = element("finalise-dialog");
  element("finalise-open").addEventListener("click", () => {
    const pending = [...sections.values()].filter(({ editor }) => editor.pending()).length;
    const note = element("finalise-pending");
    note.textContent = pending ? t("js.minutes.finalise.pending", { count: pending }) : "";
    note.hidden = pending === 0;
    element("finalise-confirm").disabled = pending > 0;
    dialog.showModal();
    (pending ? element("finalise-cancel") : element("finalise-confirm")).focus();
  });
  element("finalise-cancel").addEventListener("click", () => dialog.close());
  element("finalise-confirm").addEventListener("click", async () => {
    dialog.close();
    const status = element("finalise-status");
    const error = element("finalise-error");
    const open = element("finalise-open");
    error.hidden = true;
    open.disabled = true;
    status.textContent = t("js.minutes.finalise.working");
    const answer = await call("POST", "/minutes/finalise", {}, RENDER_TIMEOUT_MS);
    open.disabled = false;
    if (!answer.ok) {
      status.textContent = "";
      error.textContent = t("js.minutes.finalise.failed", { message: message(answer.error) });
      error.hidden = false;
      return;
    }
    let text = t("js.minutes.finalise.done", { version: answer.data.version });
    if (answer.data.missing_characters?.length) {
      text += ` ${t("js.minutes.missing", { chars: answer.data.missing_characters.join(" ") })}`;
    }
    status.textContent = text;
    await refreshBook();
  });

  element("amend-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const area = element("amend-text");
    const error = element("amend-error");
    const status = element("amend-status");
    const submit = element("amend-submit");
    error.hidden = true;
    status.textContent = "";
    if (!area.value.trim()) {
      error.textContent = t("js.minutes.amend.empty");
      error.hidden = false;
      area.focus();
      return;
    }
    submit.disabled = true;
    status.textContent = t("js.minutes.amend.working");
    const answer = await call("POST", "/minutes/amendments", { text: area.value }, RENDER_TIMEOUT_MS);
    submit.disabled = false;
    if (!answer.ok) {
      status.textContent = "";
      error.textContent = t("js.minutes.amend.failed", { message: message(answer.error) });
      error.hidden = false;
      return;
    }
    area.value = "";
    status.textContent = t("js.minutes.amend.done", { version: answer.data.version });
    await refreshBook();
  });
}

// --- loading and the live stream ----------------------------------------------------------

async function loadAll() {
  const [minutes, facts, versions] = await Promise.all([
    call("GET", "/minutes"),
    call("GET", "/minutes/facts"),
    call("GET", "/minutes/versions"),
  ]);
  if (!minutes.ok || !facts.ok) {
    showError(t("js.minutes.load_failed", { message: message((minutes.ok ? facts : minutes).error) }));
    return;
  }
  showError("");
  applyBook(minutes.data.book);
  layout(facts.data);
  const saved = new Map(minutes.data.sections.map((s) => [s.section, s]));
  for (const [key, { editor }] of sections) editor.load(saved.get(key) ?? null);
  if (versions.ok) applyVersions(versions.data.versions);
  if (!loaded) {
    loaded = true;
    let restored = 0;
    for (const { editor } of sections.values()) if (editor.restore()) restored += 1;
    const notice = element("minutes-restored");
    notice.textContent = restored ? t("js.minutes.restored", { count: restored }) : "";
    notice.hidden = restored === 0;
  }
}

function onEvent(event) {
  if (!loaded) return;
  if (event.type === "minutes/updated") {
    sections.get(event.data.section)?.editor.remote(event.data);
  } else if (event.type === "minutes/finalised") {
    refreshBook();
    announce(
      t(event.data.amendment ? "js.minutes.event.amended" : "js.minutes.event.finalised", {
        version: event.data.version,
        by: event.data.by,
      }),
    );
  } else if (FACT_EVENTS.has(event.type)) {
    scheduleFacts();
  }
}

// The events of the catalogue this page does nothing with (the rest it handles).
const IGNORED = eventSet(
  ...eventsOf("awards"),
  ...NOTICES,
  ...MAKING,
  "agenda/settings",
  "awards/announced",
  "conference/updated",
  "delegate/reissued",
  "document/updated",
  "sites/presence",
);
const feed = new LiveFeed(conferenceId, {
  ignored: IGNORED,
  // Each snapshot (the first, and after a gap the stream could not replay) reads all again.
  onSnapshot: () => loadAll(),
  onEvent,
  onStatus: connectionBanner(element("live-region"), bannerStrings(t)),
});
window.addEventListener("pagehide", () => feed.stop());
feed.start();
