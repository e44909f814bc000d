"""Participant links: a random token of 128+ bits in the URL fragment, stored as a hash.

The token sits after '#' so it never reaches server logs or Referer headers; the page
posts it once to open an HttpOnly session for that participant. Every reminder carries a
fresh link; revoking ends all of a participant's links.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, insert, select, update

from pro_server.audit.services import record
from pro_server.context import ServiceContext
from pro_server.db import rows_changed
from pro_server.participants.models import Participant, ParticipantLink, ParticipantStatus
from pro_server.studies.models import Site, Study

TOKEN_BYTES = 16  # 128 bits; token_urlsafe gives 22 characters


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_url(ctx: ServiceContext, token: str) -> str:
    return f"{ctx.settings.public_base_url}/p#{token}"


def new_link(ctx: ServiceContext, participant_id: int) -> tuple[str, dict[str, Any]]:
    """A new link's URL (the token exists in clear only there) and its `participant_link`
    row, not stored yet: `issue_link` stores one, `store_links` many in one statement."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = ctx.now()
    return link_url(ctx, token), {
        "participant_id": participant_id, "token_hash": token_hash(token), "created_at": now,
        "expires_at": now + timedelta(days=ctx.settings.participant_link_ttl_days),
        "created_by": ctx.actor.label or ctx.actor.type}


def store_links(ctx: ServiceContext, rows: list[dict[str, Any]]) -> None:
    """Rows of `new_link`, inserted together (the dispatcher's links of a batch)."""
    if rows:
        ctx.session.execute(insert(ParticipantLink), rows)


def issue_link(ctx: ServiceContext, participant: Participant, *, audited: bool = False) -> str:
    """A new link for the participant; the token exists in clear only in the returned URL."""
    url, row = new_link(ctx, participant.id)
    ctx.session.add(ParticipantLink(**row))
    ctx.session.flush()
    if audited:
        record(ctx, "participant.link_issue", "participant", participant.id,
               study_id=participant.study_id, site_id=participant.site_id)
    return url


def revoke_links(ctx: ServiceContext, participant: Participant, reason: str) -> int:
    revoked = rows_changed(ctx.session, (
        update(ParticipantLink)
        .where(ParticipantLink.participant_id == participant.id,
               ParticipantLink.revoked_at.is_(None))
        .values(revoked_at=ctx.now())
    ))
    record(ctx, "participant.link_revoke", "participant", participant.id,
           after={"links_revoked": revoked}, reason=reason,
           study_id=participant.study_id, site_id=participant.site_id)
    return revoked


@dataclass(frozen=True, slots=True)
class StudyName:
    program_name: str


@dataclass(frozen=True, slots=True)
class SiteContact:
    name: str
    contact_phone: str | None


@dataclass(frozen=True, slots=True)
class LinkHolder:
    """A link's participant as opening a session reads them (`LINK_BY_TOKEN`): who they
    are, and their study and site for the contact line, as `Participant` gives them."""

    id: int
    study_id: int
    site_id: int
    subject_key: str
    status: ParticipantStatus
    language: str
    timezone: str
    study: StudyName
    site: SiteContact


_LINK = cast(Table, ParticipantLink.__table__)
_PARTICIPANT, _STUDY, _SITE = (cast(Table, m.__table__) for m in (Participant, Study, Site))
# Built once (every tap on a link runs it); the token's hash is bound per call. The link's
# id, end and revocation, and its participant (`LinkHolder`) with their study's and site's
# names and phone for the contact line: plain Core columns, not ORM objects (loading four
# objects cost opening a session a tenth of its CPU). Contact data stays unread. A caller
# may add columns (and joins) after these (`live_link_row`).
LINK_BY_TOKEN = (
    select(_LINK.c.id, _LINK.c.revoked_at, _LINK.c.expires_at,
           _PARTICIPANT.c.id, _PARTICIPANT.c.study_id, _PARTICIPANT.c.site_id,
           _PARTICIPANT.c.subject_key, _PARTICIPANT.c.status, _PARTICIPANT.c.language,
           _PARTICIPANT.c.timezone, _STUDY.c.program_name, _SITE.c.name,
           _SITE.c.contact_phone)
    .select_from(_LINK)
    .join(_PARTICIPANT, _PARTICIPANT.c.id == _LINK.c.participant_id)
    .outerjoin(_STUDY, _STUDY.c.id == _PARTICIPANT.c.study_id)
    .outerjoin(_SITE, _SITE.c.id == _PARTICIPANT.c.site_id)
    .where(_LINK.c.token_hash == bindparam("token_hash")))
_ADDED = 13  # the columns a caller added start here


def live_link_row(ctx: ServiceContext, statement: Select[Any], token: str
                  ) -> tuple[int, LinkHolder, tuple[Any, ...]] | None:
    """For a token whose link is live (not expired, not revoked): the link's id, its
    participant and the columns the caller added to `LINK_BY_TOKEN` (`statement`), read in
    one statement; else None."""
    row = ctx.session.execute(statement, {"token_hash": token_hash(token)}).first()
    if row is None:
        return None
    (link_id, revoked_at, expires_at, participant_id, study_id, site_id, subject_key, status,
     language, timezone, program, site, phone) = row[:_ADDED]
    if revoked_at is not None or expires_at <= ctx.now():
        return None
    return link_id, LinkHolder(participant_id, study_id, site_id, subject_key, status,
                               language, timezone, StudyName(program),
                               SiteContact(site, phone)), tuple(row[_ADDED:])
