"""`plenary follow`: the state it keeps, the lines it prints, and following a real server
through a restart without missing or repeating a change."""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from agenda.live import move_agenda
from agenda.schemas import AgendaItemCreate, SpeakerCreate
from agenda.services import create_agenda_item
from agenda.speakers import call_next, request_speaker
from attendance.schemas import DelegateCreate
from attendance.services import create_delegate
from cli.main import main
from client.event_lines import NewEpoch, apply_event
from client.follow import Follower, FollowError, backoff_delay, websocket_url
from client.live_state import load_snapshot, summary_lines
from conference.accounts import issue_token
from conference.actors import CLI, Actor
from conference.db import Database
from conference.models import Conference
from conference.schemas import ConferenceCreate, ConferenceUpdate, SiteCreate
from conference.services import (
    create_conference,
    create_site,
    get_conference,
    update_conference,
)
from runtime.config import Config
from server.app import create_app
from tests.server.serve_process import ROOT, free_port

WAIT = 30.0  # ends a wait that has already failed
STOP = 10.0  # what Ctrl-C may take: a bound of the behaviour, not only of the test

# --- the state and the lines, without a network ---------------------------------------------


def item(
    iid: str, title: str, position: int, status: str = "planned", parent: str | None = None
) -> dict[str, Any]:
    """An item as agenda.schemas.agenda_item_data writes it."""
    return {
        "id": iid,
        "parent": parent,
        "position": position,
        "title": title,
        "kind": "report",
        "planned_start": None,
        "duration_minutes": 30,
        "presenter": "",
        "site": None,
        "speaking_limit_seconds": 0,
        "status": status,
        "started_at": "2026-12-10T01:00:00+00:00" if status != "planned" else None,
        "ended_at": "2026-12-10T01:30:00+00:00" if status in ("done", "skipped") else None,
        "speakers_open": True,
        "speakers_version": 0,
    }


def speaker(sid: str, name: str, site: str | None, status: str, **extra: Any) -> dict[str, Any]:
    """A speaker entry as agenda.speakers.speaker_data writes it."""
    return {
        "id": sid,
        "item": "i3",
        "delegate": None,
        "name": name,
        "title": "",
        "unit": "Sở Nội vụ",
        "site": site,
        "kind": "request",
        "status": status,
        "position": 0,
        "topic": "",
        "requested_at": "2026-12-10T03:40:00+00:00",
        "limit_seconds": None,
        "spoken_seconds": 0.0,
        "timer_started_at": None,
        "timer_generation": 0,
        "started_at": None,
        "ended_at": None,
    } | extra


def snapshot() -> dict[str, Any]:
    return {
        "seq": 10,
        "epoch": "E1",
        "server_time": "2026-12-10T03:41:00+00:00",
        "conference": {
            "id": "c1",
            "title": "Hội nghị toàn quốc Văn phòng cấp ủy",
            "timezone": "Asia/Ho_Chi_Minh",
        },
        "sites": [
            {"id": "s1", "code": "HNI", "name": "Hà Nội"},
            {"id": "s2", "code": "LCI", "name": "Lào Cai"},
        ],
        "agenda": {
            "items": [
                item("i1", "Khai mạc", 1, "done"),
                item("i2", "Phiên thảo luận", 2, "running"),
                item("i21", "Tham luận của các tỉnh", 1, "skipped", parent="i2"),
                item("i3", "Báo cáo tổng kết", 2, "running", parent="i2"),
                item("i4", "Bế mạc", 3),
            ],
            "current": "i3",
            "settings": {"default_speaking_seconds": 300, "kind_limits": {}, "fair_order": False},
        },
        "speakers": [
            {
                "item": "i3",
                "version": 4,
                "open": True,
                "speaking": "sp1",
                "order": ["sp2"],
                "speakers": [
                    speaker(
                        "sp1",
                        "Nguyễn Văn A",
                        "LCI",
                        "speaking",
                        limit_seconds=300,
                        spoken_seconds=10.0,
                        timer_started_at="2026-12-10T03:40:00+00:00",
                    ),
                    speaker("sp2", "Trần Thị B", "HNI", "queued", position=1),
                    speaker("sp3", "Lê Văn C", None, "requested"),
                ],
            }
        ],
        "presence": [
            {"site": "HNI", "connected": True, "since": None, "latency_ms": 30},
            {"site": "LCI", "connected": False, "since": None, "latency_ms": None},
        ],
        "roll_call": None,
    }


