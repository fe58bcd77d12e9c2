// The minutes' text helpers: the secretary's simple formatting shown as HTML (as
// agenda/minutes/text.py parses it for the documents), a line comparison for the merge
// view, times in the conference's zone, durations, and the drafts kept on this device.

import { DAY_AND_TIME, LOCALE, zoneFormat } from "./lib/format.js";

export const clone = (id) => document.getElementById(id).content.firstElementChild.cloneNode(true);
export const roleIn = (root, name) => root.querySelector(`[data-role="${name}"]`);
export const errorText = (error) => error?.message || error?.code || "?";

/** Give a cloned template's labelled control its own id (templates use "tpl-..."). */
export function relabel(root, role, labelRole, id) {
  const control = roleIn(root, role);
  control.id = id;
  roleIn(root, labelRole).htmlFor = id;
  return control;
}

const BULLET = /^[-*] +(.*)$/;
const NUMBERED = /^(\d{1,4})\. +(.*)$/;
const BOLD = /\*\*(.+?)\*\*/g;

/** A line's text as nodes, bold between pairs of "**" (never HTML: text nodes only). */
function runs(line) {
  const out = [];
  let at = 0;
  for (const match of line.matchAll(BOLD)) {
    if (match.index > at) out.push(document.createTextNode(line.slice(at, match.index)));
    const strong = document.createElement("strong");
    strong.textContent = match[1];
    out.push(strong);
    at = match.index + match[0].length;
  }
  if (at < line.length) out.push(document.createTextNode(line.slice(at)));
  return out;
}

function listItem(line) {
  const stripped = line.trimStart();
  let match = BULLET.exec(stripped);
  if (match) return { kind: "ul", text: match[1] };
  match = NUMBERED.exec(stripped);
  if (match) return { kind: "ol", start: Number(match[1]), text: match[2] };
  return null;
}

/** Paragraphs (blank lines between), "- " and "1. " lists and **bold**, as a fragment. */
export function prose(text) {
  const fragment = document.createDocumentFragment();
  const chunks = String(text ?? "")
    .replace(/\r\n?/g, "\n")
    .split(/\n[ \t]*\n/)
    .map((chunk) => chunk.split("\n").filter((line) => line.trim()))
    .filter((lines) => lines.length);
  for (const lines of chunks) {
    let last = null;
    for (const raw of lines) {
      const line = raw.trimEnd();
      const item = listItem(line);
      if (item) {
        if (!last || last.localName !== item.kind) {
          last = document.createElement(item.kind);
          if (item.kind === "ol" && item.start !== 1) last.start = item.start;
          fragment.append(last);
        }
        const li = document.createElement("li");
        li.append(...runs(item.text.trim()));
        last.append(li);
      } else if (last && last.localName !== "p" && /^\s/.test(line)) {
        last.lastElementChild.append(" ", ...runs(line.trim()));
      } else if (last && last.localName === "p") {
        last.append(document.createElement("br"), ...runs(line.trim()));
      } else {
        last = document.createElement("p");
        last.append(...runs(line.trim()));
        fragment.append(last);
      }
    }
  }
  return fragment;
}

// Above this many line pairs the comparison falls back to "is the line anywhere in the other".
const LCS_LIMIT = 4_000_000;

