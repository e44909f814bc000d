"""The audit trail viewer's API (read-only): monitors, investigators and admins, each within
the sight pro_server.access.policy.audit_sight gives them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from flask import current_app
from flask.views import MethodView
from sqlalchemy import String, cast, distinct, func, select

from pro_server.access import policy
from pro_server.access.policy import AuditSight
from pro_server.api_blueprint import STAFF, ApiBlueprint
from pro_server.audit.sealing import seal_pending, tail
from pro_server.audit.verify import verify_stored_chain
from pro_server.dashboard import audit_trail as trail
from pro_server.dashboard.audit_schemas import (
    AuditEventViewSchema,
    ChainStatusSchema,
    TrailArgsSchema,
    TrailFiltersSchema,
)
from pro_server.dashboard.schemas import StudyArgsSchema
from pro_server.errors import InvalidInput, NotFound
from pro_server.spreadsheet_csv import csv_chunks
from pro_server.staff.models import StaffUser
from pro_server.staff.signed_in import current_staff
from pro_server.studies.models import Site, Study
from pro_server.studies.services import get_study
from pro_server.web import clock, db_session, streamed_response

blp = ApiBlueprint("audit", __name__, url_prefix="/api/v1/audit",
                   description="The audit trail, read-only: who did what, when and why",
                   access=STAFF)

CSV_HEADER = ["occurred_at_local", "occurred_at_utc", "seq", "who", "user_id", "action",
              "entity_type", "entity_id", "participant", "site", "reason", "signed_by",
              "signature_meaning", "signed_at", "changes"]


@dataclass(frozen=True)
class Read:
    sight: AuditSight
    study: Study
    site_choices: list[Site]
    timezone: str
    timezone_of: str
    filter: trail.TrailFilter


def _bad(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"Invalid value for {field}", {"query": {field: [message]}})


def _read(args: dict[str, Any]) -> Read:
    """The caller's sight, the study and site asked for (404 outside it), the time zone
    days are read in, and the filters with names resolved (422 naming the field)."""
    sight = policy.audit_sight(current_staff())
    session = db_session()
    study = get_study(session, args.get("study"))
    choices = [s for s in study.sites if s.id in sight.participant_sites]
    if sight.studies is not None and study.id not in sight.studies and not choices:
        raise NotFound("Study not found")
    site = None
    if "site" in args:
        site = next((s for s in choices if s.code == args["site"]), None)
        if site is None:
            raise NotFound("Site not found")
    one_site = site or (choices[0] if len(choices) == 1 else None)
    tz, tz_of = (one_site.timezone, "site") if one_site else (study.default_timezone, "study")
    participant_id = None
    if "participant" in args:
        participant_id = trail.find_participant(
            session, study.id, [s.id for s in ([site] if site else choices)],
            args["participant"])
        if participant_id is None:
            raise _bad("participant", f"No participant {args['participant']} at the sites "
                                      "you may read")
    if "user" in args and session.get(StaffUser, args["user"]) is None:
        raise _bad("user", f"No staff user with id {args['user']}")
    since, until = trail.day_range(args.get("from_day"), args.get("to_day"), tz)
    return Read(sight, study, choices, tz, tz_of, trail.TrailFilter(
        study_id=study.id, site_id=site.id if site else None, participant_id=participant_id,
        user_id=args.get("user"), action=args.get("action"), since=since, until=until))


@blp.route("/chain")
class Chain(MethodView):
    @blp.response(200, ChainStatusSchema)
    def get(self):
        """Whether the hash chain is intact: the result of `pro audit verify`, as it says it,
        with the events not sealed into the chain yet (the sealer runs every few seconds)."""
        policy.audit_sight(current_staff())
        # As `pro audit verify` does: seal what is committed first (the scheduler does it every
        # few seconds; a monitor should not read "0 events checked" between two runs).
        pro = current_app.extensions["pro"]
        seal_pending(pro["session_factory"], pro["events"])
        db_session().rollback()  # end this request's read snapshot (SQLite): see the seal
        report = verify_stored_chain(db_session())
        unsealed = tail(db_session()).describe(clock().now())
        return {"intact": report.intact, "summary": f"{report.describe()}; {unsealed}",
                "details": json.loads(json.dumps(asdict(report), default=str))}


@blp.route("/filters")
class Filters(MethodView):
    @blp.arguments(StudyArgsSchema, location="query")
    @blp.response(200, TrailFiltersSchema)
    def get(self, args):
        """The choices for the viewer's filters: sites, the staff and the actions that
        appear in the trail the caller may read, and the time zone days are read in."""
        read = _read(args)
        session = db_session()
        scoped = trail.trail_query(read.sight, read.filter).subquery()
        actions = session.scalars(select(distinct(scoped.c.action)).order_by(scoped.c.action))
        staff_ids = select(scoped.c.actor_id).where(scoped.c.actor_type == "staff").distinct()
        users = session.scalars(select(StaffUser).where(
            cast(StaffUser.id, String).in_(staff_ids))
            .order_by(StaffUser.name))
        return {"study": read.study, "timezone": read.timezone, "timezone_of": read.timezone_of,
                "site_choices": read.site_choices,
                "users": [{"id": u.id, "name": u.name, "role": u.role.value} for u in users],
                "actions": list(actions)}


@blp.route("/events")
class Events(MethodView):
    @blp.arguments(TrailArgsSchema, location="query")
    @blp.response(200, AuditEventViewSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """The audit trail, newest event first, with each change field by field, its reason
        and e-signature (filters: study, site, participant, user, action, from, to)."""
        read = _read(args)
        session = db_session()
        query = trail.trail_query(read.sight, read.filter)
        pagination_parameters.item_count = session.scalar(
            select(func.count()).select_from(query.subquery()))
        events = list(session.scalars(query.order_by(*trail.NEWEST_FIRST)
                                      .offset(pagination_parameters.first_item)
                                      .limit(pagination_parameters.page_size)))
        return trail.describe_all(session, events, read.timezone)


def _value(value: Any) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, default=str)


def _csv_row(row: dict[str, Any]) -> list[Any]:
    signature = row["signature"] or {}
    changes = "; ".join(f"{c['field']}: {_value(c['before'])} -> {_value(c['after'])}"
                        for c in row["changes"])
    return [row["occurred_at_local"], row["occurred_at"].isoformat(), row["seq"], row["who"],
            row["user_id"], row["action"], row["entity_type"], row["entity_id"],
            row["participant"], row["site"], row["reason"], signature.get("name"),
            signature.get("meaning"), signature.get("signed_at"), changes]


@blp.route("/events.csv")
class EventsCsv(MethodView):
    @blp.arguments(TrailArgsSchema, location="query")
    @blp.response(200, content_type="text/csv")
    def get(self, args):
        """The same events with the same filters as CSV, streamed (times in the zone named
        by /audit/filters, and in UTC; changes as `field: before -> after`)."""
        read = _read(args)
        session = db_session()
        query = trail.trail_query(read.sight, read.filter)

        def rows() -> Iterator[list[Any]]:
            for events in trail.in_batches(session, query):
                yield from (_csv_row(r) for r in trail.describe_all(session, events,
                                                                    read.timezone))

        return streamed_response(csv_chunks(CSV_HEADER, rows()), "text/csv", "audit-trail.csv",
                                 {"Cache-Control": "no-store"})
