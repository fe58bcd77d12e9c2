// The live agenda as the pages hold it: a snapshot (GET /api/v1/conferences/{id}/live or
// the WebSocket's live/subscribe) and the events that change it, applied in seq order.
// Shared by the chair's room, the site screen and the delegate's phone.
//
//   const state = fromSnapshot(snapshot);
//   applyEvent(state, event);          // event = {type, data}
//   currentItem(state), queueOf(state, itemId), speakingOf(state, itemId)
//   elapsedSeconds(speaker, serverNowMs)
//
// Event shapes: agenda/live.py, agenda/speakers.py, agenda/presence.py,
// agenda/services.py (server side) and docs/live.md.

/** A fresh state from a snapshot. */
export function fromSnapshot(snapshot) {
  const state = {
    seq: snapshot.seq,
    conference: snapshot.conference ?? {},
    sites: new Map((snapshot.sites ?? []).map((site) => [site.code, site])),
    items: new Map(),
    order: [],
    current: null,
    settings: {},
    lists: new Map(),
    presence: new Map(),
    rollCall: null,
    // The awards ceremony: the award being presented while the awards item runs.
    ceremony: snapshot.ceremony ?? { item: null, current: null, remaining: 0 },
  };
  const agenda = snapshot.agenda ?? { items: [] };
  for (const item of agenda.items) state.items.set(item.id, item);
  state.order = agenda.items.map((item) => item.id);
  state.current = agenda.current ?? null;
  state.settings = agenda.settings ?? {};
  for (const list of snapshot.speakers ?? []) {
    state.lists.set(list.item, {
      item: list.item,
      version: list.version,
      open: list.open,
      speaking: list.speaking,
      order: list.order,
      speakers: new Map(list.speakers.map((s) => [s.id, s])),
    });
  }
  for (const entry of snapshot.presence ?? []) state.presence.set(entry.site, entry);
  state.rollCall = snapshot.roll_call ?? null;
  return state;
}

function listOf(state, itemId) {
  let list = state.lists.get(itemId);
  if (!list) {
    const item = state.items.get(itemId);
    list = {
      item: itemId,
      version: 0,
      open: item ? item.speakers_open : true,
      speaking: null,
      order: [],
      speakers: new Map(),
    };
    state.lists.set(itemId, list);
  }
  return list;
}

/** Reading order: each parent followed by its items, each level by position. */
function reorder(state) {
  const children = new Map();
  for (const item of state.items.values()) {
    const key = item.parent ?? "";
    if (!children.has(key)) children.set(key, []);
    children.get(key).push(item);
  }
  const out = [];
  const walk = (key) => {
    const level = (children.get(key) ?? []).sort((a, b) => a.position - b.position);
    for (const item of level) {
      out.push(item.id);
      walk(item.id);
    }
  };
  walk("");
  state.order = out;
}

// The events that change the items or which one is current: a page redraws its agenda.
export const ITEM_EVENTS = new Set([
  "agenda/live",
  "agenda_item/created",
  "agenda_item/updated",
  "agenda_item/deleted",
  "agenda/reordered",
]);

