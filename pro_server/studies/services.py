"""Looking up studies and sites."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pro_server.audit.services import changes, record
from pro_server.context import ServiceContext
from pro_server.errors import Conflict, InvalidInput, NotFound
from pro_server.protocol.definitions import UnknownProtocolError
from pro_server.protocol.definitions import default_registry as protocols
from pro_server.studies.models import Site, Study
from pro_server.validation import is_timezone

# The program name is in every SMS and on the participant's page: short, plain, and never a
# clinical detail (condition, product, arm) that could unblind or disclose.
PROGRAM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 .,'-]{2,29}")
CLINICAL_WORDS = re.compile(
    r"ulsc|placebo|stem|cell|myopath|dermato|polymyo|inflammat|infusion|steroid|prednison",
    re.IGNORECASE)


def check_program_name(name: str) -> str:
    if not PROGRAM_NAME.fullmatch(name):
        raise InvalidInput.field("program_name", "3 to 30 letters, digits, spaces or .,'-")
    if CLINICAL_WORDS.search(name):
        raise InvalidInput.field("program_name", "Must not name the condition, product or arm")
    return name


def get_study(session: Session, code: str | None = None) -> Study:
    """The study with this code; without a code, the only study (or the first by code)."""
    query = select(Study).order_by(Study.code)
    if code:
        query = query.where(Study.code == code)
    study = session.scalars(query.limit(1)).first()
    if study is None:
        raise NotFound(f"Study {code} not found" if code else "No study is set up yet")
    return study


def site_by_code(session: Session, study: Study, code: str, *, field: str = "site_code") -> Site:
    site = session.scalar(select(Site).where(Site.study_id == study.id, Site.code == code))
    if site is None:
        raise InvalidInput.field(field, f"Unknown site {code!r} in {study.code}")
    return site


def create_study(
    ctx: ServiceContext, *, code: str, name: str, registry_id: str | None, default_timezone: str,
    program_name: str, protocol_code: str | None = None, protocol_version: str | None = None,
) -> Study:
    """A study following a protocol family shipped as data (default: the one named like it)."""
    if not is_timezone(default_timezone):
        raise InvalidInput.field("default_timezone", f"{default_timezone!r} is not an IANA zone")
    check_program_name(program_name)
    protocol_code = protocol_code or code
    try:
        protocol = (protocols().get(protocol_code, int(protocol_version)) if protocol_version
                    else protocols().current(protocol_code))
    except (UnknownProtocolError, ValueError) as exc:
        raise InvalidInput.field("protocol_code", f"No protocol files for {protocol_code} "
                                 f"{protocol_version or ''}".strip()) from exc
    study = Study(
        code=code, name=name, registry_id=registry_id, default_timezone=default_timezone,
        program_name=program_name, protocol_code=protocol_code,
        protocol_version=str(protocol.version), created_at=ctx.now(),
    )
    ctx.session.add(study)
    ctx.session.flush()
    record(ctx, "study.create", "study", study.id, after={
        "code": code, "name": name, "registry_id": registry_id, "timezone": default_timezone,
        "protocol_code": protocol_code, "protocol_version": study.protocol_version},
        study_id=study.id)
    return study


def create_site(
    ctx: ServiceContext, study: Study, *, code: str, name: str, timezone: str,
    contact_phone: str | None = None,
) -> Site:
    if not is_timezone(timezone):
        raise InvalidInput.field("timezone", f"{timezone!r} is not an IANA zone")
    site = Site(study=study, code=code, name=name, timezone=timezone, contact_phone=contact_phone,
                created_at=ctx.now())
    ctx.session.add(site)
    ctx.session.flush()
    record(ctx, "site.create", "site", site.id, after={
        "code": code, "name": name, "timezone": timezone, "contact_phone": contact_phone},
        study_id=study.id, site_id=site.id)
    return site


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
