"""Encryption at rest for personal contact data, and a keyed lookup hash for phone numbers.

Keys come from PRO_DATA_KEYS (comma-separated Fernet keys, newest first, so keys can be
rotated with MultiFernet). The lookup hash lets an inbound SMS find its participant
without storing the number in clear.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator


class _Keys:
    fernet: MultiFernet | None = None
    lookup_key: bytes | None = None


def configure(data_keys: tuple[str, ...]) -> None:
    if not data_keys:
        raise ValueError("at least one data key is needed")
    _Keys.fernet = MultiFernet([Fernet(k.encode()) for k in data_keys])
    _Keys.lookup_key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"pro-server phone lookup"
    ).derive(data_keys[0].encode())


def _fernet() -> MultiFernet:
    if _Keys.fernet is None:
        raise RuntimeError("crypto.configure() was not called (create_app does it)")
    return _Keys.fernet


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()


def lookup_hash(value: str) -> str:
    """A keyed, deterministic hash (HMAC-SHA256) of a normalised value."""
    if _Keys.lookup_key is None:
        raise RuntimeError("crypto.configure() was not called (create_app does it)")
    return hmac.new(_Keys.lookup_key, value.encode(), hashlib.sha256).hexdigest()


class EncryptedText(TypeDecorator[str]):
    """A text column stored as a Fernet token; the clear value exists only in memory."""

    impl = Text()
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else encrypt(value)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else decrypt(value)
