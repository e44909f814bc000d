"""The optional second factor of a participant's link: birth year or a PIN set at enrolment.

A study chooses whether its participants need one (StudyWebSettings). The value is kept as
Argon2 of an HMAC keyed with the service's secret, so the table alone does not give the
(small) answer space away. Wrong answers count on the participant, not only per address:
after MAX_FAILURES the factor is locked for LOCK_DURATION, whoever guesses.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import timedelta
from typing import Any, Literal, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Select, Table, bindparam, select

from pro_server.audit.services import record
from pro_server.context import ServiceContext
from pro_server.errors import InvalidInput
from pro_server.participant_web.models import (
    ParticipantSecret,
    SecondFactorKind,
    StudySecondFactor,
    StudyWebSettings,
)
from pro_server.participants.links import LinkHolder
from pro_server.participants.models import Participant

Kind = Literal["birth_year", "pin"]
KINDS: tuple[str, ...] = tuple(k.value for k in SecondFactorKind)
STUDY_CHOICES: tuple[str, ...] = tuple(c.value for c in StudySecondFactor)
MAX_FAILURES = 5
LOCK_DURATION = timedelta(minutes=15)
_PIN = re.compile(r"^\d{4,8}$")
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def normalise(kind: str, value: str, *, this_year: int) -> str:
    """The canonical form of an answer, or InvalidInput saying what is expected."""
    cleaned = re.sub(r"\s+", "", value or "")
    if kind == "birth_year":
        if not (cleaned.isdigit() and len(cleaned) == 4 and 1900 <= int(cleaned) <= this_year):
            raise InvalidInput.field("value", "A birth year has four digits, e.g. 1961")
        return cleaned
    if not _PIN.match(cleaned):
        raise InvalidInput.field("value", "A PIN has 4 to 8 digits")
    return cleaned


def _keyed(ctx: ServiceContext, participant_id: int, value: str) -> str:
    message = f"{participant_id}:{value}".encode()
    return hmac.new(ctx.settings.secret_key.encode(), message, hashlib.sha256).hexdigest()


# Built once (every session opened from a link asks it); the study is bound per call. The
# one column, not the row: nothing is loaded into the session.
_STUDY_SETTING = select(StudyWebSettings.second_factor).where(
    StudyWebSettings.study_id == bindparam("study_id"))


def study_setting(ctx: ServiceContext, study_id: int) -> str:
    return setting(ctx.session.scalar(_STUDY_SETTING, {"study_id": study_id}))


def setting(found: str | None) -> str:
    """The second factor a study asks for, from its settings' column (None: no settings)."""
    return found if found is not None else "none"


_SETTINGS = cast(Table, StudyWebSettings.__table__)


def with_study_setting(statement: Select[Any]) -> Select[Any]:
    """`statement`, which reads the participant table, with their study's setting as one
    more column (`setting` reads it): the same answer as `study_setting`, in the same round
    trip."""
    return statement.add_columns(_SETTINGS.c.second_factor).outerjoin(
        _SETTINGS, _SETTINGS.c.study_id == cast(Table, Participant.__table__).c.study_id)


def set_study_setting(ctx: ServiceContext, study_id: int, second_factor: str) -> str:
    if second_factor not in STUDY_CHOICES:
        raise InvalidInput.field("second_factor", f"One of {', '.join(STUDY_CHOICES)}")
    row = ctx.session.scalar(select(StudyWebSettings).where(StudyWebSettings.study_id == study_id))
    before = row.second_factor if row else "none"
    if row is None:
        row = StudyWebSettings(study_id=study_id)
        ctx.session.add(row)
    row.second_factor = StudySecondFactor(second_factor)
    ctx.session.flush()
    record(ctx, "study.participant_web_settings", "study", study_id,
           before={"second_factor": before}, after={"second_factor": second_factor},
           study_id=study_id)
    return second_factor


def secret_of(ctx: ServiceContext, participant: Participant | LinkHolder
              ) -> ParticipantSecret | None:
    return ctx.session.scalar(
        select(ParticipantSecret).where(ParticipantSecret.participant_id == participant.id))


def set_secret(ctx: ServiceContext, participant: Participant, kind: str, value: str) -> None:
    """Set or replace the participant's second factor (audited without the value)."""
    if kind not in KINDS:
        raise InvalidInput.field("kind", f"One of {', '.join(KINDS)}")
    canonical = normalise(kind, value, this_year=ctx.now().year)
    row = secret_of(ctx, participant)
    replaced = row is not None
    if row is None:
        row = ParticipantSecret(participant_id=participant.id)
        ctx.session.add(row)
    row.kind = SecondFactorKind(kind)
    row.secret_hash = _hasher.hash(_keyed(ctx, participant.id, canonical))
    row.failed_attempts = 0
    row.locked_until = None
    ctx.session.flush()
    record(ctx, "participant.second_factor_set", "participant", participant.id,
           after={"kind": kind, "replaced": replaced},
           study_id=participant.study_id, site_id=participant.site_id)


def remove_secret(ctx: ServiceContext, participant: Participant, reason: str) -> bool:
    row = secret_of(ctx, participant)
    if row is None:
        return False
    ctx.session.delete(row)
    record(ctx, "participant.second_factor_remove", "participant", participant.id,
           before={"kind": row.kind}, reason=reason,
           study_id=participant.study_id, site_id=participant.site_id)
    return True


CheckResult = Literal["ok", "wrong", "locked"]


def check(ctx: ServiceContext, participant: Participant | LinkHolder,
          row: ParticipantSecret, answer: str) -> CheckResult:
    """Compare an answer; counts and audits failures, locks after MAX_FAILURES."""
    now = ctx.now()
    if row.locked_until is not None:
        if row.locked_until > now:
            return "locked"
        row.locked_until = None
        row.failed_attempts = 0
    try:
        canonical = normalise(row.kind, answer, this_year=now.year)
        ok: bool = _hasher.verify(row.secret_hash, _keyed(ctx, participant.id, canonical))
    except (InvalidInput, VerificationError, InvalidHashError):
        ok = False
    if ok:
        row.failed_attempts = 0
        return "ok"
    row.failed_attempts += 1
    locked = row.failed_attempts >= MAX_FAILURES
    if locked:
        row.locked_until = now + LOCK_DURATION
    record(ctx, "participant.second_factor_fail", "participant", participant.id,
           after={"failed_attempts": row.failed_attempts, "locked": locked},
           study_id=participant.study_id, site_id=participant.site_id)
    return "locked" if locked else "wrong"
