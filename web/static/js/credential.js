// Check a badge's code without the server (attendance/credentials.py describes it):
// "PL1" + base32 of version 1 | kid 1 | conference tag 4 | delegate id 12 |
// credential version 2 | expires 4 | Ed25519 signature 64 over the 24 bytes before it.
// Offline this tells a forged, damaged, expired or other conference's badge from a
// genuine one; whether it was revoked only the server knows.

const PREFIX = "PL1";
const HEAD = 24;
const TOTAL = HEAD + 64;
const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

function base32(text) {
  const bytes = [];
  let buffer = 0;
  let bits = 0;
  for (const char of text) {
    const value = BASE32.indexOf(char);
    if (value < 0) return null;
    buffer = (buffer << 5) | value;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((buffer >> bits) & 0xff);
    }
  }
  return new Uint8Array(bytes);
}

function base64(text) {
  const plain = text.replaceAll("-", "+").replaceAll("_", "/");
  const binary = atob(plain + "=".repeat((4 - (plain.length % 4)) % 4));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

function base64url(bytes) {
  return btoa(String.fromCharCode(...bytes))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");
}

/** The parts of a credential's text, or null when it is not one. */
export function parseCredential(text) {
  const clean = String(text).trim().toUpperCase();
  if (!clean.startsWith(PREFIX)) return null;
  const raw = base32(clean.slice(PREFIX.length));
  if (!raw || raw.length !== TOTAL) return null;
  const view = new DataView(raw.buffer);
  return {
    head: raw.slice(0, HEAD),
    signature: raw.slice(HEAD),
    version: raw[0],
    kid: raw[1],
    tag: raw.slice(2, 6),
    delegate: base64url(raw.slice(6, 18)),
    expires: new Date(view.getUint32(20) * 1000),
  };
}

/**
 * Verifies credentials with the conference's public keys ({kid: base64 raw key}).
 * check(text) resolves to {code: null | "credential_malformed" | "credential_forged" |
 * "credential_other_conference" | "credential_expired", delegate} or to null when this
 * browser cannot tell (no keys yet, or no Ed25519 in its WebCrypto).
 */
export class CredentialChecker {
  constructor(conferenceId) {
    this.conferenceId = conferenceId;
    this.keys = new Map();
    this.tag = null;
  }

  async setKeys(keys) {
    const imported = new Map();
    for (const [kid, value] of Object.entries(keys ?? {})) {
      try {
        const key = await crypto.subtle.importKey(
          "raw",
          base64(value),
          { name: "Ed25519" },
          false,
          ["verify"],
        );
        imported.set(Number(kid), key);
      } catch {
        // No Ed25519 here (or a bad key): this browser leaves checking to the server.
      }
    }
    this.keys = imported;
    if (!this.tag && crypto.subtle) {
      const digest = await crypto.subtle.digest(
        "SHA-256",
        new TextEncoder().encode(this.conferenceId),
      );
      this.tag = new Uint8Array(digest).slice(0, 4);
    }
  }

  get ready() {
    return this.keys.size > 0 && this.tag !== null;
  }

  async check(text, now = new Date()) {
    if (!this.ready) return null;
    const parsed = parseCredential(text);
    if (!parsed || parsed.version !== 1) return { code: "credential_malformed", delegate: null };
    const key = this.keys.get(parsed.kid);
    // A key issued after this page fetched the keys: the server will know.
    if (!key) return null;
    let genuine;
    try {
      genuine = await crypto.subtle.verify("Ed25519", key, parsed.signature, parsed.head);
    } catch {
      return null;
    }
    if (!genuine) return { code: "credential_forged", delegate: null };
    if (parsed.tag.some((byte, index) => byte !== this.tag[index])) {
      return { code: "credential_other_conference", delegate: parsed.delegate };
    }
    if (parsed.expires <= now) return { code: "credential_expired", delegate: parsed.delegate };
    return { code: null, delegate: parsed.delegate };
  }
}
