// Reordering a list by hand: HTML5 drag and drop, or Alt+ArrowUp / Alt+ArrowDown on any
// control of an entry. Shared by the chair's speaker queue and the organizer's agenda.
//
//   sortable(list, { onMove(order, id, level, how) });
//
// Entries are <li data-id> elements (draggable="true" to be dragged). A list may hold
// lists (the agenda's sessions): an entry moves only among its siblings, the entries of
// the element it sits in (its level). onMove gets the level's ids in the new order, the
// id that moved, the level element and how ("drag" or "keyboard"); it sends the order
// and never touches the DOM here: the page redraws when the change comes back.

const ENTRY = "li[data-id]";

/** The ids of the entries of level, in the order shown. */
export function idsOf(level) {
  return [...level.children].filter((node) => node.matches(ENTRY)).map((node) => node.dataset.id);
}

/** order with id moved step places (-1 up, 1 down); null when it cannot move. */
export function moved(order, id, step) {
  const from = order.indexOf(id);
  const to = from + step;
  if (from < 0 || to < 0 || to >= order.length) return null;
  const out = order.filter((other) => other !== id);
  out.splice(to, 0, id);
  return out;
}

function elementOf(node) {
  return node instanceof Element ? node : (node?.parentElement ?? null);
}

/** The entry of level that holds node (an entry of a deeper list counts as its parent). */
function entryIn(level, node) {
  let entry = elementOf(node)?.closest(ENTRY) ?? null;
  while (entry && entry.parentElement !== level) {
    entry = entry.parentElement?.closest(ENTRY) ?? null;
  }
  return entry;
}

/** Dropped at clientY on entry: before it (top half) or after it. */
function dropsBefore(entry, clientY) {
  const box = entry.getBoundingClientRect();
  return clientY < box.top + box.height / 2;
}

export function sortable(root, { onMove }) {
  let dragged = null; // the entry being dragged
  let level = null; // the element it sits in

  const clearMarks = () => {
    for (const node of root.querySelectorAll(".drop-before, .drop-after")) {
      node.classList.remove("drop-before", "drop-after");
    }
  };

  const endDrag = () => {
    dragged?.classList.remove("dragging");
    dragged = null;
    level = null;
    clearMarks();
  };

  /** Where a drop on node would go: {entry, before}, {entry: null} (the end), or null. */
  const placeAt = (node, clientY) => {
    const entry = entryIn(level, node);
    if (entry) return { entry, before: entry === dragged ? false : dropsBefore(entry, clientY) };
    // Between entries of the level (its own padding): the end. Anywhere else: no drop.
    return elementOf(node) === level ? { entry: null } : null;
  };

  root.addEventListener("dragstart", (e) => {
    const entry = elementOf(e.target)?.closest(`${ENTRY}[draggable="true"]`);
    if (!entry || !root.contains(entry)) return;
    dragged = entry;
    level = entry.parentElement;
    entry.classList.add("dragging");
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", entry.dataset.id);
  });

  root.addEventListener("dragover", (e) => {
    if (!dragged) return;
    const place = placeAt(e.target, e.clientY);
    clearMarks();
    if (!place) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "move";
    if (place.entry && place.entry !== dragged) {
      place.entry.classList.add(place.before ? "drop-before" : "drop-after");
    }
  });

  root.addEventListener("drop", (e) => {
    if (!dragged) return;
    const place = placeAt(e.target, e.clientY);
    if (!place) return;
    e.preventDefault();
    const id = dragged.dataset.id;
    const where = level;
    const before = idsOf(where);
    endDrag();
    if (place.entry && place.entry.dataset.id === id) return;
    const order = before.filter((other) => other !== id);
    const index = place.entry
      ? order.indexOf(place.entry.dataset.id) + (place.before ? 0 : 1)
      : order.length;
    order.splice(index, 0, id);
    if (order.join() !== before.join()) onMove(order, id, where, "drag");
  });

  root.addEventListener("dragend", endDrag);

  root.addEventListener("keydown", (e) => {
    if (!e.altKey || e.ctrlKey || e.metaKey || (e.key !== "ArrowUp" && e.key !== "ArrowDown")) {
      return;
    }
    const entry = elementOf(e.target)?.closest(ENTRY);
    if (!entry || !root.contains(entry)) return;
    e.preventDefault();
    const order = moved(idsOf(entry.parentElement), entry.dataset.id, e.key === "ArrowUp" ? -1 : 1);
    if (order) onMove(order, entry.dataset.id, entry.parentElement, "keyboard");
  });
}
