// The facts beside the secretary's text, drafted from the live log (GET .../minutes/facts):
// each item's times and who spoke on it, and at the opening the roll call of sites and the
// attendance by site. The templates are in minutes.html; times in the conference's zone.

import { t } from "./page.js";
import { duration, timeOf } from "./minutes-text.js";
import { formatNumber } from "./lib/format.js";

const roleIn = (root, name) => root.querySelector(`[data-role="${name}"]`);

/** The slot's panel, made from template the first time. */
function panel(slot, template) {
  let node = slot.firstElementChild;
  if (!node) {
    node = document.getElementById(template).content.firstElementChild.cloneNode(true);
    slot.append(node);
  }
  return node;
}

function cell(tag, text, label, className = "") {
  const node = document.createElement(tag);
  node.textContent = text;
  if (label) node.dataset.label = label;
  if (className) node.className = className;
  if (tag === "th") node.scope = "row";
  return node;
}

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

function speakerSpan(speaker) {
  const from = timeOf(speaker.started_at);
  if (!from) return "–";
  if (speaker.status === "speaking") return t("js.minutes.speaking", { from });
  return `${from}–${timeOf(speaker.ended_at)}`;
}

/** An agenda item's facts: started, ended, how long, presenter, and its speakers. */
export function renderItemFacts(slot, item) {
  const node = panel(slot, "facts-template");
  // An item not started yet has no times to show (its status says so in words).
  roleIn(node, "times").hidden = !item.started_at && !item.presenter;
  for (const role of ["started", "ended", "duration"]) {
    roleIn(node, role).parentElement.hidden = !item.started_at;
  }
  setText(roleIn(node, "started"), timeOf(item.started_at) || "–");
  const ended = timeOf(item.ended_at) || (item.started_at ? t("js.minutes.still_running") : "–");
  setText(roleIn(node, "ended"), ended);
  setText(
    roleIn(node, "duration"),
    item.duration_seconds === null || item.duration_seconds === undefined
      ? "–"
      : duration(item.duration_seconds),
  );
  roleIn(node, "presenter-row").hidden = !item.presenter;
  setText(roleIn(node, "presenter"), item.presenter || "");
  const labels = [...node.querySelectorAll("thead th")].map((th) => th.textContent.trim());
  const rows = item.speakers.map((s) => {
    const tr = document.createElement("tr");
    tr.dataset.speaker = s.id;
    tr.dataset.status = s.status;
    tr.append(
      cell("th", s.name, labels[0], "minutes-speaker-name"),
      cell("td", s.title || "–", labels[1]),
      cell("td", s.unit || "–", labels[2]),
      cell("td", s.site_name || s.site || "–", labels[3]),
      cell("td", speakerSpan(s), labels[4]),
      cell("td", duration(s.spoken_seconds), labels[5], "num"),
    );
    return tr;
  });
  roleIn(node, "speakers").replaceChildren(...rows);
  roleIn(node, "speakers-table").hidden = rows.length === 0;
  roleIn(node, "no-speakers").hidden = rows.length > 0;
}

/** The opening's facts: when it opened, the roll call, the attendance by site. */
export function renderOpeningFacts(slot, facts) {
  const node = panel(slot, "opening-template");
  setText(roleIn(node, "opened"), timeOf(facts.opened_at) || t("js.minutes.not_opened"));
  const roll = facts.roll_call;
  let rollText = t("js.minutes.roll.none");
  const missing = roleIn(node, "missing");
  missing.hidden = true;
  if (roll) {
    const answered = roll.answered.length;
    rollText = t("js.minutes.roll.summary", {
      time: timeOf(roll.started_at),
      answered: formatNumber(answered),
      total: formatNumber(answered + roll.missing.length),
    });
    if (!roll.closed_at) rollText += ` ${t("js.minutes.roll.open")}`;
    if (roll.missing.length) {
      missing.textContent = t("js.minutes.roll.missing", {
        sites: roll.missing.map((s) => s.site_name || s.site).join(", "),
      });
      missing.hidden = false;
    }
  }
  setText(roleIn(node, "roll"), rollText);
  const attendance = facts.attendance;
  setText(
    roleIn(node, "attendance-caption"),
    facts.opened_at
      ? t("js.minutes.attendance.at", { time: timeOf(attendance.at) })
      : t("js.minutes.attendance.now"),
  );
  const labels = [...node.querySelectorAll("thead th")].map((th) => th.textContent.trim());
  roleIn(node, "attendance").replaceChildren(
    ...attendance.sites.map((site) => {
      const tr = document.createElement("tr");
      tr.dataset.site = site.site;
      tr.append(
        cell("th", site.name || site.site, ""),
        cell("td", formatNumber(site.present), labels[1], "num"),
        cell("td", formatNumber(site.expected), labels[2], "num"),
      );
      return tr;
    }),
  );
  setText(roleIn(node, "total-present"), formatNumber(attendance.total_present));
  setText(roleIn(node, "total-expected"), formatNumber(attendance.total_expected));
}
