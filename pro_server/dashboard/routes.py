"""The coordinator's dashboard over the study: overview, grid, attention list, downloads.

Every read is limited to the sites the caller may read (pro_server.access.policy); a site
outside them is answered like an unknown one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

from flask.views import MethodView

from pro_server.access import policy
from pro_server.api_blueprint import STAFF, ApiBlueprint
from pro_server.context import ServiceContext
from pro_server.dashboard import downloads
from pro_server.dashboard.attention import KINDS, Item, attention_items
from pro_server.dashboard.grid import Scope, columns, load_page, pages
from pro_server.dashboard.overview import counted_participants, summarise, tally
from pro_server.dashboard.schemas import (
    AttentionSchema,
    GridArgsSchema,
    GridFilterSchema,
    GridSchema,
    OverviewSchema,
    StudyArgsSchema,
)
from pro_server.errors import NotFound
from pro_server.schedule.assessments import grace
from pro_server.schedule.missed import REASONS
from pro_server.spreadsheet_csv import csv_response
from pro_server.staff.signed_in import current_staff, staff_actor
from pro_server.studies.models import Site, Study
from pro_server.studies.services import get_study
from pro_server.web import context, db_session

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
    scope = Scope(study, frozenset(s.id for s in sites), statuses, search=args.get("q", ""))
    return Read(context(staff_actor(user)), scope, sites, choices)




@blp.route("/overview")
class Overview(MethodView):
    @blp.arguments(StudyArgsSchema, location="query")
    @blp.response(200, OverviewSchema)
    def get(self, args):
        """Completion per assessment and per site: on time, late, missed, open, upcoming."""
        read = read_scope(args)
        ctx, scope = read.ctx, read.scope
        counts = tally(ctx.session, scope, ctx.now(), grace(ctx))
        people, left_out = counted_participants(ctx.session, scope, ctx.now(), grace(ctx))
        return {"study": scope.study, "as_of": ctx.now(), "site_choices": read.site_choices,
                **summarise(counts, people, columns(ctx.session, scope), read.sites,
                            left_out)}


@blp.route("/grid")
class Grid(MethodView):
    @blp.arguments(GridArgsSchema, location="query")
    @blp.response(200, GridSchema)
    def get(self, args):
        """A page of participants (a row each, a cell per assessment), with the total.

        Rows come in subject key order; pass `next` back as `after` for the next page.
        """
        read = read_scope(args)
        ctx, scope = read.ctx, read.scope
        page = load_page(ctx.session, scope, ctx.now(), grace(ctx), limit=args["limit"],
                         after=args.get("after"))
        return {"as_of": ctx.now(), "codes": columns(ctx.session, scope),
                "site_choices": read.site_choices, "total": page.total, "next": page.next,
                "rows": page.rows}


@blp.route("/grid.csv")
class GridCsv(MethodView):
    @blp.arguments(GridFilterSchema, location="query")
    @blp.response(200, content_type="text/csv")
    def get(self, args):
        """The whole grid (every page) as CSV, streamed."""
        read = read_scope(args)
        ctx, scope = read.ctx, read.scope
        now, codes, study_id = ctx.now(), columns(ctx.session, scope), scope.study.id
        late = grace(ctx)

        def body() -> Iterator[str]:
            # Streaming runs after the request's session is closed: read with a new one
            # (closed in turn when the stream ends).
            session = db_session()
            own = replace(scope, study=session.get_one(Study, study_id))
            yield from downloads.grid_csv(pages(session, own, now, late), codes)

        return csv_response(body(), "participant-grid.csv")


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
