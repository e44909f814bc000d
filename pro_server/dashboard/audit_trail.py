"""The audit trail as monitors and investigators read it (read-only, no Flask).

Which events a caller sees is decided by pro_server.access.policy.audit_sight; this module
turns that sight and the viewer's filters into one query, newest event first, and describes
each event for people: who, what, about which participant, why, the e-signature, and the
change field by field. Contact data never leaves here in clear: the trail holds phones and
emails only as "set" and a keyed reference (participants.services.audit_view), and any
other email or phone value in an event (a staff account's email, a signer's email) is
shown as "[redacted]"; staff are named by name and role.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, cast, false, or_, select
from sqlalchemy.orm import Session

from pro_server.access.policy import AuditSight
from pro_server.audit.models import AuditEvent
from pro_server.changes.models import ChangeRequest
from pro_server.local_time import START_OF_DAY, local_day_instant, utc_to_local
from pro_server.messaging.models import InboundMessage, OutboxMessage
from pro_server.participants.models import Participant
from pro_server.responses.models import Response
from pro_server.schedule.models import Assessment, Infusion, Visit
from pro_server.staff.models import StaffUser, staff_site
from pro_server.studies.models import Site
from pro_server.validation import ID_MAX

# Entities of a participant: the audit event names the entity, this names its participant.
PARTICIPANT_ENTITIES: dict[str, Any] = {
    "assessment": Assessment,
    "response": Response,
    "visit": Visit,
    "infusion": Infusion,
    "outbox_message": OutboxMessage,
    "inbound_message": InboundMessage,
    "change_request": ChangeRequest,
}
ACTION_PATTERN = r"^[a-z][a-z_]*(\.[a-z][a-z_]*)?$"
REDACTED = "[redacted]"
BATCH = 500
_CONTACT = re.compile(r"(^|[._])(email|phone)$")
_LABEL_ROLE = re.compile(r"^(?P<who>.*) \((?P<role>[^()]+)\)$")


@dataclass(frozen=True)
class TrailFilter:
    """What the viewer asks for, already checked: ids resolved, days turned into instants."""

    study_id: int
    site_id: int | None = None
    participant_id: int | None = None
    user_id: int | None = None
    action: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


def day_range(first: date | None, last: date | None, tz: str
              ) -> tuple[datetime | None, datetime | None]:
    """Whole local days `first`..`last` (inclusive) in `tz` as [since, until) instants."""
    since = None if first is None else local_day_instant(first, START_OF_DAY, tz)
    until = None if last is None else local_day_instant(last + timedelta(days=1),
                                                        START_OF_DAY, tz)
    return since, until


def _staff_ids(site_ids: frozenset[int]) -> Select:
    return select(cast(staff_site.c.staff_user_id, String)).where(
        staff_site.c.site_id.in_(site_ids))


def visible(sight: AuditSight) -> ColumnElement[bool]:
    """The events the sight covers (see AuditSight)."""
    no_site = AuditEvent.site_id.is_(None)
    with_site = AuditEvent.site_id.in_(sight.participant_sites) if sight.participant_sites \
        else false()
    if sight.studies is None:
        study_level = and_(no_site, AuditEvent.study_id.is_not(None))
    elif sight.studies:
        study_level = and_(no_site, AuditEvent.study_id.in_(sight.studies))
    else:
        study_level = false()
    system = and_(no_site, AuditEvent.study_id.is_(None))
    if sight.staff_of_sites is None:
        staff = system
    elif sight.staff_of_sites:
        colleagues = _staff_ids(sight.staff_of_sites)
        staff = and_(system, or_(
            and_(AuditEvent.actor_type == "staff", AuditEvent.actor_id.in_(colleagues)),
            and_(AuditEvent.entity_type == "staff_user", AuditEvent.entity_id.in_(colleagues))))
    else:
        staff = false()
    return or_(with_site, study_level, staff)


def about_participant(participant_id: int) -> ColumnElement[bool]:
    """Events about one participant: the participant itself, anything of theirs, or done by
    them (their own survey page)."""
    key = str(participant_id)
    clauses = [
        and_(AuditEvent.entity_type == "participant", AuditEvent.entity_id == key),
        and_(AuditEvent.actor_type == "participant", AuditEvent.actor_id == key),
    ]
    for entity, model in PARTICIPANT_ENTITIES.items():
        clauses.append(and_(AuditEvent.entity_type == entity, AuditEvent.entity_id.in_(
            select(cast(model.id, String)).where(model.participant_id == participant_id))))
    return or_(*clauses)


def trail_query(sight: AuditSight, f: TrailFilter) -> Select[tuple[AuditEvent]]:
    """The events the sight covers that match the filter, in the chosen study (events of no
    study, such as sign-ins, belong to every study)."""
    query = select(AuditEvent).where(
        visible(sight), or_(AuditEvent.study_id == f.study_id, AuditEvent.study_id.is_(None)))
    if f.site_id is not None:
        query = query.where(AuditEvent.site_id == f.site_id)
    if f.participant_id is not None:
        query = query.where(about_participant(f.participant_id))
    if f.user_id is not None:
        query = query.where(AuditEvent.actor_type == "staff",
                            AuditEvent.actor_id == str(f.user_id))
    if f.action:
        query = query.where(AuditEvent.action == f.action if "." in f.action else
                            AuditEvent.action.startswith(f"{f.action}.", autoescape=True))
    if f.since is not None:
        query = query.where(AuditEvent.occurred_at >= f.since)
    if f.until is not None:
        query = query.where(AuditEvent.occurred_at < f.until)
    return query


NEWEST_FIRST = (AuditEvent.id.desc(),)


def in_batches(session: Session, query: Select[tuple[AuditEvent]], batch: int = BATCH
               ) -> Iterator[list[AuditEvent]]:
    """Every event of the query, newest first, a batch at a time (keyset on id, so no
    cursor stays open between batches)."""
    below: int | None = None
    while True:
        page = query if below is None else query.where(AuditEvent.id < below)
        events = list(session.scalars(page.order_by(*NEWEST_FIRST).limit(batch)))
        if not events:
            return
        yield events
        below = events[-1].id


def find_participant(session: Session, study_id: int, site_ids: Iterable[int],
                     subject_key: str) -> int | None:
    """The participant with this study label among the sites, else None."""
    return session.scalar(select(Participant.id).where(
        Participant.study_id == study_id, Participant.subject_key == subject_key,
        Participant.site_id.in_(list(site_ids))))


# -- describing events -------------------------------------------------------------------

def redact(key: str, value: Any) -> Any:
    """A contact value (email, phone) as "[redacted]"; "set" and empty values as they are."""
    if _CONTACT.search(key) and value not in (None, "", "set") and not isinstance(value, bool):
        return REDACTED
    return value


def _flatten(value: Mapping[str, Any] | None, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, item in (value or {}).items():
        path = f"{prefix}{key}"
        if isinstance(item, Mapping) and item:
            out.update(_flatten(item, f"{path}."))
        else:
            out[path] = item
    return out


def field_changes(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
                  ) -> list[dict[str, Any]]:
    """Field by field (nested fields as "a.b"), what changed: every field of a new record,
    only the differing fields of a change (compared before redaction, so a changed email
    shows as changed). The e-signature is described on its own."""
    old = _flatten({k: v for k, v in (before or {}).items() if k != "signature"})
    new = _flatten({k: v for k, v in (after or {}).items() if k != "signature"})
    fields = list(new) + [k for k in old if k not in new]
    return [{"field": k, "before": redact(k, old.get(k)), "after": redact(k, new.get(k))}
            for k in fields if k not in old or k not in new or old[k] != new[k]]


def signature_of(event: AuditEvent) -> dict[str, Any] | None:
    """The electronic signature the event was made under (21 CFR 11.50): who signed, what it
    meant and when; the signer's email is not repeated."""
    found = (event.after or {}).get("signature") if isinstance(event.after, dict) else None
    if not isinstance(found, dict):
        return None
    return {k: found.get(k) for k in ("name", "meaning", "signed_at", "method")}


