"""Validated input and serialised output of tokens, members, the audit log and accounts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, StrictBool, StrictStr

from conference.admin import Member
from conference.models import Account, ApiToken, AuditEntry
from conference.rawjson import JsonObject
from conference.schemas import Input, Name, RowOut, SiteCode
from conference.text import clean_text

GrantableRole = Literal["organizer", "chair", "secretary", "site_operator", "delegate", "screen"]
Username = Annotated[StrictStr, AfterValidator(clean_text), Field(min_length=1, max_length=100)]
DisplayName = Annotated[StrictStr, AfterValidator(clean_text), Field(max_length=200)]


class TokenCreate(Input):
    name: Name
    role: GrantableRole
    site: SiteCode | None = Field(
        default=None, description="site code (site operators and screens)"
    )


class TokenOut(RowOut):
    id: str
    name: str
    role: str
    site: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    active: bool

    @classmethod
    def of(cls, token: ApiToken, site_code: str | None) -> TokenOut:
        return cls.from_row(
            token, id=token.public_id, site=site_code, active=token.revoked_at is None
        )


class TokenIssued(TokenOut):
    token: str = Field(description="the secret, shown only in this answer")


class TokenList(BaseModel):
    items: list[TokenOut]


class MemberGrant(Input):
    username: Username
    role: GrantableRole
    site: SiteCode | None = Field(default=None, description="site code (site operators only)")


class MemberRevoke(Input):
    username: Username
    role: GrantableRole


class MemberOut(BaseModel):
    username: str
    display_name: str
    role: str
    site: str | None

    @classmethod
    def of(cls, member: Member) -> MemberOut:
        return cls(
            username=member.account.username,
            display_name=member.account.display_name,
            role=member.role,
            site=member.site_code,
        )


class MemberList(BaseModel):
    items: list[MemberOut]


class AuditQuery(Input):
    """Query string of the audit log (strings are converted: it comes from a URL)."""

    before: Annotated[int, Field(ge=1, le=2**62)] | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 100


class AuditEntryOut(RowOut):
    id: int
    at: datetime
    actor: str
    role: str
    site: str
    via: str
    ip: str
    action: str
    target_type: str
    target_id: str
    changes: JsonObject

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditEntryOut:
        assert entry.id is not None
        return cls.from_row(
            entry, actor=entry.actor_name, role=entry.actor_role, site=entry.actor_site_code
        )


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    next_before: int | None = Field(description="pass as ?before= for the older entries")


class AccountCreate(Input):
    username: Username
    password: Annotated[StrictStr, Field(min_length=1, max_length=1000)]
    display_name: DisplayName = ""
    can_create_conferences: StrictBool = False


class AccountOut(RowOut):
    id: str
    username: str
    display_name: str
    is_admin: bool
    can_create_conferences: bool
    disabled: bool
    created_at: datetime

    @classmethod
    def of(cls, account: Account) -> AccountOut:
        return cls.from_row(account, id=account.public_id)


class AccountList(BaseModel):
    items: list[AccountOut]
