// Follow a conference live over the WebSocket at /api/v1/ws (DESIGN.md sections 3 and 4).
//
//   const feed = new LiveFeed(conferenceId, { onSnapshot, onEvent, onStatus });
//   feed.start();
//
// A page that shows the feed's state in its #live-region banner and stops it when it goes
// away calls followPage(conferenceId, { ignored, onSnapshot, onEvent }) instead.
//
// onSnapshot(snapshot) replaces the caller's state; onEvent(event, message) applies one
// change in seq order; onStatus(state, error) reports "connecting", "live",
// "reconnecting" or "failed". After a drop the feed reconnects with backoff and resumes
// from the last seq it holds, so nothing is missed and nothing is applied twice.
// The protocol is described in docs/websocket.md.
//
// ignored: the set of event names the page does nothing with (an eventSet of
// lib/events.js, the generated catalogue); they and names the catalogue lacks (a newer
// server's) never reach onEvent.
// Options: auth {token} (a screen's or device's API token) or {link} (a delegate's
// personal link secret) when the page has no session cookie; onLive(feed) once each
// connection is subscribed (e.g. to start heartbeats). feed.command(type, fields) sends
// a command on the same socket and resolves with its result (rejects with its error).
// feed.clockOffset is the server's clock minus this one's, in ms (from the snapshot).

import { EVENTS } from "./lib/events.js";
import { t } from "./page.js";

const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000];
// Errors that retrying cannot cure.
const FATAL = new Set(["not_found", "forbidden", "unauthorized", "invalid_format"]);

export class LiveFeed {
  constructor(conference, { onSnapshot, onEvent, onStatus, onLive, url, auth, ignored } = {}) {
    this.conference = conference;
    this.ignored = ignored ?? new Set();
    this.onSnapshot = onSnapshot ?? (() => {});
    this.onEvent = onEvent ?? (() => {});
    this.onStatus = onStatus ?? (() => {});
    this.onLive = onLive ?? (() => {});
    this.auth = auth ?? null;
    this.pending = new Map();
    this.clockOffset = 0;
    this.url = url ?? `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/api/v1/ws`;
    this.seq = null;
    this.epoch = null;
    this.socket = null;
    this.attempt = 0;
    this.timer = null;
    this.stopped = true;
    this.state = "";
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    this.wake = () => {
      // Back online: try now instead of waiting out the backoff.
      if (this.socket === null && this.timer !== null) {
        window.clearTimeout(this.timer);
        this.connect();
      }
    };
    window.addEventListener("online", this.wake);
    this.connect();
  }