def _staff_keys(events: list[AuditEvent]) -> Iterator[str]:
    """Staff ids an event names: who acted, or whose account signed in."""
    for e in events:
        if e.actor_type == "staff":
            yield e.actor_id or ""
        if e.entity_type == "staff_user" and e.actor_type == "anonymous":
            yield e.entity_id or ""


@dataclass(frozen=True)
class Lookups:
    """Names for a batch of events: staff, sites, and the participant each event is about."""

    staff: dict[str, StaffUser]
    sites: dict[int, str]
    subjects: dict[tuple[str, str], str]  # (entity_type, entity_id) -> subject key


def lookups(session: Session, events: list[AuditEvent]) -> Lookups:
    staff_ids = {int(k) for k in _staff_keys(events) if k.isdigit() and int(k) <= ID_MAX}
    staff = {str(u.id): u for u in session.scalars(
        select(StaffUser).where(StaffUser.id.in_(staff_ids)))} if staff_ids else {}
    site_ids = {e.site_id for e in events if e.site_id is not None}
    sites = dict(session.execute(select(Site.id, Site.code).where(Site.id.in_(site_ids))).all()
                 ) if site_ids else {}
    wanted: dict[str, set[int]] = {}
    for e in events:
        pairs = [(e.entity_type, e.entity_id)]
        if e.actor_type == "participant":
            pairs.append(("participant", e.actor_id))
        for entity, key in pairs:
            if (entity in PARTICIPANT_ENTITIES or entity == "participant") and key and \
                    key.isdigit() and int(key) <= ID_MAX:
                wanted.setdefault(entity, set()).add(int(key))
    subjects: dict[tuple[str, str], str] = {}
    for entity, ids in wanted.items():
        if entity == "participant":
            query = select(Participant.id, Participant.subject_key).where(
                Participant.id.in_(ids))
        else:
            model = PARTICIPANT_ENTITIES[entity]
            query = select(model.id, Participant.subject_key).join(
                Participant, Participant.id == model.participant_id).where(model.id.in_(ids))
        subjects.update({(entity, str(i)): key for i, key in session.execute(query).all()})
    return Lookups(staff, sites, subjects)


