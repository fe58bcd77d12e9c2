// Groups of events that several pages leave alone, each named once. A page lists what it
// ignores (IGNORED, given to its LiveFeed) with these, whole domains (eventsOf) and single
// names; a group may take in groups named before it. tests/web/test_event_tables.py reads
// these lists.

// The scheduler's notices: the pages keep their own clocks and countdowns.
export const NOTICES = ["agenda/reminder", "agenda/overrun", "speaker/time_up"];
// A conference being made: a page follows one that exists already.
export const MAKING = ["conference/created", "conference/imported"];
// The staff's records of decisions and recipients (the pages that show the ceremony take
// award/revoked, and awards/announced is the agenda's).
export const AWARD_RECORDS = ["decision/created", "award/created", "award/updated", "award/imported"];
// What the pages that follow the meeting (the agenda, the chair's room, check-in, a
// delegate's page) leave alone: the notices, the conference being made or retitled, and the
// award records.
export const OFF_THE_FLOOR = [...NOTICES, ...MAKING, ...AWARD_RECORDS, "conference/updated"];
// The conference and its sites being set up: the pages that make documents read them with
// the page.
export const SETUP = [...MAKING, "conference/updated", "site/created", "site/deleted", "site/updated"];
// The delegate list being kept: the check-in pages (the operator's and the site's screen)
// count admissions, not the records behind them.
export const DELEGATE_RECORDS = [
  "delegate/checkin_conflict_resolved",
  "delegate/created",
  "delegate/reissued",
  "delegate/removed",
  "delegate/updated",
  "delegates/imported",
];
