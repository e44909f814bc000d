"""Staff account security: sign-in with per-account lockout, password change and admin
reset, the optional TOTP second factor, and electronic signatures (re-authentication with
the meaning shown; 21 CFR 11.50 / 11.200).

No Flask here. Functions that count a failure return an outcome instead of raising, so the
caller can commit the failure (counter and audit event) before answering with an error.
"""

from __future__ import annotations

import enum
import hmac
import io
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyotp
import segno
from sqlalchemy import select

from pro_server.audit.services import record
from pro_server.context import ServiceContext
from pro_server.errors import Conflict, InvalidInput
from pro_server.staff.models import Role, StaffUser
from pro_server.staff.passwords import hash_password, verify_password
from pro_server.staff.services import check_new_password, find_by_email
from pro_server.studies.models import Study

ISSUER = "ePRO platform"
TOTP_STEP_SECONDS = 30


class Meaning(enum.StrEnum):
    """What a signature means, shown to the signer and kept with the signature."""

    approve_change = "I approve this data change"
    reject_change = "I reject this data change"
    apply_amendment = "I approve applying this protocol amendment"


class Problem(enum.StrEnum):
    wrong = "wrong"  # unknown email, wrong password or wrong code (one answer for all)
    code_required = "code_required"
    locked = "locked"


@dataclass(frozen=True)
class Outcome:
    user: StaffUser | None
    problem: Problem | None = None


# -- lockout -------------------------------------------------------------------------------

def _failed(ctx: ServiceContext, user: StaffUser, action: str, detail: dict[str, Any]) -> None:
    user.failed_logins += 1
    record(ctx, action, "staff_user", user.id,
           after={**detail, "failures_in_a_row": user.failed_logins})
    if user.locked_at is None and user.failed_logins >= ctx.settings.login_lockout_failures:
        user.locked_at = ctx.now()
        record(ctx, "staff.lock", "staff_user", user.id,
               after={"failures_in_a_row": user.failed_logins},
               reason="too many failed sign-ins or signatures in a row")


def unlock(ctx: ServiceContext, user: StaffUser, reason: str) -> None:
    if user.locked_at is None:
        raise Conflict("This account is not locked")
    record(ctx, "staff.unlock", "staff_user", user.id,
           before={"locked_at": user.locked_at, "failures_in_a_row": user.failed_logins},
           after={"locked_at": None}, reason=reason)
    user.locked_at = None
    user.failed_logins = 0


# -- TOTP ----------------------------------------------------------------------------------

def _matching_step(user: StaffUser, code: str | None, now: datetime) -> int | None:
    """The time step the code belongs to (now, or one step either side), if it is right
    and newer than the last code used: a code is never accepted twice."""
    if not (user.totp_secret and code):
        return None
    code = code.strip().replace(" ", "")
    totp = pyotp.TOTP(user.totp_secret, interval=TOTP_STEP_SECONDS)
    current = totp.timecode(now)
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code) and step > (
                user.totp_last_step or -1):
            return step
    return None


def _use_code(ctx: ServiceContext, user: StaffUser, code: str | None) -> bool:
    step = _matching_step(user, code, ctx.now())
    if step is None:
        return False
    user.totp_last_step = step
    return True


def second_factor_required(ctx: ServiceContext, user: StaffUser) -> bool:
    """Admins, when any study asks for it; investigators, when one of their studies does."""
    if user.role is Role.admin:
        query = select(Study.id).where(Study.staff_second_factor_required.is_(True))
    elif user.role is Role.investigator:
        query = select(Study.id).where(Study.staff_second_factor_required.is_(True),
                                       Study.id.in_({s.study_id for s in user.sites}))
    else:
        return False
    return ctx.session.scalar(query.limit(1)) is not None


def start_totp(ctx: ServiceContext, user: StaffUser) -> dict[str, str]:
    """A new secret, waiting for a first code to confirm it; the QR code is drawn here."""
    if user.totp_enabled_at is not None:
        raise Conflict("A second factor is set up already; turn it off first to replace it")
    user.totp_secret = pyotp.random_base32()
    user.totp_last_step = None
    uri = pyotp.TOTP(user.totp_secret, interval=TOTP_STEP_SECONDS).provisioning_uri(
        name=user.email, issuer_name=ISSUER)
    qr = segno.make(uri, error="m")
    out = io.BytesIO()
    qr.save(out, kind="svg", scale=4, xmldecl=False, svgns=True,
            title="Scan with an authenticator app")
    record(ctx, "staff.totp_start", "staff_user", user.id)
    return {"secret": user.totp_secret, "otpauth_uri": uri, "qr_svg": out.getvalue().decode(),
            "qr_data_uri": qr.svg_data_uri(scale=4)}


def confirm_totp(ctx: ServiceContext, user: StaffUser, code: str) -> None:
    if user.totp_secret is None or user.totp_enabled_at is not None:
        raise Conflict("Start setting up the second factor first")
    if not _use_code(ctx, user, code):
        raise InvalidInput.field("code", "The code does not match; check the device's clock")
    user.totp_enabled_at = ctx.now()
    record(ctx, "staff.totp_enable", "staff_user", user.id)


def disable_totp(ctx: ServiceContext, user: StaffUser, reason: str) -> None:
    """Turn the second factor off (an admin for someone who lost the device, or oneself)."""
    if user.totp_secret is None:
        raise Conflict("No second factor is set up")
    if ctx.actor.id == str(user.id) and second_factor_required(ctx, user):
        raise Conflict("Your studies require a second factor; it cannot be turned off")
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    record(ctx, "staff.totp_disable", "staff_user", user.id, reason=reason)


