"""Who is acting: the principal behind a request and their roles in one conference."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import column, table
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from conference.errors import Forbidden, NotFound
from conference.models import Conference, Membership, Site

# Roles that may read everything in a conference (a site operator sees one site).
STAFF_ROLES = frozenset({"organizer", "chair", "secretary"})
# Roles bound to one site (a site's operator and its screen).
SITE_ROLES = ("site_operator", "screen")


@dataclass(frozen=True)
class Principal:
    """An authenticated account, an API token, the command line, or nobody."""

    kind: str  # "account" | "token" | "cli" | "anonymous"
    name: str
    account_id: int | None = None
    is_admin: bool = False
    can_create_conferences: bool = False
    token_id: int | None = None
    token_conference_id: int | None = None
    token_role: str | None = None
    token_site_id: int | None = None
    # A delegate who opened their personal link (the link's secret is the credential).
    delegate_id: int | None = None
    ip: str = ""

    @property
    def authenticated(self) -> bool:
        return self.kind != "anonymous"


ANONYMOUS = Principal(kind="anonymous", name="anonymous")
CLI = Principal(kind="cli", name="command line", is_admin=True, can_create_conferences=True)


@dataclass(frozen=True)
class Actor:
    """A principal with its roles resolved in one conference (or none)."""

    principal: Principal
    conference_id: int | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    site_id: int | None = None
    site_code: str = ""
    delegate_id: int | None = None

    @property
    def name(self) -> str:
        return self.principal.name

    @property
    def role(self) -> str:
        for role in (
            "organizer",
            "chair",
            "secretary",
            "site_operator",
            "delegate",
            "screen",
            "viewer",
        ):
            if role in self.roles:
                return role
        return ""

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def require(self, *roles: str) -> None:
        """Raise Forbidden unless the actor holds one of roles."""
        if not self.has(*roles):
            wanted = " or ".join(roles)
            raise Forbidden(f"this needs the {wanted} role in this conference")

    @property
    def sees_contacts(self) -> bool:
        """Contact people of sites are for the staff and operators, not the public."""
        return self.has(*STAFF_ROLES, "site_operator")

    @property
    def sees_all_sites(self) -> bool:
        return self.has(*STAFF_ROLES) or not self.has("site_operator")


async def resolve_actor(
    session: AsyncSession, principal: Principal, conference: Conference
) -> Actor:
    """Roles of principal in conference; NotFound when it may not even see it."""
    assert conference.id is not None
    roles: set[str] = set()
    site_id: int | None = None
    if principal.is_admin:
        roles.add("organizer")
    if principal.kind == "token" and principal.token_conference_id == conference.id:
        assert principal.token_role is not None
        roles.add(principal.token_role)
        site_id = principal.token_site_id
    if principal.kind == "account" and principal.account_id is not None:
        rows = await session.exec(
            select(Membership).where(
                col(Membership.account_id) == principal.account_id,
                col(Membership.conference_id) == conference.id,
            )
        )
        for membership in rows:
            roles.add(membership.role)
            if membership.site_id is not None:
                site_id = membership.site_id
    delegate_id = None
    if principal.kind == "delegate" and principal.delegate_id is not None:
        # A personal link: the delegate, in their own conference only.
        # The core does not know attendance's models: the delegate table by name.
        delegate = table("delegate", column("id"), column("conference_id"), column("site_id"))
        found = (
            await session.exec(
                select(delegate.c.site_id).where(
                    delegate.c.id == principal.delegate_id,
                    delegate.c.conference_id == conference.id,
                )
            )
        ).first()
        if found is not None:
            roles.add("delegate")
            site_id, delegate_id = found, principal.delegate_id
    if conference.public:
        roles.add("viewer")
    if not roles:
        raise NotFound("no such conference", field="conference")
    site_code = ""
    if site_id is not None:
        site = await session.get(Site, site_id)
        site_code = site.code if site is not None else ""
    return Actor(principal, conference.id, frozenset(roles), site_id, site_code, delegate_id)
