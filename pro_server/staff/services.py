"""Staff accounts: creation, sign-in checks, and changes by admins (audited)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from pro_server.audit.services import changes, record
from pro_server.context import ServiceContext
from pro_server.errors import Conflict, InvalidInput
from pro_server.staff.models import Role, StaffUser
from pro_server.staff.passwords import hash_password, password_problems, verify_password
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
    ctx: ServiceContext, *, email: str, name: str, password: str, role: Role, sites: list[Site],
    must_change_password: bool = False,
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
        created_at=ctx.now(), sites=list(sites), must_change_password=must_change_password,
    )
    ctx.session.add(user)
    ctx.session.flush()
    record(ctx, "staff.create", "staff_user", user.id,
           after={"email": user.email, "role": role.value, "sites": [s.code for s in sites],
                  **({"must_change_password": True} if must_change_password else {})})
    return user


def check_new_password(email: str, name: str, password: str, field: str = "new_password") -> None:
    """The password policy (length, zxcvbn), as a 422 naming the field."""
    problems = password_problems(password, user_inputs=[email, name])
    if problems:
        raise InvalidInput.field(field, f"Password {problems[0]}", *problems[1:])


def create_admin(ctx: ServiceContext, *, email: str, name: str, password: str) -> StaffUser:
    """An admin account from the command line (the first one, or another): the password
    meets the policy and must be changed at first sign-in (it was typed at a terminal)."""
    check_new_password(email, name, password, field="password")
    return create_staff_user(ctx, email=email, name=name, password=password, role=Role.admin,
                             sites=[], must_change_password=True)


def logout_everywhere(ctx: ServiceContext, user: StaffUser) -> None:
    user.session_version += 1
    record(ctx, "staff.logout", "staff_user", user.id)


def _user_view(user: StaffUser) -> dict[str, Any]:
    return {"name": user.name, "role": user.role.value, "active": user.active,
            "sites": [s.code for s in user.sites]}


def update_staff_user(ctx: ServiceContext, admin: StaffUser, user: StaffUser,
                      data: dict[str, Any]) -> StaffUser:
    """Change name, role, sites or active; an admin cannot demote or deactivate themselves."""
    if user.id == admin.id and (data.get("active") is False or
                                data.get("role", Role.admin) is not Role.admin):
        raise Conflict("You cannot deactivate or demote your own account; ask another admin")
    before = _user_view(user)
    for name in ("name", "role", "sites"):
        if name in data:
            setattr(user, name, data[name])
    if user.role in (Role.coordinator, Role.investigator) and not user.sites:
        raise InvalidInput.field("sites", f"A {user.role.value} needs at least one site")
    if "active" in data and data["active"] != user.active:
        user.active = data["active"]
        user.session_version += 1  # a deactivated user's open sessions end now
    old, new = changes(before, _user_view(user))
    if new:
        record(ctx, "staff.update", "staff_user", user.id, before=old, after=new,
               reason=data.get("reason"))
    return user
