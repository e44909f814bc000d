"""Staff accounts: creation and sign-in checks."""

from __future__ import annotations

from sqlalchemy import func, select

from pro_server.audit.services import record
from pro_server.context import ServiceContext
from pro_server.errors import Conflict, InvalidInput
from pro_server.staff.models import Role, StaffUser
from pro_server.staff.passwords import hash_password, verify_password
from pro_server.studies.models import Site


def find_by_email(ctx: ServiceContext, email: str) -> StaffUser | None:
    return ctx.session.scalar(select(StaffUser).where(func.lower(StaffUser.email) == email.lower()))


def authenticate(ctx: ServiceContext, email: str, password: str) -> StaffUser | None:
    user = find_by_email(ctx, email)
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        record(ctx, "staff.login_failed", "staff_user", user.id if user else None,
               after={"email_known": user is not None})
        return None
    user.last_login_at = ctx.now()
    record(ctx, "staff.login", "staff_user", user.id)
    return user


def create_staff_user(
    ctx: ServiceContext, *, email: str, name: str, password: str, role: Role, sites: list[Site]
) -> StaffUser:
    if find_by_email(ctx, email):
        raise Conflict(f"A staff user with email {email} exists")
    if role in (Role.coordinator, Role.investigator) and not sites:
        raise InvalidInput.field("sites", f"A {role.value} needs at least one site")
    try:
        password_hash = hash_password(password)
    except ValueError as exc:
        raise InvalidInput.field("password", str(exc)) from exc
    user = StaffUser(
        email=email.lower(), name=name, password_hash=password_hash, role=role,
        created_at=ctx.now(), sites=list(sites),
    )
    ctx.session.add(user)
    ctx.session.flush()
    record(ctx, "staff.create", "staff_user", user.id,
           after={"email": user.email, "role": role.value, "sites": [s.code for s in sites]})
    return user


def logout_everywhere(ctx: ServiceContext, user: StaffUser) -> None:
    user.session_version += 1
    record(ctx, "staff.logout", "staff_user", user.id)
