"""The coordinator's dashboard over the study: overview, grid, attention list, downloads.

Every read is limited to the sites the caller may read (pro_server.access.policy); a site
outside them is answered like an unknown one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import jsonify
from flask.views import MethodView

from pro_server.access import policy
from pro_server.api_blueprint import STAFF, ApiBlueprint
from pro_server.context import ServiceContext
from pro_server.dashboard import downloads
from pro_server.dashboard.attention import KINDS, Item, attention_items
from pro_server.dashboard.grid import Row, Scope, columns, load_rows
from pro_server.dashboard.overview import summarise
from pro_server.dashboard.schemas import (
    AttentionSchema,
    GridArgsSchema,
    GridSchema,
    OverviewSchema,
    StudyArgsSchema,
)
from pro_server.errors import NotFound
from pro_server.schedule.assessments import grace
from pro_server.schedule.missed import REASONS
from pro_server.spreadsheet_csv import csv_response
from pro_server.staff.schemas import SiteRefSchema
from pro_server.studies.models import Site
from pro_server.studies.services import get_study
from pro_server.web import context, current_staff, db_session, staff_actor

blp = ApiBlueprint("dashboard", __name__, url_prefix="/api/v1/dashboard",
                   description="Coordinator dashboard: completion, grid, attention list, CSV",
                   access=STAFF)


@dataclass(frozen=True)
class Read:
    """A dashboard read: the caller's context, what it covers, and what it could cover."""

    ctx: ServiceContext
    scope: Scope
    sites: list[Site]
    site_choices: list[Site]


def read_scope(args: dict) -> Read:
    """The study and sites asked for, among those the caller may read (else 404)."""
    user = current_staff()
    readable = policy.readable_site_ids(user)
    study = get_study(db_session(), args.get("study"))
    choices = [s for s in study.sites if s.id in readable]
    sites = [s for s in choices if s.code == args["site"]] if "site" in args else choices
    if not sites:
        raise NotFound("Site not found")
    statuses = (args["status"],) if args.get("status") else ()
    scope = Scope(study, frozenset(s.id for s in sites), statuses)
    return Read(context(staff_actor(user)), scope, sites, choices)


def _grid(args: dict) -> tuple[Read, list[Row], list[str]]:
    read = read_scope(args)
    rows = load_rows(read.ctx.session, read.scope, read.ctx.now(), grace(read.ctx))
    return read, rows, columns(read.scope.study, rows)


@blp.route("/overview")
class Overview(MethodView):
    @blp.arguments(StudyArgsSchema, location="query")
    @blp.response(200, OverviewSchema)
    def get(self, args):
        """Completion per assessment and per site: on time, late, missed, open, upcoming."""
        read, rows, codes = _grid(args)
        return {"study": read.scope.study, "as_of": read.ctx.now(),
                "site_choices": read.site_choices, **summarise(rows, codes, read.sites)}


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _row(row: Row) -> dict:
    return {"participant_id": row.participant_id, "subject_key": row.subject_key,
            "site_code": row.site_code, "status": row.status.value, "timezone": row.timezone,
            "cells": {code: {"status": c.status, "projected": c.projected,
                             "first_day": _iso(c.first_day), "last_day": _iso(c.last_day),
                             "completed_at": _iso(c.completed_at),
                             "missed_reason": c.missed_reason}
                      for code, c in row.cells.items()}}


@blp.route("/grid")
class Grid(MethodView):
    @blp.arguments(GridArgsSchema, location="query")
    @blp.response(200, GridSchema)
    def get(self, args):
        """A row per participant, a cell per assessment with its status and window."""
        read, rows, codes = _grid(args)
        # Built as JSON directly: marshmallow would take longer than the read for 500 rows.
        return jsonify({
            "as_of": _iso(read.ctx.now()), "codes": codes,
            "site_choices": SiteRefSchema(many=True).dump(read.site_choices),
            "rows": [_row(r) for r in rows]})


@blp.route("/grid.csv")
class GridCsv(MethodView):
    @blp.arguments(GridArgsSchema, location="query")
    @blp.response(200, content_type="text/csv")
    def get(self, args):
        """The grid as CSV."""
        _read, rows, codes = _grid(args)
        return csv_response(downloads.grid_csv(rows, codes), "participant-grid.csv")


def _attention(args: dict) -> tuple[Read, list[Item]]:
    read = read_scope(args)
    ctx = read.ctx
    return read, attention_items(ctx.session, read.scope, ctx.now(), grace(ctx))


@blp.route("/attention")
class Attention(MethodView):
    @blp.arguments(StudyArgsSchema, location="query")
    @blp.response(200, AttentionSchema)
    def get(self, args):
        """What needs action: closing windows, recent misses, message problems, opt-outs."""
        read, items = _attention(args)
        return {"as_of": read.ctx.now(), "site_choices": read.site_choices,
                "kinds": [{"kind": k, "heading": h, "action": a} for k, (h, a) in KINDS.items()],
                "missed_reasons": [{"code": c, "label": t} for c, t in REASONS.items()],
                "items": [i.as_dict() for i in items]}


@blp.route("/attention.csv")
class AttentionCsv(MethodView):
    @blp.arguments(StudyArgsSchema, location="query")
    @blp.response(200, content_type="text/csv")
    def get(self, args):
        """The attention list as CSV."""
        _read, items = _attention(args)
        return csv_response(downloads.attention_csv(items), "attention-list.csv")
