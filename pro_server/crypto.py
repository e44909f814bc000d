"""Encryption at rest for personal contact data, and a keyed lookup hash for phone numbers.

Keys come from the settings, held per app (never module-global): PRO_DATA_KEYS
(comma-separated Fernet keys, newest first, so keys can be rotated with MultiFernet) and
PHONE_LOOKUP_KEY, the key of the lookup hash that lets an inbound SMS find its participant
without storing the number in clear. The lookup key is its own secret so that adding or
reordering data keys never changes a lookup (`pro rekey` rebuilds them when it changes).

`EncryptedText` columns find their keyring through the engine they are read or written
with (`bind`), so two apps with two engines in one process never share keys.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from weakref import WeakKeyDictionary

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Engine, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

MIN_LOOKUP_KEY_LENGTH = 32


class Keyring:
    """The data keys (newest first) and the lookup key of one configuration."""

    def __init__(self, data_keys: tuple[str, ...], lookup_key: str) -> None:
        if not data_keys:
            raise ValueError("at least one data key is needed")
        if len(lookup_key) < MIN_LOOKUP_KEY_LENGTH:
            raise ValueError(f"the phone lookup key needs at least {MIN_LOOKUP_KEY_LENGTH} "
                             "characters")
        self._newest = Fernet(data_keys[0].encode())
        self._fernet = MultiFernet([Fernet(k.encode()) for k in data_keys])
        self._lookup_key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"pro-server phone lookup"
        ).derive(lookup_key.encode())

    def encrypt(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode()

    def decrypt(self, token: str) -> str:
        return self._fernet.decrypt(token.encode()).decode()

    def is_current(self, token: str) -> bool:
        """Whether the token is encrypted with the newest key already."""
        try:
            self._newest.decrypt(token.encode())
        except InvalidToken:
            return False
        return True

    def rotate(self, token: str) -> str:
        """The same value encrypted with the newest key (any configured key may read it)."""
        return self._fernet.rotate(token.encode()).decode()

    def lookup_hash(self, value: str) -> str:
        """A keyed, deterministic hash (HMAC-SHA256) of a normalised value."""
        return hmac.new(self._lookup_key, value.encode(), hashlib.sha256).hexdigest()


_BOUND: WeakKeyDictionary[Dialect, Keyring] = WeakKeyDictionary()


def bind(engine: Engine, keyring: Keyring) -> None:
    """Encrypted columns read and written through this engine use this keyring."""
    _BOUND[engine.dialect] = keyring


def keyring_of(dialect: Dialect) -> Keyring:
    try:
        return _BOUND[dialect]
    except KeyError:
        raise RuntimeError("no keys are bound to this database engine; create_app binds "
                           "them (crypto.bind(engine, settings.keyring))") from None


class EncryptedText(TypeDecorator[str]):
    """A text column stored as a Fernet token; the clear value exists only in memory."""

    impl = Text()
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else keyring_of(dialect).encrypt(value)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else keyring_of(dialect).decrypt(value)