  stop() {
    this.stopped = true;
    window.removeEventListener("online", this.wake);
    window.clearTimeout(this.timer);
    this.timer = null;
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000);
  }

  status(state, error = null) {
    this.state = state;
    this.onStatus(state, error);
  }

  connect() {
    this.timer = null;
    if (this.stopped) return;
    if (this.attempt === 0) this.status("connecting");
    const socket = new WebSocket(this.url);
    this.socket = socket;
    this.nextId = 1;
    this.subscription = null;
    socket.addEventListener("message", (e) => this.receive(socket, e.data));
    socket.addEventListener("close", () => this.dropped(socket));
  }

  send(socket, message) {
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  }

  receive(socket, raw) {
    if (socket !== this.socket) return;
    let message;
    try {
      message = JSON.parse(raw);
    } catch {
      return;
    }
    switch (message.type) {
      case "auth_required":
        // No session cookie: the page's token or link, else an anonymous viewer.
        this.send(socket, { type: "auth", ...(this.auth ?? {}) });
        break;
      case "auth_ok":
        this.subscribe(socket);
        break;
      case "auth_invalid":
        this.fail(socket, { code: "unauthorized", message: message.message ?? "" });
        break;
      case "result":
        if (message.id === this.subscription) this.subscribed(socket, message);
        else this.answered(message);
        break;
      case "event":
        if (message.id === this.subscription) this.event(socket, message);
        break;
      default:
        break;
    }
  }

  subscribe(socket) {
    const id = this.nextId++;
    this.subscription = id;
    const message = { id, type: "live/subscribe", conference: this.conference };
    if (this.seq !== null && this.epoch !== null) {
      message.since = this.seq;
      message.epoch = this.epoch;
    }
    this.send(socket, message);
  }

  subscribed(socket, message) {
    if (!message.success) {
      const error = message.error ?? { code: "unknown_error", message: "" };
      if (FATAL.has(error.code)) this.fail(socket, error);
      else socket.close();
      return;
    }
    const result = message.result ?? {};
    if (result.server_time) this.clockOffset = Date.parse(result.server_time) - Date.now();
    // With a snapshot, result.seq is what it reflects; without one, the missed events
    // follow (up to result.seq), so this.seq advances only as they arrive.
    if (result.snapshot) {
      this.seq = result.snapshot.seq ?? result.seq;
      this.epoch = result.snapshot.epoch ?? result.epoch;
      this.onSnapshot(result.snapshot, result);
    } else if (result.epoch && this.epoch !== null && result.epoch !== this.epoch) {
      // The log was reset and no snapshot came: start over with a fresh one.
      this.resync(socket);
      return;
    }
    this.attempt = 0;
    this.status("live");
    this.onLive(this);
  }

  /** Send a command on the live socket; resolves with its result, rejects with its error. */
  command(type, fields = {}) {
    const socket = this.socket;
    if (socket === null || socket.readyState !== WebSocket.OPEN || this.state !== "live") {
      return Promise.reject({ code: "offline", message: "not connected" });
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.send(socket, { id, type, conference: this.conference, ...fields });
    });
  }

  answered(message) {
    const waiting = this.pending.get(message.id);
    if (!waiting) return;
    this.pending.delete(message.id);
    if (message.success) waiting.resolve(message.result);
    else waiting.reject(message.error ?? { code: "unknown_error", message: "" });
  }

  /** The server's time now (ms since the epoch), as countdowns should use. */
  serverNow() {
    return Date.now() + this.clockOffset;
  }

  event(socket, message) {
    if (this.epoch !== null && message.epoch !== this.epoch) {
      this.resync(socket);
      return;
    }
    // The server sends events in seq order and fills its own holes; numbers may skip
    // (a site operator is not sent other sites' events), so only repeats are dropped.
    if (this.seq !== null && message.seq <= this.seq) return;
    this.seq = message.seq;
    const type = message.event?.type;
    if (!(type in EVENTS)) {
      console.warn(`live: an event this page does not know: ${type}`);
      return;
    }
    if (!this.ignored.has(type)) this.onEvent(message.event, message);
  }

  resync(socket) {
    this.seq = null;
    this.epoch = null;
    socket.close();
  }

  fail(socket, error) {
    this.stopped = true;
    this.socket = null;
    socket.close(1000);
    this.status("failed", error);
  }

  dropped(socket) {
    if (socket !== this.socket) return;
    this.socket = null;
    for (const waiting of this.pending.values()) {
      waiting.reject({ code: "offline", message: "the connection was lost" });
    }
    this.pending.clear();
    if (this.stopped) return;
    const base = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    this.attempt += 1;
    this.status("reconnecting");
    this.timer = window.setTimeout(() => this.connect(), base * (0.75 + Math.random() * 0.5));
  }
}

/**
 * Show the feed's state in region (an aria-live element): a banner while disconnected,
 * nothing while live. strings: {lost, failed(error)}. Also sets <html data-live=state>.
 */
export function connectionBanner(region, strings) {
  return (state, error) => {
    document.documentElement.dataset.live = state;
    if (state === "connecting") return;
    region.replaceChildren();
    if (state === "live") return;
    const banner = document.createElement("p");
    banner.className = `banner banner-${state}`;
    banner.textContent = state === "failed" ? strings.failed(error) : strings.lost;
    region.append(banner);
  };
}

/**
 * connectionBanner's strings as every page words them: t is the page's translator;
 * lost is the banner while disconnected (default: js.live.lost).
 */
export function bannerStrings(t, lost = t("js.live.lost")) {
  return {
    lost,
    failed: (error) =>
      ["not_found", "unauthorized", "forbidden"].includes(error?.code)
        ? t("js.live.gone")
        : t("js.live.failed", { message: error?.message || error?.code || "" }),
  };
}

/** Follow the page's conference: a feed whose state the page's banner (#live-region)
 * reports, stopped when the page goes away. options: LiveFeed's, but for onStatus. */
export function followPage(conference, options) {
  const feed = new LiveFeed(conference, {
    ...options,
    onStatus: connectionBanner(document.getElementById("live-region"), bannerStrings(t)),
  });
  window.addEventListener("pagehide", () => feed.stop());
  feed.start();
  return feed;
}
