"""The server's live events, by the domain that emits them, as the stream's clients name
them: the clients speak only the protocol and do not import the server's catalogue
(docs/events.md). tests/client/test_events.py checks these sets against it."""

from __future__ import annotations

# People's records and the check-in ledger (attendance).
ATTENDANCE = frozenset(
    {
        "delegate/created",
        "delegate/updated",
        "delegate/removed",
        "delegate/reissued",
        "delegates/imported",
        "delegate/checked_in",
        "delegate/checkin_conflict",
        "delegate/checkin_conflict_resolved",
        "delegate/checkin_undone",
    }
)
MINUTES = frozenset({"minutes/updated", "minutes/finalised"})
# Decisions and recipients, the staff's records (the ceremony's awards/announced is the
# agenda's).
AWARDS = frozenset(
    {"decision/created", "award/created", "award/updated", "award/revoked", "award/imported"}
)
# The conference's making and its document jobs: nothing a hall follows.
MAKING = frozenset({"conference/created", "conference/imported", "document/updated"})