def who(event: AuditEvent, names: Lookups) -> str:
    """The actor for people: staff by name and the role they acted in, never by email."""
    label = event.actor_label or ""
    if event.actor_type == "staff":
        user = names.staff.get(event.actor_id or "")
        match = _LABEL_ROLE.match(label)
        role = match["role"] if match else (user.role.value if user else "")
        if user is not None:
            return f"{user.name} ({role})"
        return label if "@" not in label else f"staff ({role})"
    if event.actor_type == "participant":
        subject = names.subjects.get(("participant", event.actor_id or ""))
        return f"participant {subject}" if subject else "participant"
    if event.actor_type == "anonymous":  # signing in: the account, if the email was known
        user = names.staff.get(event.entity_id or "") if event.entity_type == "staff_user" \
            else None
        if user is not None:
            return f"sign-in as {user.name}"
        return "anonymous" if "@" in label or not label else f"anonymous ({label})"
    return f"{event.actor_type}: {label}" if label else event.actor_type


def describe(event: AuditEvent, names: Lookups, tz: str) -> dict[str, Any]:
    subject = names.subjects.get((event.entity_type, event.entity_id or "")) or (
        names.subjects.get(("participant", event.actor_id or ""))
        if event.actor_type == "participant" else None)
    return {
        "id": event.id,
        "seq": event.seq,
        "occurred_at": event.occurred_at,
        "occurred_at_local": utc_to_local(event.occurred_at, tz).isoformat(timespec="seconds"),
        "who": who(event, names),
        "actor_type": event.actor_type,
        "user_id": int(event.actor_id) if event.actor_type == "staff" and (
            event.actor_id or "").isdigit() else None,
        "action": event.action,
        "entity_type": event.entity_type,
        "entity_id": event.entity_id,
        "participant": subject,
        "site": names.sites.get(event.site_id) if event.site_id is not None else None,
        "reason": event.reason,
        "signature": signature_of(event),
        "changes": field_changes(event.before, event.after),
    }


def describe_all(session: Session, events: list[AuditEvent], tz: str) -> list[dict[str, Any]]:
    names = lookups(session, events)
    return [describe(e, names, tz) for e in events]
