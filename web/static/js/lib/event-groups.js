// Groups of events that several pages leave alone, each named once. A page lists what it
// ignores (IGNORED, given to its LiveFeed) with these, whole domains (eventsOf) and single
// names; tests/web/test_event_tables.py reads these lists.

// The scheduler's notices: the pages keep their own clocks and countdowns.
export const NOTICES = ["agenda/reminder", "agenda/overrun", "speaker/time_up"];
// A conference being made: a page follows one that exists already.
export const MAKING = ["conference/created", "conference/imported"];
// The staff's records of decisions and recipients (the pages that show the ceremony take
// award/revoked, and awards/announced is the agenda's).
export const AWARD_RECORDS = ["decision/created", "award/created", "award/updated", "award/imported"];