def frame(seq: int, type_: str, data: dict[str, Any], epoch: str = "E1") -> dict[str, Any]:
    at = "2026-12-10T03:42:07.5+00:00"
    return {
        "id": 1,
        "type": "event",
        "seq": seq,
        "epoch": epoch,
        "event": {"type": type_, "data": data, "at": at},
    }


def test_summary_shows_the_conference_the_agenda_and_the_list() -> None:
    lines = summary_lines(load_snapshot(snapshot()))
    assert lines == [
        "Hội nghị toàn quốc Văn phòng cấp ủy (conference c1, seq 10)",
        "Now: 2.2 Báo cáo tổng kết (running, since 08:00:00)",
        "Agenda:",
        "  ✓ 1. Khai mạc",
        "  ▶ 2. Phiên thảo luận",
        "    – 2.1 Tham luận của các tỉnh",
        "    ▶ 2.2 Báo cáo tổng kết",
        "  · 3. Bế mạc",
        "Speakers on 2.2 Báo cáo tổng kết:",
        # 10 s spoken before the stretch that began 60 s before server_time.
        "  🎤 Nguyễn Văn A (Lào Cai) speaking, 1:10 of 5:00",
        "  1. Trần Thị B (Hà Nội)",
        "  ✋ Lê Văn C (Sở Nội vụ) asks to speak",
        "Sites connected: 1 of 2",
    ]


def test_summary_of_an_empty_conference() -> None:
    empty = snapshot() | {"agenda": {"items": [], "current": None}, "speakers": []}
    del empty["presence"]
    assert summary_lines(load_snapshot(empty))[1:] == ["Now: no item is running", "Agenda: empty"]


def test_moving_the_agenda_prints_what_ended_before_what_started() -> None:
    state = load_snapshot(snapshot())
    lines = apply_event(
        state,
        frame(
            11,
            "agenda/live",
            {
                "action": "start",
                "current": "i4",
                "items": [
                    item("i2", "Phiên thảo luận", 2, "done"),
                    item("i3", "Báo cáo tổng kết", 2, "done", parent="i2"),
                    item("i4", "Bế mạc", 3, "running"),
                ],
                "at": "2026-12-10T03:42:07+00:00",
            },
        ),
    )
    assert lines == [
        "10:42:07 ■ 2. Phiên thảo luận (ended)",
        "10:42:07 ■ 2.2 Báo cáo tổng kết (ended)",
        "10:42:07 ▶ 3. Bế mạc (started)",
    ]
    assert state.seq == 11 and state.current == "i4"
    assert "Now: 3. Bế mạc (running, since 08:00:00)" in summary_lines(state)


def test_speakers_asking_queued_called_and_done() -> None:
    state = load_snapshot(snapshot())

    def listed(seq: int, speaking: str | None, order: list[str], *changed: Any) -> list[str]:
        data = {"item": "i3", "version": seq, "open": True, "speaking": speaking, "order": order}
        out = apply_event(state, frame(seq, "speakers/updated", data | {"changed": changed}))
        assert out is not None
        return out

    ask = speaker("sp4", "Phạm Thị D", "LCI", "requested")
    assert listed(11, "sp1", ["sp2"], ask) == [
        "10:42:07 ✋ Phạm Thị D (Lào Cai) asks to speak on 2.2 Báo cáo tổng kết"
    ]
    approved = ask | {"status": "queued", "position": 2}
    assert listed(12, "sp1", ["sp2", "sp4"], approved) == [
        "10:42:07 … queued: Phạm Thị D (Lào Cai) on 2.2 Báo cáo tổng kết, 2 of 2"
    ]
    # call_next: the new speaker first in the event, whoever spoke after.
    called = speaker(
        "sp2",
        "Trần Thị B",
        "HNI",
        "speaking",
        limit_seconds=420,
        timer_started_at="2026-12-10T03:42:07+00:00",
    )
    done = speaker("sp1", "Nguyễn Văn A", "LCI", "done", spoken_seconds=252.4)
    assert listed(13, "sp2", ["sp4"], called, done, approved | {"position": 1}) == [
        "10:42:07 ✔ Nguyễn Văn A (Lào Cai) finished after 4:12",
        "10:42:07 🎤 Trần Thị B (Hà Nội) speaking, 7:00",
    ]
    paused = called | {"spoken_seconds": 61.0, "timer_started_at": None}
    assert listed(14, "sp2", ["sp4"], paused) == [
        "10:42:07 ⏸ Trần Thị B (Hà Nội): timer paused at 1:01"
    ]
    running = paused | {"timer_started_at": "2026-12-10T03:42:07+00:00"}
    assert listed(15, "sp2", ["sp4"], running) == [
        "10:42:07 ⏵ Trần Thị B (Hà Nội): timer running, 5:59 left"
    ]
    declined = speaker("sp3", "Lê Văn C", None, "rejected")
    assert listed(16, "sp2", ["sp4"], declined) == [
        "10:42:07 ✗ Lê Văn C (Sở Nội vụ): request declined"
    ]
    lines = summary_lines(state)
    assert "  1. Phạm Thị D (Lào Cai)" in lines
    assert not any("Lê Văn C" in line for line in lines)


