"""Live subscriptions over the WebSocket: resume, ordered delivery, gap filling, site scope.

A subscription is attached to the hub *before* the database state is read, and
buffers what the hub delivers until the answer (snapshot or replay) has been
queued; from then on an :class:`OrderedFeed` drops what was already sent and
puts the rest in order. No event is lost or sent twice across the boundary.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession
from typing_extensions import TypedDict

from conference.actors import Actor
from conference.catalogue import Catalogue, Viewer, visible
from conference.db import Database
from conference.dbtypes import utcnow
from conference.errors import NotFound
from conference.live import Event, OrderedFeed, events_between
from conference.models import Conference, Site
from server.snapshot import LiveSnapshot, live_snapshot

log = logging.getLogger("plenary.ws")

# How long a hole in seq may stay open before it is filled from the database log.
GAP_WAIT = 0.3

Send = Callable[[str | list[str]], None]


def event_frame(subscription_id: int, event: Event, payload_json: str | None) -> str:
    """The frame for one event, built around the payload the hub serialised once."""
    if payload_json is None:
        payload_json = json.dumps(event.payload(), ensure_ascii=False, separators=(",", ":"))
    return (
        f'{{"id":{subscription_id},"type":"event","seq":{event.seq},'
        f'"epoch":{json.dumps(event.epoch)},"event":{payload_json}}}'
    )


async def own_site(session: AsyncSession, actor: Actor) -> str | None:
    """The public id of the one site actor may see, or None when they see all."""
    if actor.sees_all_sites:
        return None
    site = await session.get(Site, actor.site_id) if actor.site_id is not None else None
    return site.public_id if site is not None else ""


def access_scope(actor: Actor) -> tuple[frozenset[str], int | None]:
    """What decides what a subscriber may see: their roles and their site."""
    return actor.roles, actor.site_id


class Resumed(TypedDict):
    """A subscription's answer: where it starts, and the snapshot when it starts afresh."""

    seq: int
    epoch: str
    server_time: str
    snapshot: LiveSnapshot | None


@dataclass
class Resume:
    """Where a subscription starts: the answer to send and the events to replay."""

    seq: int
    epoch: str
    snapshot: LiveSnapshot | None
    replay: list[Event]

    def result(self) -> Resumed:
        return {
            "seq": self.seq,
            "epoch": self.epoch,
            "server_time": utcnow().isoformat(),
            "snapshot": self.snapshot,
        }


async def read_resume(
    session: AsyncSession,
    conference_id: int,
    actor: Actor,
    *,
    since: int | None,
    epoch: str | None,
    replay_limit: int,
) -> Resume:
    """Replay after since when the client's log is still usable, else a snapshot."""
    conference = await session.get(Conference, conference_id)
    if conference is None:
        raise NotFound("no such conference", field="conference")
    last, current = conference.last_seq, conference.epoch
    if (
        since is None
        or (epoch is not None and epoch != current)
        or since > last
        or last - since > replay_limit
    ):
        snapshot = await live_snapshot(session, conference, actor=actor)
        return Resume(snapshot["seq"], snapshot["epoch"], snapshot, [])
    replay = await events_between(session, conference_id, current, since, last)
    return Resume(last, current, None, replay)


