// The event catalogue, generated from the server's (server/events.py):
// do not edit; run `python -m server.events` after changing an event type.
// Each page that follows the stream names what it ignores (IGNORED, given to its
// LiveFeed); tests/web/test_event_tables.py checks that it handles all the rest.
export const EVENTS = Object.freeze({
  "agenda/live": {
    "domain": "agenda",
    "audience": "everyone",
    "about": "the chair started, ended, skipped or went back: the running item and the items changed"
  },
  "agenda/overrun": {
    "domain": "agenda",
    "audience": "everyone",
    "about": "the running item has passed its planned end"
  },
  "agenda/reminder": {
    "domain": "agenda",
    "audience": "everyone",
    "about": "a planned item is due in a few minutes"
  },
  "agenda/reordered": {
    "domain": "agenda",
    "audience": "everyone",
    "about": "the items under one parent were put in a new order"
  },
  "agenda/settings": {
    "domain": "agenda",
    "audience": "everyone",
    "about": "speaking times per kind of item and the fair order of sites changed"
  },
  "agenda_item/created": {
    "domain": "agenda",
    "audience": "everyone",
    "about": "an agenda item was added"
  },
  "agenda_item/deleted": {
    "domain": "agenda",
    "audience": "everyone",
    "about": "an agenda item and its sub-items were removed"
  },
  "agenda_item/updated": {
    "domain": "agenda",
    "audience": "everyone",
    "about": "an agenda item changed"
  },
  "award/created": {
    "domain": "awards",
    "audience": "staff",
    "about": "a recipient was added to a decision"
  },
  "award/imported": {
    "domain": "awards",
    "audience": "staff",
    "about": "recipients were imported into a decision from a spreadsheet"
  },
  "award/revoked": {
    "domain": "awards",
    "audience": "staff",
    "about": "an award was revoked: its documents no longer verify"
  },
  "award/updated": {
    "domain": "awards",
    "audience": "staff",
    "about": "an award changed"
  },
  "awards/announced": {
    "domain": "agenda",
    "audience": "everyone",
    "about": "the ceremony presented an award: every screen shows the recipient"
  },
  "conference/created": {
    "domain": "conference",
    "audience": "everyone",
    "about": "a conference was created"
  },
  "conference/imported": {
    "domain": "conference",
    "audience": "everyone",
    "about": "a conference file was imported: what it created"
  },
  "conference/updated": {
    "domain": "conference",
    "audience": "everyone",
    "about": "the conference's title, dates, time zone, place or visibility changed"
  },
  "decision/created": {
    "domain": "awards",
    "audience": "staff",
    "about": "an award decision was recorded"
  },
  "delegate/checked_in": {
    "domain": "attendance",
    "audience": "people",
    "about": "a delegate was admitted at a site (present: that site's new count)"
  },
  "delegate/checkin_conflict": {
    "domain": "attendance",
    "audience": "people",
    "about": "a delegate was scanned at a second site; the first admission stands until resolved"
  },
  "delegate/checkin_conflict_resolved": {
    "domain": "attendance",
    "audience": "people",
    "about": "a check-in conflict was resolved"
  },
  "delegate/checkin_undone": {
    "domain": "attendance",
    "audience": "people",
    "about": "an admission was undone (present: that site's new count)"
  },
  "delegate/created": {
    "domain": "attendance",
    "audience": "people",
    "about": "a delegate was added"
  },
  "delegate/reissued": {
    "domain": "attendance",
    "audience": "people",
    "about": "a delegate's credential was reissued: the old badge and link no longer work"
  },
  "delegate/removed": {
    "domain": "attendance",
    "audience": "people",
    "about": "a delegate was removed"
  },
  "delegate/updated": {
    "domain": "attendance",
    "audience": "people",
    "about": "a delegate's record changed (from_site: the site they left, when moved)"
  },
  "delegates/imported": {
    "domain": "attendance",
    "audience": "everyone",
    "about": "delegates were imported from a spreadsheet: how many, at which sites"
  },
  "document/updated": {
    "domain": "conference",
    "audience": "site_documents",
    "about": "a document job (badges, award documents) progressed, finished or failed"
  },
  "minutes/finalised": {
    "domain": "minutes",
    "audience": "minutes",
    "about": "the minutes were finalised or amended: a new signed version"
  },
  "minutes/updated": {
    "domain": "minutes",
    "audience": "minutes",
    "about": "a section of the minutes was saved"
  },
  "roll_call/answered": {
    "domain": "agenda",
    "audience": "everyone",
    "about": "a site answered the roll call"
  },
  "roll_call/closed": {
    "domain": "agenda",
    "audience": "everyone",
    "about": "the roll call was closed: who answered, who not"
  },
  "roll_call/started": {
    "domain": "agenda",
    "audience": "everyone",
    "about": "the chair asked every site to say it is ready"
  },
  "site/created": {
    "domain": "conference",
    "audience": "site_record",
    "about": "a connection point was added"
  },
  "site/deleted": {
    "domain": "conference",
    "audience": "site_record",
    "about": "a connection point was removed"
  },
  "site/updated": {
    "domain": "conference",
    "audience": "site_record",
    "about": "a connection point changed"
  },
  "sites/presence": {
    "domain": "agenda",
    "audience": "staff",
    "about": "sites connected or lost their link (every site's state is the staff's view)"
  },
  "speaker/time_up": {
    "domain": "agenda",
    "audience": "everyone",
    "about": "the speaker's time is up"
  },
  "speakers/updated": {
    "domain": "agenda",
    "audience": "everyone",
    "about": "an item's speaker list changed: its version, who speaks, the queue and the entries changed"
  }
});

export const EVENT_NAMES = Object.freeze(Object.keys(EVENTS));

/** A set of event names; a name the catalogue does not have is a mistake. */
export function eventSet(...names) {
  for (const name of names) {
    if (!(name in EVENTS)) throw new Error(`no such event: ${name}`);
  }
  return new Set(names);
}

/** Every event of the domains named (conference, attendance, agenda, minutes,
 * awards): a page that ignores a whole domain also ignores its new events. */
export function eventsOf(...domains) {
  const known = new Set(Object.values(EVENTS).map((event) => event.domain));
  for (const domain of domains) {
    if (!known.has(domain)) throw new Error(`no such domain: ${domain}`);
  }
  return EVENT_NAMES.filter((name) => domains.includes(EVENTS[name].domain));
}