/** Apply one event; returns true when it changed something this state holds. */
export function applyEvent(state, event) {
  const data = event.data ?? {};
  switch (event.type) {
    case "agenda/live":
      for (const item of data.items) state.items.set(item.id, item);
      state.current = data.current;
      // The ceremony as the move leaves it: an awards item started (with how many
      // awards remain) or left.
      if (data.ceremony) state.ceremony = data.ceremony;
      return true;
    case "award/revoked":
      // Only the staff hear of it; their pages stop showing it as presented.
      if (state.ceremony.current?.id === data.id) state.ceremony = { ...state.ceremony, current: null };
      return true;
    case "awards/announced": {
      const first = data.first !== false;
      state.ceremony = {
        item: data.item,
        current: data.award,
        remaining: Math.max(0, (state.ceremony.remaining ?? 0) - (first ? 1 : 0)),
      };
      return true;
    }
    case "agenda_item/created":
    case "agenda_item/updated":
      state.items.set(data.id, { ...(state.items.get(data.id) ?? {}), ...data });
      reorder(state);
      return true;
    case "agenda_item/deleted":
      for (const id of data.items) {
        state.items.delete(id);
        state.lists.delete(id);
        if (state.current === id) state.current = null;
      }
      reorder(state);
      return true;
    case "agenda/reordered":
      data.order.forEach((id, n) => {
        const item = state.items.get(id);
        if (item) item.position = n + 1;
      });
      reorder(state);
      return true;
    case "agenda/settings":
      state.settings = data;
      return true;
    case "speakers/updated": {
      const list = listOf(state, data.item);
      list.version = data.version;
      list.open = data.open;
      list.speaking = data.speaking;
      list.order = data.order;
      for (const speaker of data.changed) list.speakers.set(speaker.id, speaker);
      // Positions follow the order the event carries.
      data.order.forEach((id, n) => {
        const speaker = list.speakers.get(id);
        if (speaker) speaker.position = n + 1;
      });
      const item = state.items.get(data.item);
      if (item) {
        item.speakers_open = data.open;
        item.speakers_version = data.version;
      }
      return true;
    }
    case "sites/presence":
      for (const entry of data.sites) state.presence.set(entry.site, entry);
      return true;
    case "roll_call/started":
      state.rollCall = {
        id: data.id,
        started_at: data.started_at,
        started_by: data.started_by,
        closed_at: null,
        answered: {},
        missing: [...data.sites],
      };
      return true;
    case "roll_call/answered":
      if (state.rollCall && state.rollCall.id === data.id) {
        state.rollCall.answered[data.site] = data.at;
        state.rollCall.missing = state.rollCall.missing.filter((code) => code !== data.site);
      }
      return true;
    case "roll_call/closed":
      if (state.rollCall && state.rollCall.id === data.id) state.rollCall.closed_at = data.closed_at;
      return true;
    case "site/created":
    case "site/updated":
      if (data.code) state.sites.set(data.code, { ...(state.sites.get(data.code) ?? {}), ...data });
      return true;
    case "site/deleted":
      state.sites.delete(data.code);
      return true;
    default:
      return false;
  }
}

/** Items in reading order. */
export function itemsInOrder(state) {
  return state.order.map((id) => state.items.get(id)).filter(Boolean);
}

/** The steps the chair moves through: items with no items inside them. */
export function steps(state) {
  const parents = new Set([...state.items.values()].map((item) => item.parent).filter(Boolean));
  return itemsInOrder(state).filter((item) => !parents.has(item.id));
}

export function currentItem(state) {
  return state.current ? (state.items.get(state.current) ?? null) : null;
}

/** The first planned step after the current one (or the first planned at all). */
export function nextItem(state) {
  const all = steps(state);
  const from = state.current ? all.findIndex((item) => item.id === state.current) + 1 : 0;
  return all.slice(from).find((item) => item.status === "planned") ?? all.find((item) => item.status === "planned") ?? null;
}

export function queueOf(state, itemId) {
  const list = state.lists.get(itemId);
  if (!list) return [];
  return list.order.map((id) => list.speakers.get(id)).filter(Boolean);
}

export function speakingOf(state, itemId) {
  const list = state.lists.get(itemId);
  return list && list.speaking ? (list.speakers.get(list.speaking) ?? null) : null;
}

/** Entries waiting for the chair's approval, oldest first. */
export function requestsOf(state, itemId) {
  const list = state.lists.get(itemId);
  if (!list) return [];
  return [...list.speakers.values()]
    .filter((s) => s.status === "requested")
    .sort((a, b) => a.requested_at.localeCompare(b.requested_at));
}

/** Seconds spoken so far (the running stretch included), at serverNow (ms). */
export function elapsedSeconds(speaker, serverNow) {
  let seconds = speaker.spoken_seconds ?? 0;
  if (speaker.timer_started_at) {
    seconds += Math.max(0, (serverNow - Date.parse(speaker.timer_started_at)) / 1000);
  }
  return seconds;
}

/** "4:05", or "-0:12" past the limit when remaining is negative. */
export function clock(seconds) {
  const sign = seconds < 0 ? "-" : "";
  const whole = Math.floor(Math.abs(seconds));
  const minutes = Math.floor(whole / 60);
  return `${sign}${minutes}:${String(whole % 60).padStart(2, "0")}`;
}

/** The award being presented now (while the awards item runs), or null. */
export function presenting(state) {
  const c = state.ceremony;
  return c && c.current && c.item && c.item === state.current ? c.current : null;
}
