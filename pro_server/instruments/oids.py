"""The ODM identifiers of an instrument's item groups, items and scores, and how a
multi-choice answer is written (Y/N per option): one derivation, used where a response
version's export texts are written (`responses.export_text`) and by every EDC format
(`edc.catalogue` re-exports them; docs/edc-mapping.md documents the scheme)."""

from __future__ import annotations

from functools import lru_cache

MULTI = "multi_choice"
CHECKED, NOT_CHECKED = "Y", "N"


def form_key(code: str) -> str:
    return code.upper()


@lru_cache(maxsize=8192)  # pure, and asked per value by every export
def item_group_oid(code: str, part: str | None = None) -> str:
    return f"IG.{form_key(code)}" + (f".{part}" if part else "")


@lru_cache(maxsize=8192)  # pure, and asked per value by every export
def item_oid(code: str, item_id: str, option: str | None = None) -> str:
    base = f"I.{form_key(code)}.{item_id.upper()}"
    return f"{base}.{str(option).upper()}" if option is not None else base


@lru_cache(maxsize=8192)  # pure, and asked per value by every export
def score_oid(code: str, key: str) -> str:
    return f"I.{form_key(code)}.SCORE.{key.upper()}"


@lru_cache(maxsize=8192)  # pure, and asked per value by every export
def admin_oid(code: str, name: str) -> str:
    return f"I.{form_key(code)}.ADMIN.{name}"
