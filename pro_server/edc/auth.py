"""Bearer tokens of EDC clients: `pro_edc_<key_id>.<secret>` (no Flask here)."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from pro_server.edc.models import EdcClient
from pro_server.errors import Unauthorized

PREFIX = "pro_edc_"
_TOKEN = re.compile(r"^pro_edc_([0-9a-f]{16})\.([A-Za-z0-9_-]{43})$")


def new_credentials() -> tuple[str, str, str]:
    """(key_id, secret, token): a public 64-bit prefix and a 256-bit secret."""
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return key_id, secret, f"{PREFIX}{key_id}.{secret}"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_bearer(header: str | None) -> tuple[str, str]:
    """(key_id, secret) from an Authorization header, or 401."""
    scheme, _, token = (header or "").partition(" ")
    match = _TOKEN.match(token.strip()) if scheme.lower() == "bearer" else None
    if match is None:
        raise Unauthorized("Send an EDC client token as 'Authorization: Bearer pro_edc_...'")
    return match.group(1), match.group(2)


def authenticate(session: Session, header: str | None) -> EdcClient:
    """The active client the header's token belongs to; 401 for anything else."""
    key_id, secret = parse_bearer(header)
    client = session.scalar(select(EdcClient).where(EdcClient.key_id == key_id))
    expected = client.secret_hash if client else hash_secret("no such client")
    if not hmac.compare_digest(expected, hash_secret(secret)) or client is None:
        raise Unauthorized("Unknown or wrong EDC client token")
    if client.revoked_at is not None:
        raise Unauthorized("This EDC client has been revoked")
    return client