def test_a_reordered_queue_and_a_closed_list() -> None:
    state = load_snapshot(snapshot())
    state.lists["i3"].order = ["sp2", "sp3"]
    state.lists["i3"].speakers["sp3"]["status"] = "queued"
    data = {"item": "i3", "version": 5, "open": False, "speaking": "sp1", "order": ["sp3", "sp2"]}
    changed = [
        speaker("sp3", "Lê Văn C", None, "queued", position=1),
        speaker("sp2", "Trần Thị B", "HNI", "queued", position=2),
    ]
    assert apply_event(state, frame(11, "speakers/updated", data | {"changed": changed})) == [
        "10:42:07 ↕ queue on 2.2 Báo cáo tổng kết: Lê Văn C (Sở Nội vụ), Trần Thị B (Hà Nội)",
        "10:42:07 🔒 speaker list of 2.2 Báo cáo tổng kết closed",
    ]
    assert state.items["i3"]["speakers_open"] is False


def test_presence_roll_call_and_agenda_edits() -> None:
    state = load_snapshot(snapshot())
    presence = {
        "sites": [
            {"site": "LCI", "connected": True, "since": None, "latency_ms": 80},
            # Only the latency moved: no line.
            {"site": "HNI", "connected": True, "since": None, "latency_ms": 200},
        ]
    }
    assert apply_event(state, frame(11, "sites/presence", presence)) == [
        "10:42:07 🟢 Lào Cai connected, 80 ms"
    ]
    gone = {"sites": [{"site": "HNI", "connected": False, "latency_ms": None}]}
    assert apply_event(state, frame(12, "sites/presence", gone)) == [
        "10:42:07 🔴 Hà Nội disconnected"
    ]
    started = {"id": "r1", "started_at": "x", "started_by": "Chủ tọa", "sites": ["HNI", "LCI"]}
    assert apply_event(state, frame(13, "roll_call/started", started)) == [
        "10:42:07 📣 roll call of 2 sites started by Chủ tọa"
    ]
    answered = {"id": "r1", "site": "LCI", "at": "y", "by": "op"}
    assert apply_event(state, frame(14, "roll_call/answered", answered)) == [
        "10:42:07 ✅ Lào Cai is ready (roll call: 1 of 2)"
    ]
    assert "Roll call open: 1 of 2 sites answered" in summary_lines(state)
    closed = {"id": "r1", "closed_at": "z", "answered": 1, "missing": ["HNI"]}
    assert apply_event(state, frame(15, "roll_call/closed", closed)) == [
        "10:42:07 📣 roll call closed: 1 answered; not answered: Hà Nội"
    ]
    created = item("i5", "Trao giải thưởng", 4)
    assert apply_event(state, frame(16, "agenda_item/created", created)) == [
        "10:42:07 + added to the agenda: 4. Trao giải thưởng"
    ]
    assert apply_event(
        state, frame(17, "agenda/reordered", {"parent": None, "order": ["i1", "i2", "i5", "i4"]})
    ) == ["10:42:07 ↕ agenda reordered"]
    assert "  · 3. Trao giải thưởng" in summary_lines(state)
    assert apply_event(state, frame(18, "agenda_item/deleted", {"id": "i5", "items": ["i5"]})) == [
        "10:42:07 − removed from the agenda: 3. Trao giải thưởng"
    ]
    assert "i5" not in state.items
    # Events of no interest to a reader still move seq on.
    assert apply_event(state, frame(19, "delegate/checked_in", {"id": "d1"})) == []
    assert state.seq == 19
    award = {"kind_label": "Cờ thi đua", "name": "Tỉnh ủy Lào Cai", "site_name": "Lào Cai"}
    presented = {"award": award, "item": "i4", "at": "t", "first": True}
    assert apply_event(state, frame(20, "awards/announced", presented)) == [
        "10:42:07 🏅 Cờ thi đua: Tỉnh ủy Lào Cai (Lào Cai)"
    ]
    again = {**presented, "first": False}
    assert apply_event(state, frame(21, "awards/announced", again)) == [
        "10:42:07 🏅 Cờ thi đua: Tỉnh ủy Lào Cai (Lào Cai) (again)"
    ]


