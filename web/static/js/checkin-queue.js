// Scans made while the server is out of reach: kept in localStorage (a reload keeps
// them) and uploaded in batches, each with its client nonce and the time it happened,
// so an upload that is repeated never admits anyone twice.

const BATCH = 500;
const BACKOFF_MS = [1000, 2000, 5000, 10000, 20000, 30000, 60000];

/** A client nonce: 16 random bytes, base64url (22 characters of [A-Za-z0-9_-]). */
export function newNonce() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");
}

export class CheckinQueue {
  /**
   * key: the localStorage key (one queue per conference and site).
   * upload(items) resolves to {ok, status, data} like page.js api(); onChange(queue) and
   * onResults(results, items) report what happened.
   */
  constructor(key, { upload, onChange, onResults } = {}) {
    this.key = key;
    this.upload = upload;
    this.onChange = onChange ?? (() => {});
    this.onResults = onResults ?? (() => {});
    this.items = this.load();
    this.attempt = 0;
    this.timer = null;
    this.sending = null;
    this.halted = null;
    window.addEventListener("storage", (e) => {
      // Another tab of this page changed the queue.
      if (e.key === this.key) {
        this.items = this.load();
        this.onChange(this);
      }
    });
  }

  load() {
    try {
      const items = JSON.parse(localStorage.getItem(this.key) ?? "[]");
      return Array.isArray(items) ? items.filter((item) => item && item.nonce) : [];
    } catch {
      return [];
    }
  }

  save() {
    try {
      localStorage.setItem(this.key, JSON.stringify(this.items));
    } catch {
      // Storage full or refused: the queue still lives in this page.
    }
    this.onChange(this);
  }

  get size() {
    return this.items.length;
  }

  add(item) {
    if (!this.items.some((kept) => kept.nonce === item.nonce)) {
      this.items.push(item);
      this.save();
    }
    this.soon();
  }

  /** Upload after the backoff delay (at once on the first try). */
  soon(delay = 0) {
    if (this.items.length === 0 || this.sending || this.timer !== null) return;
    this.timer = window.setTimeout(() => {
      this.timer = null;
      this.flush();
    }, delay);
  }

  /** Try now: the network came back or the operator asked. */
  now() {
    window.clearTimeout(this.timer);
    this.timer = null;
    this.attempt = 0;
    this.halted = null;
    return this.flush();
  }

  async flush() {
    if (this.sending) return this.sending;
    if (this.items.length === 0 || this.halted) return;
    this.sending = this.send().finally(() => {
      this.sending = null;
    });
    return this.sending;
  }

  async send() {
    while (this.items.length > 0) {
      if (navigator.onLine === false) return this.retry();
      const items = this.items.slice(0, BATCH);
      const answer = await this.upload(items);
      if (!answer.ok) {
        // Unreachable, overloaded or restarting: try again later. Anything else (the
        // session ended, the batch was refused) waits for the operator to act.
        if (answer.status === 0 || answer.status === 429 || answer.status >= 500) {
          return this.retry(answer);
        }
        this.halted = answer;
        this.onChange(this);
        return;
      }
      const results = answer.data?.results ?? [];
      const done = new Set(results.map((result) => result.nonce));
      this.items = this.items.filter((item) => !done.has(item.nonce));
      this.attempt = 0;
      this.save();
      this.onResults(results, items);
      // The server answered but left items out: never loop on them.
      if (!items.some((item) => done.has(item.nonce))) return this.retry(answer);
    }
  }

  retry(answer = null) {
    const delay = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    this.attempt += 1;
    this.lastFailure = answer;
    this.onChange(this);
    // Called while this.sending is still set, so not through soon().
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(
      () => {
        this.timer = null;
        this.flush();
      },
      delay * (0.75 + Math.random() * 0.5),
    );
  }
}
