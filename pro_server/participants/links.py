"""Participant links: a random token of 128+ bits in the URL fragment, stored as a hash.

The token sits after '#' so it never reaches server logs or Referer headers; the page
posts it once to open an HttpOnly session for that participant. Every reminder carries a
fresh link; revoking ends all of a participant's links.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import Row, Select, bindparam, insert, select, update
from sqlalchemy.orm import joinedload, load_only

from pro_server.audit.services import record
from pro_server.context import ServiceContext
from pro_server.db import rows_changed
from pro_server.participants.models import Participant, ParticipantLink
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


# Built once (every tap on a link runs it); the token's hash is bound per call. The link
# and its participant, with the participant's study and site for the contact line; only
# the columns opening a session reads are loaded (each loaded column costs its conversion
# and its setting on the object; one read later would be loaded then). Contact data is
# decrypted when read: opening a session does not read it, so it stays unread. A caller
# may add columns (and joins) after the link and participant (`live_link_row`).
LINK_BY_TOKEN = (
    select(ParticipantLink, Participant)
    .join(Participant, Participant.id == ParticipantLink.participant_id)
    .options(load_only(ParticipantLink.id, ParticipantLink.revoked_at,
                       ParticipantLink.expires_at),
             load_only(Participant.id, Participant.study_id, Participant.site_id,
                       Participant.subject_key, Participant.status, Participant.language,
                       Participant.timezone),
             joinedload(Participant.study).load_only(Study.program_name),
             joinedload(Participant.site).load_only(Site.name, Site.contact_phone))
    .where(ParticipantLink.token_hash == bindparam("token_hash")))


def live_link_row(ctx: ServiceContext, statement: Select[Any], token: str) -> Row[Any] | None:
    """`statement`'s row (`LINK_BY_TOKEN`, perhaps with more columns) for a token whose
    link is live (not expired, not revoked), else None: the link, its participant, then
    the columns added, in one statement."""
    row = ctx.session.execute(statement, {"token_hash": token_hash(token)}).first()
    if row is None:
        return None
    link = row[0]
    if link.revoked_at is not None or link.expires_at <= ctx.now():
        return None
    return row
