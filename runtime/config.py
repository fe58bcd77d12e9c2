"""Settings: every one has an environment variable and a default."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any
from urllib.parse import urlsplit

from conference.db import DEFAULT_URL


def parse_networks(value: str) -> tuple[str, ...]:
    """Comma-separated addresses and CIDRs (IPv4, IPv6) as their canonical networks."""
    networks = []
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            networks.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError:
            raise ValueError(f"not an address or CIDR: {part!r}") from None
    return tuple(networks)


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"not a yes/no value: {value!r}")


def _networks(value: str) -> tuple[str, ...]:
    """Comma-separated addresses or CIDRs, each checked (10.0.0.0/8, ::1)."""
    found = []
    for item in (v.strip() for v in value.split(",")):
        if item:
            try:
                found.append(str(ipaddress.ip_network(item, strict=False)))
            except ValueError:
                raise ValueError(f"not an address or CIDR: {item!r}") from None
    return tuple(found)


def redis_channel(value: str) -> str:
    """A Redis channel name for one deployment: letters, digits and `._:-`, no pattern
    characters (the bridge subscribes to `<channel>:live:*`)."""
    value = value.strip()
    if not re.fullmatch(r"[A-Za-z0-9._:-]{1,100}", value):
        raise ValueError(f"not a channel name: {value!r} (1 to 100 of letters, digits and . _ : -)")
    return value


def _origins(value: str) -> tuple[str, ...]:
    return tuple(o.strip().rstrip("/") for o in value.split(",") if o.strip())


@dataclass(frozen=True)
class Config:
    """Server settings. `docs/configuration.md` lists them; keep both in step."""

    database_url: str = field(
        default=DEFAULT_URL,
        metadata={
            "env": "PLENARY_DATABASE_URL",
            "help": "SQLAlchemy URL: sqlite+aiosqlite:///file.db or postgresql+asyncpg://user@host/db",
        },
    )
    host: str = field(
        default="127.0.0.1", metadata={"env": "PLENARY_HOST", "help": "address to listen on"}
    )
    port: int = field(
        default=8080, metadata={"env": "PLENARY_PORT", "help": "TCP port to listen on"}
    )
    public_url: str = field(
        default="",
        metadata={
            "env": "PLENARY_PUBLIC_URL",
            "help": "the URL people open (https://... behind TLS): links, QR codes and the "
            "allowed Origin; serve requires it unless local",
        },
    )
    allowed_origins: tuple[str, ...] = field(
        default=(),
        metadata={
            "env": "PLENARY_ALLOWED_ORIGINS",
            "parse": _origins,
            "help": "comma-separated extra origins allowed to open the WebSocket",
        },
    )
    secure_cookies: bool = field(
        default=False,
        metadata={
            "env": "PLENARY_SECURE_COOKIES",
            "parse": _bool,
            "help": "mark cookies Secure (on by default when public_url is https)",
        },
    )
    session_hours: int = field(
        default=12,
        metadata={
            "env": "PLENARY_SESSION_HOURS",
            "help": "hours without a request after which a browser session ends (idle time)",
        },
    )
    max_body_bytes: int = field(
        default=1_048_576,
        metadata={"env": "PLENARY_MAX_BODY_BYTES", "help": "largest JSON request body"},
    )
    max_upload_bytes: int = field(
        default=20_971_520,
        metadata={"env": "PLENARY_MAX_UPLOAD_BYTES", "help": "largest uploaded file (imports)"},
    )
    login_attempts_per_minute: int = field(
        default=10,
        metadata={
            "env": "PLENARY_LOGIN_RATE",
            "help": "failed logins allowed per minute per address and username",
        },
    )
    redis_url: str = field(
        default="",
        metadata={
            "env": "PLENARY_REDIS_URL",
            "help": "redis://host:port/0 to link several server processes (empty: one process)",
        },
    )
    redis_channel: str = field(
        default="plenary",
        metadata={
            "env": "PLENARY_REDIS_CHANNEL",
            "parse": redis_channel,
            "help": "prefix of this deployment's Redis channels; give each deployment that "
            "shares a Redis server its own (pub/sub ignores the database number)",
        },
    )
    ws_auth_timeout: float = field(
        default=10.0,
        metadata={
            "env": "PLENARY_WS_AUTH_TIMEOUT",
            "help": "seconds a WebSocket has to authenticate",
        },
    )
    ws_max_pending: int = field(
        default=512,
        metadata={
            "env": "PLENARY_WS_MAX_PENDING",
            "help": "messages queued for one WebSocket before it is closed as too slow",
        },
    )
    ws_revalidate_seconds: float = field(
        default=60.0,
        metadata={
            "env": "PLENARY_WS_REVALIDATE_SECONDS",
            "help": "how often an open WebSocket checks its credential and roles again when "
            "it missed a revocation (revocations close sockets at once)",
        },
    )
    presence_timeout_seconds: float = field(
        default=30.0,
        metadata={
            "env": "PLENARY_PRESENCE_TIMEOUT_SECONDS",
            "help": "seconds without a heartbeat after which a site shows as disconnected",
        },
    )
    replay_limit: int = field(
        default=1000,
        metadata={
            "env": "PLENARY_REPLAY_LIMIT",
            "help": "most missed events replayed on resubscribe; beyond it a snapshot is sent",
        },
    )
    credential_valid_days: int = field(
        default=7,
        metadata={
            "env": "PLENARY_CREDENTIAL_VALID_DAYS",
            "help": "days after a conference's last day that its badge codes still admit",
        },
    )
    checkins_per_minute: int = field(
        default=600,
        metadata={
            "env": "PLENARY_CHECKIN_RATE",
            "help": "check-in requests one account, token, personal link or address may send "
            "per minute",
        },
    )
    verifications_per_minute: int = field(
        default=30,
        metadata={
            "env": "PLENARY_VERIFY_RATE",
            "help": "public verifications (of minutes, of awards) one address may ask per minute",
        },
    )
    refused_scans_per_minute: int = field(
        default=60,
        metadata={
            "env": "PLENARY_REFUSED_SCAN_RATE",
            "help": "refused (forged, unknown) codes one caller may send per minute",
        },
    )
    self_checkin_seconds: int = field(
        default=30,
        metadata={
            "env": "PLENARY_SELF_CHECKIN_SECONDS",
            "help": "how often a site screen's self check-in code changes",
        },
    )
    document_workers: int = field(
        default=2,
        metadata={
            "env": "PLENARY_DOCUMENT_WORKERS",
            "help": "processes that render PDFs (badges, certificates) in the background",
        },
    )
    document_keep_days: int = field(
        default=7,
        metadata={
            "env": "PLENARY_DOCUMENT_KEEP_DAYS",
            "help": "days a finished background document (and its PDF) is kept before removal",
        },
    )
    template_seconds: float = field(
        default=60.0,
        metadata={
            "env": "PLENARY_TEMPLATE_SECONDS",
            "help": "seconds an organizer's award templates may take per document (a little "
            "more per award in bulk) before the worker is killed (template_limits)",
        },
    )
    scheduler: bool = field(
        default=True,
        metadata={
            "env": "PLENARY_SCHEDULER",
            "parse": _bool,
            "help": "run timed work (reminders, time up, overruns) in this process if elected",
        },
    )
    reminder_minutes: int = field(
        default=5,
        metadata={
            "env": "PLENARY_REMINDER_MINUTES",
            "help": "minutes before an item's planned start that a reminder is sent (0: none)",
        },
    )
    scheduler_poll_seconds: float = field(
        default=5.0,
        metadata={
            "env": "PLENARY_SCHEDULER_POLL_SECONDS",
            "help": "how often a standby process tries to take over the scheduler",
        },
    )
    scheduler_sweep_seconds: float = field(
        default=60.0,
        metadata={
            "env": "PLENARY_SCHEDULER_SWEEP_SECONDS",
            "help": "how often the scheduler checks all conferences' jobs against the database",
        },
    )
    log_level: str = field(
        default="INFO", metadata={"env": "PLENARY_LOG_LEVEL", "help": "logging level"}
    )
    # --- sessions, password hashing, clients behind a proxy ---
    session_max_hours: int = field(
        default=168,
        metadata={
            "env": "PLENARY_SESSION_MAX_HOURS",
            "help": "hours after login that a browser session ends however much it is used",
        },
    )
    session_touch_seconds: float = field(
        default=60.0,
        metadata={
            "env": "PLENARY_SESSION_TOUCH_SECONDS",
            "help": "a session's last use is written at most this often (the idle time's grain)",
        },
    )
    password_workers: int = field(
        default=2,
        metadata={
            "env": "PLENARY_PASSWORD_WORKERS",
            "help": "threads that hash passwords (Argon2), apart from all other work",
        },
    )
    trusted_proxies: tuple[str, ...] = field(
        default=(),
        metadata={
            "env": "PLENARY_TRUSTED_PROXIES",
            "parse": parse_networks,
            "help": "comma-separated addresses/CIDRs of reverse proxies whose "
            "X-Forwarded-For or Forwarded header names the client",
        },
    )
    # Reading uploads apart from password hashing (runtime/parsing.py).
    parse_workers: int = field(
        default=2,
        metadata={
            "env": "PLENARY_PARSE_WORKERS",
            "help": "threads that read uploaded files (imports); 4 more files per thread "
            "wait, past that an upload is refused with 429",
        },
    )
    # --- who may read /metrics -----------------------------------------------------------
    metrics_token: str = field(
        default="",
        metadata={
            "env": "PLENARY_METRICS_TOKEN",
            "help": "a bearer token that may read /metrics from any address (empty: none)",
        },
    )
    metrics_allow: tuple[str, ...] = field(
        default=("127.0.0.0/8", "::1/128"),
        metadata={
            "env": "PLENARY_METRICS_ALLOW",
            "parse": _networks,
            "help": "comma-separated addresses or CIDRs that may read /metrics without the "
            "token (empty: none)",
        },
    )

    # --- where people reach this server ---------------------------------------------------
    local: bool = field(
        default=False,
        metadata={
            "env": "PLENARY_LOCAL",
            "parse": _bool,
            "help": "a server on this machine only (a trial, the demo): without "
            "PLENARY_PUBLIC_URL, links point to http://host:port",
        },
    )
    # --- limits of the document workers (organizer templates) ---
    document_memory_mb: int = field(
        default=1024,
        metadata={
            "env": "PLENARY_DOCUMENT_MEMORY_MB",
            "help": "address space each document worker process may use, in MB (0: no "
            "limit); a template that needs more fails with template_limits",
        },
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Config:
        """Defaults, overridden by PLENARY_* variables, overridden by explicit arguments."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f.metadata["env"])
            if raw is None:
                continue
            parse = f.metadata.get("parse")
            try:
                if parse is not None:
                    values[f.name] = parse(raw)
                elif f.type in ("int", int):
                    values[f.name] = int(raw)
                elif f.type in ("float", float):
                    values[f.name] = float(raw)
                else:
                    values[f.name] = raw
            except ValueError as exc:
                raise ValueError(f"{f.metadata['env']}: {exc}") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        config = cls(**values)
        if config.public_url.startswith("https://") and "secure_cookies" not in values:
            config = replace(config, secure_cookies=True)
        return config

    @property
    def public_base(self) -> str:
        """Where absolute URLs (personal links, QR codes) point: PLENARY_PUBLIC_URL, else
        this server's own address from its settings; never a request's Host header."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = self.host
        if host in ("", "0.0.0.0", "::"):
            host = "localhost"  # listening everywhere: this machine's own name reaches it
        elif ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def origins(self) -> frozenset[str]:
        """Origins allowed for WebSockets and cookie-authenticated mutations."""
        allowed = set(self.allowed_origins)
        if self.public_url:
            parts = urlsplit(self.public_url)
            allowed.add(f"{parts.scheme}://{parts.netloc}")
        return frozenset(allowed)


def settings_table() -> list[tuple[str, str, str, str]]:
    """(setting, environment variable, default, help) for docs and --help."""
    rows = []
    for f in fields(Config):
        default = f.default
        shown = ",".join(default) if isinstance(default, tuple) else str(default)
        rows.append((f.name, f.metadata["env"], shown, f.metadata["help"]))
    return rows
