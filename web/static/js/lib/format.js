// Dates, times and numbers as the conference writes them: its language, its time zone.

import { page, t } from "../page.js";

/** 10/12/2026 in Vietnamese, 2026-12-10 in English (as the server writes them). */
export function formatDate(iso) {
  if (typeof iso !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(iso)) return String(iso ?? "");
  if (page.lang !== "vi") return iso;
  const [year, month, day] = iso.split("-");
  return `${day}/${month}/${year}`;
}

export function formatDates(start, end) {
  if (start === end) return formatDate(start);
  return t("js.dates.range", { start: formatDate(start), end: formatDate(end) });
}

export const LOCALE = page.lang === "vi" ? "vi-VN" : "en-GB";
const numbers = new Intl.NumberFormat(LOCALE);
const percents = new Intl.NumberFormat(LOCALE, { style: "percent", maximumFractionDigits: 0 });

/** An Intl.DateTimeFormat on the clock of zone (the conference's unless named). */
export function zoneFormat(locale, options, zone = page.timezone) {
  try {
    return new Intl.DateTimeFormat(locale, { ...options, timeZone: zone || undefined });
  } catch {
    // An unknown zone in an old browser: the phone's own.
    return new Intl.DateTimeFormat(locale, options);
  }
}

/** The options of a date and time with numbers only (2026-12-10 14:05 in parts). */
export const DAY_AND_TIME = {
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
};

const times = zoneFormat(LOCALE, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });

/** 14:05 in the conference's time zone ("" for no time). */
export function formatTime(iso) {
  const when = iso ? new Date(iso) : null;
  return when && !Number.isNaN(when.getTime()) ? times.format(when) : "";
}

export function formatNumber(value) {
  return numbers.format(Number(value) || 0);
}

/** 61 % of expected, or "" when nobody is expected. */
export function formatPercent(part, whole) {
  return whole > 0 ? percents.format(part / whole) : "";
}