def test_an_event_already_held_is_ignored_and_a_new_epoch_is_refused() -> None:
    state = load_snapshot(snapshot())
    data = {
        "action": "end",
        "current": None,
        "items": [item("i3", "Báo cáo tổng kết", 2, "done", parent="i2")],
    }
    assert apply_event(state, frame(10, "agenda/live", data)) is None
    assert state.items["i3"]["status"] == "running"
    # seq 12 after 10: the server left out one this viewer may not see; not a gap.
    assert apply_event(state, frame(12, "agenda/live", data)) == [
        "10:42:07 ■ 2.2 Báo cáo tổng kết (ended)"
    ]
    with pytest.raises(NewEpoch):
        apply_event(state, frame(13, "agenda/live", data, epoch="E2"))
    assert state.seq == 12


def test_websocket_url_from_the_base_url() -> None:
    assert websocket_url("http://127.0.0.1:8080") == "ws://127.0.0.1:8080/api/v1/ws"
    assert websocket_url("https://hoinghi.example.vn/plenary/") == (
        "wss://hoinghi.example.vn/plenary/api/v1/ws"
    )
    for wrong in ("hoinghi.example.vn", "ftp://example.vn", "http://"):
        with pytest.raises(FollowError):
            websocket_url(wrong)


def test_backoff_doubles_to_thirty_seconds_with_jitter() -> None:
    rng = random.Random(7)
    for attempt, ceiling in [(0, 1), (1, 2), (2, 4), (4, 16), (5, 30), (40, 30)]:
        delays = [backoff_delay(attempt, rng) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays), attempt
        assert max(delays) - min(delays) > ceiling / 4, "no jitter"


# --- a real server ---------------------------------------------------------------------------


@dataclass
class Hall:
    """A public conference with two sites, three items, two delegates and a chair token."""

    db: Database
    config: Config
    base: str
    conference: Conference
    items: list[str]
    delegates: list[str]
    token: str
    runner: web.AppRunner | None = None

    @property
    def cid(self) -> str:
        return self.conference.public_id

    async def start(self) -> None:
        runner = web.AppRunner(create_app(self.config))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", int(self.base.rsplit(":", 1)[1])).start()
        self.runner = runner

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    async def post(self, path: str, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"}
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"{self.base}/api/v1/conferences/{self.cid}{path}", json=body, headers=headers
            ) as resp,
        ):
            answer = await resp.json()
            assert resp.status in (200, 201), answer
            return answer

    def actor(self) -> Actor:
        return Actor(CLI, self.conference.id, frozenset({"organizer"}))