# -- sign-in -------------------------------------------------------------------------------

def sign_in(ctx: ServiceContext, email: str, password: str, code: str | None) -> Outcome:
    """Password, then (when enrolled) the TOTP code. A locked account says so only to
    someone who knows its password; failures count towards the lock."""
    user = find_by_email(ctx, email)
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not user.active:
        record(ctx, "staff.login_failed", "staff_user", user.id if user else None,
               after={"email_known": user is not None, "address": ctx.client_address})
        return Outcome(None, Problem.wrong)
    if not ok:
        _failed(ctx, user, "staff.login_failed",
                {"email_known": True, "address": ctx.client_address})
        return Outcome(None, Problem.wrong)
    if user.locked_at is not None:
        record(ctx, "staff.login_refused", "staff_user", user.id,
               after={"locked": True, "address": ctx.client_address})
        return Outcome(None, Problem.locked)
    if user.totp_enabled_at is not None:
        if not code:
            return Outcome(None, Problem.code_required)
        if not _use_code(ctx, user, code):
            _failed(ctx, user, "staff.login_failed",
                    {"second_factor": "wrong code", "address": ctx.client_address})
            return Outcome(None, Problem.wrong)
    user.failed_logins = 0
    user.last_login_at = ctx.now()
    record(ctx, "staff.login", "staff_user", user.id,
           after={"address": ctx.client_address,
                  "second_factor": user.totp_enabled_at is not None})
    return Outcome(user)


def restriction(ctx: ServiceContext, user: StaffUser) -> str | None:
    """What a signed-in user must do before anything else, if anything."""
    if user.must_change_password:
        return "change_password"
    if user.totp_enabled_at is None and second_factor_required(ctx, user):
        return "set_up_second_factor"
    return None


# -- passwords -----------------------------------------------------------------------------

def _set_password(ctx: ServiceContext, user: StaffUser, password: str, field: str, *,
                  chosen: bool = True) -> None:
    """A password the user chose meets the policy (length, zxcvbn); a generated one
    (`chosen=False`, the admin's reset) is random and is changed at the next sign-in."""
    if chosen:
        check_new_password(user.email, user.name, password, field)
    try:
        user.password_hash = hash_password(password)
    except ValueError as exc:
        raise InvalidInput.field(field, str(exc)) from exc
    user.password_changed_at = ctx.now()


def change_password(ctx: ServiceContext, user: StaffUser, current: str, new: str) -> bool:
    """The user's own change; False (a counted failure) when `current` is wrong."""
    if not verify_password(user.password_hash, current):
        _failed(ctx, user, "staff.password_change_failed", {})
        return False
    if hmac.compare_digest(current, new):
        raise InvalidInput.field("new_password", "Choose a password different from the "
                                                 "current one")
    _set_password(ctx, user, new, "new_password")
    user.must_change_password = False
    user.failed_logins = 0
    user.session_version += 1  # other sessions end; the caller renews its own
    record(ctx, "staff.password_change", "staff_user", user.id)
    return True


def reset_password(ctx: ServiceContext, user: StaffUser, reason: str) -> str:
    """An admin's reset: a one-time password to hand over, changed at the next sign-in.
    Open sessions end and a lock is lifted."""
    temporary = secrets.token_urlsafe(12)
    _set_password(ctx, user, temporary, "password", chosen=False)
    user.must_change_password = True
    user.session_version += 1
    user.locked_at = None
    user.failed_logins = 0
    record(ctx, "staff.password_reset", "staff_user", user.id,
           after={"must_change_password": True}, reason=reason)
    return temporary


# -- electronic signatures -----------------------------------------------------------------

def reauthenticate(ctx: ServiceContext, user: StaffUser, password: str, code: str | None,
                   purpose: str) -> bool:
    """The signed-in user proves it is still them: the password, and the code when they
    have a second factor. A failure is counted and audited."""
    problem = None
    if user.locked_at is not None:
        problem = "account locked"
    elif not verify_password(user.password_hash, password):
        problem = "wrong password"
    elif user.totp_enabled_at is not None and not _use_code(ctx, user, code):
        problem = "wrong or missing code"
    if problem is None:
        user.failed_logins = 0
        return True
    if user.locked_at is None:
        _failed(ctx, user, "esignature.failed" if purpose in set(Meaning) else
                "staff.reauthentication_failed", {"meaning": purpose, "problem": problem})
    return False


def sign(ctx: ServiceContext, user: StaffUser, password: str, code: str | None,
         meaning: Meaning) -> dict[str, str] | None:
    """Re-authenticate for one signed act; the signature to keep with the record, or None
    (a counted, audited failure)."""
    if not reauthenticate(ctx, user, password, code, meaning.value):
        return None
    return {"name": user.name, "email": user.email, "signed_at": ctx.now().isoformat(),
            "meaning": meaning.value,
            "method": "password+totp" if user.totp_enabled_at else "password"}


def set_second_factor_rule(ctx: ServiceContext, study: Study, required: bool,
                           reason: str) -> None:
    before = study.staff_second_factor_required
    study.staff_second_factor_required = required
    record(ctx, "study.staff_second_factor", "study", study.id,
           before={"second_factor_required": before},
           after={"second_factor_required": required}, reason=reason, study_id=study.id)
