"""Administering staff accounts and sites (admins only; each change audited).

Creation uses the foundation's services (staff.services.create_staff_user,
studies.services.create_site); this module adds changing and deactivating.
"""

from __future__ import annotations

from typing import Any

from pro_server.audit.services import changes, record
from pro_server.context import ServiceContext
from pro_server.errors import Conflict, InvalidInput
from pro_server.staff.models import Role, StaffUser
from pro_server.studies.models import Site, Study
from pro_server.studies.services import create_site
from pro_server.validation import is_timezone


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


def add_site(ctx: ServiceContext, study: Study, data: dict[str, Any]) -> Site:
    if any(site.code == data["code"] for site in study.sites):
        raise Conflict(f"{study.code} already has a site {data['code']}")
    return create_site(ctx, study, **data)


def update_site(ctx: ServiceContext, site: Site, data: dict[str, Any]) -> Site:
    if "timezone" in data and not is_timezone(data["timezone"]):
        raise InvalidInput.field("timezone", f"{data['timezone']!r} is not an IANA zone")
    before = {"name": site.name, "timezone": site.timezone, "contact_phone": site.contact_phone}
    for name in before:
        if name in data:
            setattr(site, name, data[name])
    old, new = changes(before, {"name": site.name, "timezone": site.timezone,
                                "contact_phone": site.contact_phone})
    if new:
        record(ctx, "site.update", "site", site.id, before=old, after=new,
               reason=data.get("reason"), study_id=site.study_id, site_id=site.id)
    return site