class LiveSubscription:
    """One socket's subscription to one conference's events (a hub Subscriber)."""

    def __init__(
        self,
        subscription_id: int,
        conference_id: int,
        db: Database,
        send: Send,
        *,
        catalogue: Catalogue,
        viewer: Viewer,
        scope: tuple[frozenset[str], int | None] = (frozenset(), None),
        public_only: bool = False,
        on_lost_access: Callable[[], None] | None = None,
    ) -> None:
        self.id = subscription_id
        self.conference_id = conference_id
        self._db = db
        self._send = send
        self._catalogue = catalogue
        self._viewer = viewer
        # The roles and site this subscription was scoped by; re-checked while open.
        self.scope = scope
        self._public_only = public_only
        self._on_lost_access = on_lost_access
        self._buffer: list[tuple[Event, str | None]] | None = []
        self._feed: OrderedFeed | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_seq = 0
        self._filler: asyncio.Task[None] | None = None
        self._closed = False

    def attach(self) -> None:
        """Start receiving (buffered) events; call before reading the database state."""
        self._db.hub.subscribe(self.conference_id, self)

    def deliver(self, event: Event, payload_json: str) -> None:
        if self._closed:
            return
        if (
            self._public_only
            and event.type == "conference/updated"
            and not event.data.get("public")
        ):
            # The conference stopped being public: a viewer may not read on.
            self.close()
            if self._on_lost_access is not None:
                self._on_lost_access()
            return
        if self._feed is None:
            assert self._buffer is not None
            self._buffer.append((event, payload_json))
            return
        for frame in self._frames(self._feed.offer(event, payload_json)):
            self._send(frame)
        self._watch_gap()

    def start(self, resume: Resume) -> None:
        """Queue the replay and what arrived meanwhile, then go live; no await in here."""
        self._feed = OrderedFeed(self.conference_id, resume.epoch, resume.seq, self._fetch)
        ready = []
        for event, payload_json in self._buffer or ():
            ready.extend(self._feed.offer(event, payload_json))
        self._buffer = None
        # The replay is bounded by replay_limit and counts as one queued message.
        frames = self._frames((event, None) for event in resume.replay)
        frames.extend(self._frames(ready))
        if frames:
            self._send(frames)
        self._watch_gap()

    def _frames(self, events: Iterable[tuple[Event, str | None]]) -> list[str]:
        hub = self._db.hub
        viewer = self._viewer
        frames = []
        for event, payload_json in events:
            event_type = self._catalogue.get(event.type)
            if event_type is None or not visible(event_type, event.data, viewer):
                # A type this server does not know (a newer peer's) goes to nobody.
                continue
            if not viewer.contacts:
                payload_json = hub.public_json(event, event_type, payload_json)
            frames.append(event_frame(self.id, event, payload_json))
        return frames

    # --- gaps ------------------------------------------------------------------

    async def _fetch(self, conference_id: int, epoch: str, after: int, upto: int) -> list[Event]:
        async with self._db.sessionmaker() as session:
            return await events_between(session, conference_id, epoch, after, upto)

    def _watch_gap(self) -> None:
        feed = self._feed
        if self._closed or feed is None or not feed.has_gap:
            return
        if self._timer is None and self._filler is None:
            self._timer_seq = feed.last_seq
            self._timer = asyncio.get_running_loop().call_later(GAP_WAIT, self._gap_timeout)

    def _gap_timeout(self) -> None:
        self._timer = None
        feed = self._feed
        if self._closed or feed is None or not feed.has_gap:
            return
        if feed.last_seq != self._timer_seq:
            # Progress since the timer was set: this is a newer hole, give it its time.
            self._watch_gap()
            return
        self._filler = asyncio.create_task(self._fill_gap(feed), name="plenary-ws-gap")

    async def _fill_gap(self, feed: OrderedFeed) -> None:
        try:
            ready = await feed.fill_gap()
        except Exception:
            log.exception("could not fill a gap in conference %s's live feed", self.conference_id)
            ready = []
        self._filler = None
        if not self._closed:
            for frame in self._frames(ready):
                self._send(frame)
            self._watch_gap()

    # --- closing -----------------------------------------------------------------

    def close(self) -> None:
        """Stop receiving; pending gap work is cancelled (await wait_closed())."""
        self._closed = True
        self._db.hub.unsubscribe(self.conference_id, self)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._filler is not None:
            self._filler.cancel()

    async def wait_closed(self) -> None:
        if self._filler is not None:
            await asyncio.wait({self._filler})
            self._filler = None