async def prepare(db: Database) -> tuple[Conference, list[str], list[str], str]:
    async with db.transaction() as session:
        conference = await create_conference(
            session,
            ConferenceCreate(
                title="Hội nghị toàn quốc Văn phòng cấp ủy",
                starts_on=date(2026, 12, 10),
                ends_on=date(2026, 12, 11),
                timezone="Asia/Ho_Chi_Minh",
                public=True,
            ),
            actor=Actor(CLI),
        )
        organizer = Actor(CLI, conference.id, frozenset({"organizer"}))
        for code, name in (("HNI", "Hà Nội"), ("LCI", "Lào Cai")):
            await create_site(
                session, conference, SiteCreate(code=code, name=name), actor=organizer
            )
        items = [
            (
                await create_agenda_item(
                    session, conference, AgendaItemCreate(title=t), actor=organizer
                )
            ).public_id
            for t in ("Khai mạc", "Báo cáo tổng kết", "Thảo luận")
        ]
        delegates = [
            (
                await create_delegate(
                    session, conference, DelegateCreate(name=name, site=site), actor=organizer
                )
            ).public_id
            for name, site in (("Nguyễn Văn A", "LCI"), ("Trần Thị B", "HNI"))
        ]
        token, _ = await issue_token(session, conference, "chủ tọa", "chair", actor=organizer)
    return conference, items, delegates, token


@pytest.fixture
async def hall(db_url: str) -> AsyncIterator[Hall]:
    db = Database(db_url)
    conference, items, delegates, token = await prepare(db)
    # No scheduler: the follower needs none, and on PostgreSQL a restarted app's job store
    # leaves a psycopg connection open (reported; runtime/scheduler.py is another's work).
    config = Config(database_url=db_url, scheduler=False)
    found = Hall(db, config, f"http://127.0.0.1:{free_port()}", conference, items, delegates, token)
    await found.start()
    try:
        yield found
    finally:
        await found.stop()
        await db.dispose()


