"""Study-wide reports over the sites the caller may read: JSON for the charts, CSV behind them."""

from __future__ import annotations

from flask.views import MethodView

from pro_server.api_blueprint import STAFF, ApiBlueprint
from pro_server.dashboard import downloads, reports
from pro_server.dashboard.routes import Read, read_scope
from pro_server.dashboard.schemas import CompletionReportSchema, ScoreReportSchema, StudyArgsSchema
from pro_server.schedule.assessments import grace
from pro_server.spreadsheet_csv import csv_response

blp = ApiBlueprint("dashboard_reports", __name__, url_prefix="/api/v1/dashboard/reports",
                   description="Study-wide reports: weekly completion, score distributions",
                   access=STAFF)


def _completion(args: dict) -> tuple[Read, reports.Completion]:
    read = read_scope(args)
    ctx = read.ctx
    return read, reports.completion(ctx.session, read.scope, read.sites, ctx.now(), grace(ctx))


def _scores(args: dict) -> tuple[Read, dict]:
    read = read_scope(args)
    return read, reports.score_distributions(read.ctx.session, read.scope, read.ctx.now())


@blp.route("/completion")
class CompletionReport(MethodView):
    @blp.arguments(StudyArgsSchema, location="query")
    @blp.response(200, CompletionReportSchema)
    def get(self, args):
        """Settled surveys per ISO week, per site and per assessment, with totals."""
        read, report = _completion(args)
        return {"study": read.scope.study, "as_of": read.ctx.now(), "timezone": report.timezone,
                "rule": reports.WEEK_RULE.format(tz=report.timezone),
                "site_choices": read.site_choices, "sites": read.sites, "codes": report.codes,
                "weeks": [{"week": w, "starts": d} for w, d in report.weeks],
                "rows": [r.as_dict() for r in report.rows]}


@blp.route("/completion.csv")
class CompletionReportCsv(MethodView):
    @blp.arguments(StudyArgsSchema, location="query")
    @blp.response(200, content_type="text/csv")
    def get(self, args):
        """The weekly completion report as CSV (blank site or assessment: all of them)."""
        _read, report = _completion(args)
        return csv_response(downloads.completion_csv(report.rows), "completion-by-week.csv")


@blp.route("/scores")
class ScoreReport(MethodView):
    @blp.arguments(StudyArgsSchema, location="query")
    @blp.response(200, ScoreReportSchema)
    def get(self, args):
        """Median, quartiles, min and max of each score per assessment, across participants."""
        read, report = _scores(args)
        return {"study": read.scope.study, "as_of": read.ctx.now(),
                "rule": reports.QUANTILE_RULE, "quantile_method": reports.QUANTILE_METHOD,
                "site_choices": read.site_choices, "sites": read.sites, **report}


@blp.route("/scores.csv")
class ScoreReportCsv(MethodView):
    @blp.arguments(StudyArgsSchema, location="query")
    @blp.response(200, content_type="text/csv")
    def get(self, args):
        """Score distributions per assessment as CSV."""
        _read, report = _scores(args)
        return csv_response(downloads.scores_csv(report["series"]), "score-distributions.csv")
