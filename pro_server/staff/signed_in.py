"""The signed-in staff user of a request, from the session cookie.

The kernel's request glue (pro_server.web) knows only that some feature may say who is signed
in: this module is that feature's answer, set per app by staff's register()."""

from __future__ import annotations

from flask import g, session

from pro_server.context import Actor
from pro_server.errors import Unauthorized
from pro_server.staff.models import StaffUser
from pro_server.web import db_session


def current_staff(optional: bool = False) -> StaffUser | None:
    """The signed-in staff user, or 401 (a stale session after logout elsewhere counts as none)."""
    if "staff_user" in g and (g.staff_user is not None or optional):
        return g.staff_user
    data = session.get("staff")
    user = None
    if isinstance(data, dict):
        user = db_session().get(StaffUser, data.get("id"))
        if user is None or not user.active or user.session_version != data.get("v"):
            user = None
    if user is None and not optional:
        raise Unauthorized("Sign in as staff first")
    g.staff_user = user
    return user


def staff_actor(user: StaffUser) -> Actor:
    return Actor(type="staff", id=str(user.id), label=f"{user.email} ({user.role.value})")


def session_actor() -> Actor | None:
    """The signed-in staff user as an Actor, or None: web.session_actor's authenticator."""
    user = current_staff(optional=True)
    return staff_actor(user) if user is not None else None