class Screen:
    """What the follower printed; a test waits on it until a check holds (or WAIT passes)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._changed = asyncio.Condition()

    def write(self, line: str) -> None:
        self.lines.append(line)
        asyncio.get_running_loop().create_task(self._tell())

    async def _tell(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def until(self, check: Callable[[list[str]], bool], what: str) -> None:
        try:
            async with asyncio.timeout(WAIT), self._changed:
                await self._changed.wait_for(lambda: check(self.lines))
        except TimeoutError:
            pytest.fail(f"no {what} in {self.lines}")


CHANGE = re.compile(r"^\d\d:\d\d:\d\d ([▶■…🎤✔✋] .*)$")


def changes(lines: list[str]) -> list[str]:
    """The change lines without their time (nor a speech's length, which depends on speed)."""
    found = (CHANGE.match(line) for line in lines)
    return [re.sub(r"after \d+:\d\d", "after …", m.group(1)) for m in found if m]


def summarised(lines: list[str]) -> bool:
    return any(line.startswith("Now:") for line in lines)


async def test_follows_a_real_server_through_a_restart(hall: Hall) -> None:
    screen = Screen()
    follower = Follower(
        hall.base, hall.cid, out=screen.write, note=screen.write, first_delay=0.05, max_delay=0.4
    )
    task = asyncio.create_task(follower.run())
    lines = screen.lines
    try:
        await screen.until(summarised, "summary")
        assert lines[0].startswith("Hội nghị toàn quốc Văn phòng cấp ủy (conference ")
        assert lines[1:] == [
            "Now: no item is running",
            "Agenda:",
            "  · 1. Khai mạc",
            "  · 2. Báo cáo tổng kết",
            "  · 3. Thảo luận",
        ]
        first = hall.items[0]
        a, b = hall.delegates

        # Live: start an item, put a delegate on the list, give them the floor.
        await hall.post("/agenda/live", {"action": "start"})
        await hall.post(f"/agenda/{first}/speakers", {"delegate": a})
        await hall.post(f"/agenda/{first}/speakers/next")
        live = [
            "▶ 1. Khai mạc (started)",
            "… queued: Nguyễn Văn A (Lào Cai) on 1. Khai mạc, 1 of 1",
            "🎤 Nguyễn Văn A (Lào Cai) speaking, 5:00",
        ]
        await screen.until(lambda got: len(changes(got)) >= len(live), "live changes")
        assert changes(lines) == live
        assert follower.state is not None and follower.state.current == first
        seq_at_drop = follower.state.seq

        # The server goes away; the conference goes on without the follower.
        await hall.stop()
        await screen.until(lambda got: "connection lost" in "".join(got), "line about the drop")
        [drop] = [line for line in lines if "connection lost" in line]
        assert "connection lost (the server is going away); reconnecting in" in drop
        actor = hall.actor()
        async with hall.db.transaction() as session:
            conference = await get_conference(session, hall.cid)
            await request_speaker(
                session, conference, SpeakerCreate(item=first, delegate=b), actor=actor
            )
        async with hall.db.transaction() as session:
            conference = await get_conference(session, hall.cid)
            await call_next(session, conference, first, actor=actor)
        async with hall.db.transaction() as session:
            conference = await get_conference(session, hall.cid)
            await move_agenda(session, conference, "start", actor=actor)
        missed = [
            "… queued: Trần Thị B (Hà Nội) on 1. Khai mạc, 1 of 1",
            "✔ Nguyễn Văn A (Lào Cai) finished after …",
            "🎤 Trần Thị B (Hà Nội) speaking, 5:00",
            "■ 1. Khai mạc (ended)",
            "▶ 2. Báo cáo tổng kết (started)",
        ]
        await screen.until(lambda got: "still no connection" in got[-1], "refused reconnection")
        assert "still no connection (cannot connect to" in lines[-1]
        assert "connection refused); next try in" in lines[-1]
        await hall.start()
        await screen.until(lambda got: len(changes(got)) >= len(live + missed), "replay")
        assert changes(lines) == live + missed
        [resumed] = [n for n, line in enumerate(lines) if "reconnected" in line]
        assert lines[resumed].endswith(f"↻ reconnected; resuming after event {seq_at_drop}")
        assert changes(lines[resumed:]) == missed
        # Resumed by replay, not by a fresh snapshot: no second summary.
        assert sum(line.startswith("Now:") for line in lines) == 1

        # And live again after the resumption.
        await hall.post("/agenda/live", {"action": "end"})
        ended = "■ 2. Báo cáo tổng kết (ended)"
        await screen.until(lambda got: ended in changes(got), "change after resuming")
        assert changes(lines) == [*live, *missed, ended]
        assert follower.state is not None and follower.state.current is None
        assert summary_lines(follower.state)[3:6] == [
            "  ✓ 1. Khai mạc",
            "  ✓ 2. Báo cáo tổng kết",
            "  · 3. Thảo luận",
        ]
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_json_lines_carry_every_event_once(hall: Hall) -> None:
    screen = Screen()
    notes: list[str] = []
    follower = Follower(hall.base, hall.cid, out=screen.write, note=notes.append, as_json=True)
    task = asyncio.create_task(follower.run())
    try:
        await screen.until(lambda got: len(got) >= 1, "snapshot line")
        first = json.loads(screen.lines[0])
        assert first["type"] == "snapshot" and first["snapshot"]["conference"]["id"] == hall.cid
        await hall.post("/agenda/live", {"action": "start"})
        await screen.until(lambda got: len(got) >= 2, "event line")
        assert len(screen.lines) == 2
        event = json.loads(screen.lines[1])
        assert event["seq"] == first["seq"] + 1 and event["epoch"] == first["epoch"]
        assert event["event"]["type"] == "agenda/live"
        assert "Khai mạc" in screen.lines[1], "names as they are, not \\u escapes"
        assert notes == []
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_a_private_conference_or_a_wrong_token_is_refused(hall: Hall) -> None:
    wrong = Follower(hall.base, hall.cid, out=print, note=print, token="plnr_not-a-token")
    with pytest.raises(FollowError, match=r"^authentication refused: "):
        await asyncio.wait_for(wrong.run(), WAIT)
    absent = Follower(hall.base, "nosuchconference", out=print, note=print)
    with pytest.raises(FollowError, match=r"^no conference 'nosuchconference' .* public"):
        await asyncio.wait_for(absent.run(), WAIT)
    async with hall.db.transaction() as session:
        conference = await get_conference(session, hall.cid)
        await update_conference(
            session, conference, ConferenceUpdate(public=False), actor=hall.actor()
        )
    private = Follower(hall.base, hall.cid, out=print, note=print)
    with pytest.raises(FollowError, match="needs --token"):
        await asyncio.wait_for(private.run(), WAIT)
    # The chair's token sees it.
    screen = Screen()
    chair = Follower(hall.base, hall.cid, out=screen.write, note=screen.write, token=hall.token)
    task = asyncio.create_task(chair.run())
    try:
        await screen.until(summarised, "summary")
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


# --- the command ------------------------------------------------------------------------------


def _ignore_sigint() -> None:
    # What a shell does to a command it starts in the background (`cmd &` in a script).
    signal.signal(signal.SIGINT, signal.SIG_IGN)


async def plenary(
    *args: str, env: dict[str, str] | None = None, sigint_ignored: bool = False
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        *(args if args[0] == "-c" else ("-m", "cli", *args)),
        cwd=ROOT,
        env={
            **os.environ,
            "PYTHONIOENCODING": "",
            "LC_ALL": "C",
            "PYTHONFAULTHANDLER": "1",
            **(env or {}),
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        preexec_fn=_ignore_sigint if sigint_ignored else None,
    )


async def finished(proc: asyncio.subprocess.Process, within: float = WAIT) -> tuple[int, str, str]:
    ended = asyncio.ensure_future(proc.communicate())
    try:
        out, err = await asyncio.wait_for(asyncio.shield(ended), within)
    except TimeoutError:
        # Where it is stuck: SIGABRT makes its faulthandler print every thread's stack.
        with open(f"/proc/{proc.pid}/status") as status:  # noqa: ASYNC230 (a failed test)
            signals = [line for line in status if line.startswith(("SigIgn", "SigCgt"))]
        proc.send_signal(signal.SIGABRT)
        out, err = await ended
        pytest.fail(
            f"plenary follow did not end within {within} s; it was at:\n{err.decode()}\n"
            f"it printed:\n{out.decode()[-2000:]}\nits signals: {signals}"
        )
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def test_the_command_loads_none_of_the_server() -> None:
    """A client command: the server's stack (an Argon2 hash at import, SQLAlchemy, aiohttp:
    ~790 modules, 130 MB) made it take seconds to start and to exit after Ctrl-C on a busy
    machine. This counts what `plenary follow` imports instead of timing it."""
    code = (
        "import sys\n"
        "from cli.main import main\n"
        "main(['follow', 'ftp://x', '--conference', 'x'])\n"
        "heavy = ('aiohttp', 'sqlalchemy', 'sqlmodel', 'argon2', 'pydantic', 'weasyprint')\n"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout == "[]\n", done.stdout


async def test_a_server_that_is_not_there_is_one_line_and_status_1() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    code, out, err = await finished(await plenary("follow", url, "--conference", "x"))
    assert (code, out) == (1, "")
    assert err == f"plenary: cannot connect to {url}: connection refused\n"


@pytest.mark.parametrize("url", ["ftp://127.0.0.1", "http://", "hoinghi.example.vn"])
def test_a_url_that_is_not_a_server_url(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["follow", url, "--conference", "x"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"plenary: {url!r} is not a server URL: give http://HOST:PORT or https://HOST\n"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_the_command_prints_utf8_and_stops_on_ctrl_c(hall: Hall) -> None:
    proc = await plenary("follow", hall.base, "--conference", hall.cid)
    assert proc.stdout is not None
    first = await asyncio.wait_for(proc.stdout.readline(), WAIT)
    if not first:  # it ended before printing anything: say why (seen once under load)
        code, _, err = await finished(proc)
        raise AssertionError(f"plenary follow ended with {code} and printed nothing: {err}")
    assert first.decode("utf-8").startswith("Hội nghị toàn quốc Văn phòng cấp ủy (conference ")
    while not (await asyncio.wait_for(proc.stdout.readline(), WAIT)).startswith(b"Now:"):
        pass
    proc.send_signal(signal.SIGINT)
    code, _, err = await finished(proc, STOP)
    assert (code, err) == (0, "")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_the_command_refuses_a_wrong_token_from_the_environment(hall: Hall) -> None:
    proc = await plenary(
        "follow", hall.base, "--conference", hall.cid, env={"PLENARY_TOKEN": "plnr_wrong"}
    )
    code, out, err = await finished(proc)
    assert (code, out) == (1, "")
    assert err.startswith("plenary: authentication refused: ") and err.count("\n") == 1, err


async def line_with(proc: asyncio.subprocess.Process, text: bytes) -> None:
    """Read what it prints until a line holds text (a failed wait ends after WAIT)."""
    assert proc.stdout is not None
    while text not in (line := await asyncio.wait_for(proc.stdout.readline(), WAIT)):
        if not line:
            code, _, err = await finished(proc)
            raise AssertionError(f"plenary follow ended with {code} before {text!r}: {err}")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_ctrl_c_stops_it_also_when_started_with_sigint_ignored(hall: Hall) -> None:
    """The cause of the Ctrl-C test failing: a command started in the background by a
    script (`pytest ... &`) inherits SIGINT ignored; asyncio.run() then left it ignored,
    and the follower sat in its event loop for ever (its stacks showed just that)."""
    proc = await plenary("follow", hall.base, "--conference", hall.cid, sigint_ignored=True)
    await line_with(proc, b"Now:")
    proc.send_signal(signal.SIGINT)
    code, _, err = await finished(proc, STOP)
    assert (code, err) == (0, "")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_ctrl_c_during_the_reconnect_backoff(hall: Hall) -> None:
    proc = await plenary("follow", hall.base, "--conference", hall.cid)
    await line_with(proc, b"Now:")
    await hall.stop()
    await line_with(proc, "⚡ connection lost".encode())
    proc.send_signal(signal.SIGINT)
    code, _, err = await finished(proc, STOP)
    assert (code, err) == (0, "")


@pytest.fixture
async def deaf_server() -> AsyncIterator[str]:
    """A server that answers the subscription, then reads nothing more: the follower's
    close frame is never answered and its TCP connection never ends from this side."""
    from websockets.asyncio.server import ServerConnection, serve

    snap = {"seq": 1, "epoch": "E1", "conference": {"id": "c", "title": "Điếc"}}
    done = asyncio.Event()

    async def handler(ws: ServerConnection) -> None:
        await ws.send(json.dumps({"type": "auth_required"}))
        await ws.recv()
        await ws.send(json.dumps({"type": "auth_ok"}))
        await ws.recv()
        result = {"snapshot": snap}
        await ws.send(json.dumps({"type": "result", "id": 1, "success": True, "result": result}))
        ws.transport.pause_reading()
        await done.wait()
        ws.transport.abort()

    async with serve(handler, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"http://127.0.0.1:{port}"
        done.set()


async def test_ctrl_c_while_the_server_withholds_the_close_handshake(deaf_server: str) -> None:
    proc = await plenary("follow", deaf_server, "--conference", "c")
    await line_with(proc, b"Now:")
    proc.send_signal(signal.SIGINT)
    code, _, err = await finished(proc, STOP)
    assert (code, err) == (0, "")


# A follower whose work swallows the cancellation that Ctrl-C makes (as a library may).
DEAF_FOLLOWER = """
import asyncio, sys
from client import follow
async def deaf(self):
    print("following", flush=True)
    while True:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            print("cancellation swallowed", flush=True)
follow.Follower.run = deaf
grace = float(sys.argv[1])
raise SystemExit(follow.run_follow("http://x:9", "c", token=None, as_json=False, grace=grace))
"""


async def test_ctrl_c_ends_a_follower_that_swallows_its_cancellation() -> None:
    proc = await plenary("-c", DEAF_FOLLOWER, "0.5")
    await line_with(proc, b"following")
    proc.send_signal(signal.SIGINT)
    await line_with(proc, b"cancellation swallowed")
    code, _, err = await finished(proc, STOP)
    assert (code, err) == (0, "")


async def test_a_second_ctrl_c_ends_it_at_once() -> None:
    proc = await plenary("-c", DEAF_FOLLOWER, "3600")  # a grace it will not wait out
    await line_with(proc, b"following")
    proc.send_signal(signal.SIGINT)
    await line_with(proc, b"cancellation swallowed")
    proc.send_signal(signal.SIGINT)
    code, _, err = await finished(proc, STOP)
    assert (code, err) == (0, "")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_sigterm_stops_it_like_ctrl_c(hall: Hall) -> None:
    proc = await plenary("follow", hall.base, "--conference", hall.cid)
    await line_with(proc, b"Now:")
    proc.send_signal(signal.SIGTERM)
    code, _, err = await finished(proc, STOP)
    assert (code, err) == (0, "")
