"""The event catalogue: every event declared once, who may receive it, what it holds."""

from __future__ import annotations

import pytest

from conference.catalogue import Audience, Catalogue, EventType, Viewer, visible, without_private
from conference.events import SITE_CREATED, SITE_UPDATED
from server.events import build_catalogue
from tests.event_payloads import payload_problems

STAFF = Viewer(frozenset({"organizer"}), contacts=True)
CHAIR = Viewer(frozenset({"chair"}), contacts=True)
OPERATOR = Viewer(frozenset({"site_operator"}), contacts=True, site="s-hni", site_code="HNI")
SCREEN = Viewer(frozenset({"screen"}), contacts=False, site="s-hni", site_code="HNI")
DELEGATE = Viewer(frozenset({"delegate"}), contacts=False, site="s-hni", site_code="HNI")
PUBLIC = Viewer(frozenset({"viewer"}), contacts=False)
EVERY_VIEWER = {
    "staff": STAFF,
    "chair": CHAIR,
    "operator": OPERATOR,
    "screen": SCREEN,
    "delegate": DELEGATE,
    "public": PUBLIC,
}


def receivers(name: str, data: dict[str, object]) -> set[str]:
    event_type = build_catalogue()[name]
    return {who for who, viewer in EVERY_VIEWER.items() if visible(event_type, data, viewer)}


def test_every_event_name_is_declared_once_with_a_payload_and_a_meaning() -> None:
    catalogue = build_catalogue()
    assert len(catalogue) == len(catalogue.names()) >= 38
    for event_type in catalogue:
        assert "/" in event_type.name and event_type.about, event_type
        assert isinstance(event_type.payload, type), event_type
    twice = EventType("site/created", Audience.EVERYONE, dict, "again")
    with pytest.raises(ValueError, match="site/created"):
        Catalogue({"all": catalogue, "again": [twice]})


def test_the_agenda_reaches_everyone() -> None:
    assert receivers("agenda/live", {}) == set(EVERY_VIEWER)
    assert receivers("awards/announced", {}) == set(EVERY_VIEWER)


def test_a_site_record_reaches_a_site_bound_subscriber_only_for_their_own_site() -> None:
    assert receivers("site/updated", {"id": "s-hni"}) == set(EVERY_VIEWER)
    assert receivers("site/updated", {"id": "s-hue"}) == {"staff", "chair", "public"}


def test_people_reach_the_staff_and_the_operator_of_a_site_they_concern() -> None:
    assert receivers("delegate/created", {"site": "HUE"}) == {"staff", "chair"}
    assert receivers("delegate/created", {"site": "HNI"}) == {"staff", "chair", "operator"}
    # Admitted at the operator's site, or moved away from it: the operator hears of it.
    assert "operator" in receivers("delegate/checked_in", {"site": "HUE", "at_site": "HNI"})
    assert "operator" in receivers("delegate/updated", {"site": "HUE", "from_site": "HNI"})


def test_document_jobs_reach_the_staff_and_their_own_sites_operator() -> None:
    assert receivers("document/updated", {"site": None}) == {"staff", "chair"}
    assert receivers("document/updated", {"site": "HNI"}) == {"staff", "chair", "operator"}


def test_the_minutes_reach_whom_their_readers_name() -> None:
    assert receivers("minutes/updated", {"readers": "staff"}) == {"staff", "chair"}
    assert receivers("minutes/updated", {"readers": "sites"}) == {
        "staff",
        "chair",
        "operator",
        "screen",
    }
    assert receivers("minutes/finalised", {"readers": "delegates"}) == {
        "staff",
        "chair",
        "operator",
        "screen",
        "delegate",
    }


def test_decisions_and_every_sites_link_are_the_whole_conferences_staffs() -> None:
    for name in ("decision/created", "award/created", "award/revoked", "sites/presence"):
        assert receivers(name, {"site": "HNI"}) == {"staff", "chair"}, name


def test_contacts_are_blanked_only_where_there_are_some() -> None:
    data = {"id": "s", "contact_name": "Lê Văn A", "contact_phone": "0901", "contact_email": ""}
    assert without_private(SITE_UPDATED, data) == {
        "id": "s",
        "contact_name": None,
        "contact_phone": None,
        "contact_email": None,
    }
    assert without_private(SITE_CREATED, {"id": "s", "contact_name": ""}) is None


def test_data_unlike_the_declared_payload_is_named() -> None:
    catalogue = build_catalogue()
    assert payload_problems(catalogue, "site/deleted", {"id": "s", "code": "HNI"}) == []
    assert payload_problems(catalogue, "site/deleted", {"id": "s", "code": "HNI", "x": 1}) == [
        "site/deleted.x: not in SiteGone"
    ]
    wrong = payload_problems(catalogue, "roll_call/closed", {"id": "r", "closed_at": "t"})
    assert "roll_call/closed: ('answered',) Field required" in wrong
    assert payload_problems(catalogue, "site/renamed", {}) == [
        "site/renamed: not in the event catalogue"
    ]
