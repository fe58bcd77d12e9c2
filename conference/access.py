"""Changes that may take access away from someone already connected.

A transaction that revokes a token, a role or a personal link, ends a session, or
changes what a conference or a site lets people see is marked here; after its
commit, :meth:`conference.db.Database.transaction` tells its access listeners
(the server closes the sockets that relied on it and forgets cached lookups).
"""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

ACCESS_CHANGED = "plenary_access_changed"

# Audit actions after which a socket, a token lookup or a caller's roles kept in
# memory may allow more than the database now does.
ACTIONS = frozenset(
    {
        "token.revoke",
        "role.grant",
        "role.revoke",
        "delegate.reissue",
        "delegate.delete",
        "conference.update",
        "conference.import",
        "site.update",
        "site.delete",
    }
)


def note_access_change(session: AsyncSession) -> None:
    """Mark session's transaction: once committed, access may have been withdrawn."""
    session.info[ACCESS_CHANGED] = True


def note_action(session: AsyncSession, action: str) -> None:
    if action in ACTIONS:
        note_access_change(session)
