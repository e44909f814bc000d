"""Creating, rotating and revoking EDC clients, and auditing every pull."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from pro_server.audit.services import record
from pro_server.context import Actor, ServiceContext
from pro_server.edc.auth import hash_secret, new_credentials
from pro_server.edc.models import SCOPES, EdcClient
from pro_server.errors import Conflict, InvalidInput, NotFound
from pro_server.studies.models import Study
from pro_server.view_model import Read


@dataclass(frozen=True)
class IssuedClient(Read):
    """A client with the token just issued to it (in that one answer, never stored)."""

    model: EdcClient
    token: str


def edc_actor(client: EdcClient) -> Actor:
    return Actor(type="edc_client", id=str(client.id), label=f"edc:{client.name}")


def _check_scopes(scopes: Iterable[str]) -> list[str]:
    chosen = sorted(set(scopes))
    unknown = [s for s in chosen if s not in SCOPES]
    if unknown or not chosen:
        raise InvalidInput.field("scopes", f"Choose from {', '.join(SCOPES)}")
    return chosen


def create_client(ctx: ServiceContext, study: Study, name: str,
                  scopes: Iterable[str]) -> tuple[EdcClient, str]:
    """A new client and its token; the token is returned once and never stored."""
    if not name.strip():
        raise InvalidInput.field("name", "A name is required")
    key_id, secret, token = new_credentials()
    client = EdcClient(study_id=study.id, study=study, name=name.strip(), key_id=key_id,
                       secret_hash=hash_secret(secret), scopes=_check_scopes(scopes),
                       created_by=ctx.actor.label or ctx.actor.type)
    ctx.session.add(client)
    ctx.session.flush()
    record(ctx, "edc_client.create", "edc_client", client.id,
           after={"name": client.name, "key_id": key_id, "scopes": client.scopes},
           study_id=study.id)
    return client, token


def get_client(ctx: ServiceContext, client_id: int) -> EdcClient:
    client = ctx.session.get(EdcClient, client_id)
    if client is None:
        raise NotFound("EDC client not found")
    return client


def list_clients(ctx: ServiceContext) -> list[EdcClient]:
    return list(ctx.session.scalars(select(EdcClient).order_by(EdcClient.id)))


def rotate_client(ctx: ServiceContext, client: EdcClient) -> str:
    """A new token; the old one stops working at once."""
    if client.revoked_at is not None:
        raise Conflict("A revoked client cannot be rotated; create a new one")
    old_key = client.key_id
    key_id, secret, token = new_credentials()
    client.key_id, client.secret_hash, client.rotated_at = key_id, hash_secret(secret), ctx.now()
    record(ctx, "edc_client.rotate", "edc_client", client.id, before={"key_id": old_key},
           after={"key_id": key_id}, study_id=client.study_id)
    return token


def revoke_client(ctx: ServiceContext, client: EdcClient, reason: str) -> None:
    if not reason.strip():
        raise InvalidInput.field("reason", "A reason is required")
    if client.revoked_at is not None:
        return
    client.revoked_at = ctx.now()
    record(ctx, "edc_client.revoke", "edc_client", client.id, after={"key_id": client.key_id},
           reason=reason, study_id=client.study_id)


def audit_pull(ctx: ServiceContext, client: EdcClient, what: str, **scope: Any) -> None:
    """Every pull: which client, which export, which range."""
    record(ctx, "edc.pull", "edc_client", client.id, after={"export": what, **scope},
           study_id=client.study_id)
