// The minutes on the delegate's phone, when the organizers let delegates read them: each
// agenda item with its times, who spoke, the secretary's text and the decisions. Hidden
// (and never asked again until a minutes event says otherwise) while they may not.

import { page, t } from "./page.js";
import { prose, timeOf } from "./minutes-text.js";
import { eventSet } from "./lib/events.js";
import { request } from "./lib/http.js";

const MINUTES_EVENTS = eventSet("minutes/updated", "minutes/finalised");
const panel = document.getElementById("minutes-panel");
const body = document.getElementById("minutes-body");
const url = `/api/v1/delegate/${encodeURIComponent(page.secret)}/minutes`;
let timer = null;

function line(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  node.textContent = text;
  return node;
}

function itemBlock(item, section) {
  const block = document.createElement("article");
  block.className = "delegate-minutes-item";
  block.append(line("h3", "", item.number ? `${item.number}. ${item.title}` : item.title));
  if (item.started_at) {
    const span = item.ended_at
      ? `${timeOf(item.started_at)}–${timeOf(item.ended_at)}`
      : t("js.delegate.minutes.since", { time: timeOf(item.started_at) });
    block.append(line("p", "delegate-minutes-times", span));
  }
  if (item.speakers.length) {
    const list = document.createElement("ul");
    list.className = "delegate-minutes-speakers";
    list.setAttribute("aria-label", t("js.delegate.minutes.speakers"));
    for (const s of item.speakers) {
      const who = [s.name, s.title, s.site_name].filter(Boolean).join(" · ");
      list.append(line("li", "", `${who} (${timeOf(s.started_at)})`));
    }
    block.append(list);
  }
  if (section?.text) {
    const text = document.createElement("div");
    text.className = "delegate-minutes-text";
    text.append(prose(section.text));
    block.append(text);
  }
  if (section?.decisions?.length) {
    const list = document.createElement("ul");
    list.className = "delegate-minutes-decisions";
    list.setAttribute("aria-label", t("js.delegate.minutes.decisions"));
    for (const d of section.decisions) list.append(line("li", "", d));
    block.append(list);
  }
  return block;
}

function draw(data) {
  const sections = new Map(data.sections.map((s) => [s.section, s]));
  const nodes = [];
  const status = data.book.status === "final"
    ? t("js.delegate.minutes.final", { version: data.book.version })
    : t("js.delegate.minutes.draft");
  nodes.push(line("p", "delegate-minutes-status", status));
  const own = (key) => ({ number: "", title: t(`js.delegate.minutes.${key}`), speakers: [] });
  if (sections.get("opening")?.text) nodes.push(itemBlock(own("opening"), sections.get("opening")));
  for (const item of data.facts.items) {
    if (item.status === "planned" && !sections.get(item.item)?.text) continue;
    nodes.push(itemBlock(item, sections.get(item.item)));
  }
  if (sections.get("closing")?.text) nodes.push(itemBlock(own("closing"), sections.get("closing")));
  body.replaceChildren(...nodes);
  panel.hidden = false;
}

async function load() {
  const answer = await request("GET", url);
  if (answer.ok) draw(answer.data);
  else panel.hidden = true;
}

/** A live event: read the minutes again soon if it may have changed them. */
export function minutesEvent(event) {
  const type = event.type || "";
  const facts = type === "agenda/live" || type === "speakers/updated";
  if (!MINUTES_EVENTS.has(type) && !(facts && !panel.hidden)) return;
  clearTimeout(timer);
  timer = setTimeout(load, 800);
}

load();