/** Line by line what changed from old to new: [{op: equal|removed|added, lines}]. */
export function diffLines(oldText, newText) {
  const a = oldText ? oldText.split("\n") : [];
  const b = newText ? newText.split("\n") : [];
  const out = [];
  const push = (op, line) => {
    const last = out.at(-1);
    if (last && last.op === op) last.lines.push(line);
    else out.push({ op, lines: [line] });
  };
  if (a.length * b.length > LCS_LIMIT) {
    const inB = new Set(b);
    const inA = new Set(a);
    for (const line of a) push(inB.has(line) ? "equal" : "removed", line);
    for (const line of b) if (!inA.has(line)) push("added", line);
    return out;
  }
  // Longest common subsequence, filled from the end so the walk goes forwards.
  const width = b.length + 1;
  const table = new Uint32Array((a.length + 1) * width);
  for (let i = a.length - 1; i >= 0; i -= 1) {
    for (let j = b.length - 1; j >= 0; j -= 1) {
      table[i * width + j] =
        a[i] === b[j]
          ? table[(i + 1) * width + j + 1] + 1
          : Math.max(table[(i + 1) * width + j], table[i * width + j + 1]);
    }
  }
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      push("equal", a[i]);
      i += 1;
      j += 1;
    } else if (table[(i + 1) * width + j] >= table[i * width + j + 1]) {
      push("removed", a[i]);
      i += 1;
    } else {
      push("added", b[j]);
      j += 1;
    }
  }
  while (i < a.length) push("removed", a[i++]);
  while (j < b.length) push("added", b[j++]);
  return out;
}

const MARKS = { equal: " ", removed: "−", added: "+" };

/**
 * Changes as list items, each line with its mark (+ or −) and, for screen readers and
 * anyone who does not see colour, its label: labels = {removed, added}.
 */
export function diffItems(changes, labels, ops = ["equal", "removed", "added"]) {
  const items = [];
  for (const change of changes) {
    if (!ops.includes(change.op)) continue;
    for (const line of change.lines) {
      const li = document.createElement("li");
      li.dataset.op = change.op;
      const mark = document.createElement("span");
      mark.className = "minutes-mark";
      mark.setAttribute("aria-hidden", "true");
      mark.textContent = MARKS[change.op];
      li.append(mark);
      if (change.op !== "equal") {
        const label = document.createElement("span");
        label.className = "visually-hidden";
        label.textContent = `${labels[change.op]}: `;
        li.append(label);
      }
      const text = document.createElement("span");
      text.className = "minutes-line";
      text.textContent = line || " ";
      li.append(text);
      items.push(li);
    }
  }
  return items;
}

const times = zoneFormat(LOCALE, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
const moments = zoneFormat(LOCALE, DAY_AND_TIME);

function parsed(iso) {
  const when = iso ? new Date(iso) : null;
  return when && !Number.isNaN(when.getTime()) ? when : null;
}

/** 14:05 in the conference's time zone ("" for none). */
export function timeOf(iso) {
  const when = parsed(iso);
  return when ? times.format(when) : "";
}

/** 14:05, 10/12/2026 in the conference's time zone. */
export function momentOf(iso) {
  const when = parsed(iso);
  return when ? moments.format(when) : "";
}

/** "4:05", or "1:02:05" from an hour on. */
export function duration(seconds) {
  const whole = Math.max(0, Math.round(Number(seconds) || 0));
  const pad = (n) => String(n).padStart(2, "0");
  const minutes = Math.floor((whole % 3600) / 60);
  if (whole < 3600) return `${minutes}:${pad(whole % 60)}`;
  return `${Math.floor(whole / 3600)}:${pad(minutes)}:${pad(whole % 60)}`;
}

// --- drafts kept on this device until the server has them ----------------------------------

const PREFIX = "plenary.minutes.";

export const drafts = {
  key(conference, section) {
    return `${PREFIX}${conference}.${section}`;
  },
  read(conference, section) {
    try {
      const raw = window.localStorage.getItem(this.key(conference, section));
      const draft = raw ? JSON.parse(raw) : null;
      return draft && typeof draft.text === "string" ? draft : null;
    } catch {
      return null;
    }
  },
  write(conference, section, draft) {
    try {
      window.localStorage.setItem(this.key(conference, section), JSON.stringify(draft));
      return true;
    } catch {
      // Private mode or a full store: the text still autosaves, it is only not kept here.
      return false;
    }
  },
  drop(conference, section) {
    try {
      window.localStorage.removeItem(this.key(conference, section));
    } catch {
      // Nothing to drop.
    }
  },
};

/** Two lists of decisions hold the same lines. */
export function sameDecisions(a, b) {
  return a.length === b.length && a.every((line, n) => line === b[n]);
}
