"""`flask --app wsgi pro ...`: operations commands, one group for every feature."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from pro_server.audit.sealing import seal_pending, tail
from pro_server.audit.verify import verify_stored_chain
from pro_server.commands import cli_context
from pro_server.context import Actor, ServiceContext
from pro_server.features import feature_modules
from pro_server.migrate import upgrade

pro_cli = AppGroup("pro", help="ePRO platform operations.")
audit_cli = AppGroup("audit", help="The tamper-evident audit trail.")
pro_cli.add_command(audit_cli)
for _feature in feature_modules():
    for _command in getattr(_feature, "COMMANDS", ()):
        pro_cli.add_command(_command)


def _pro() -> dict:
    return current_app.extensions["pro"]


@pro_cli.command("migrate")
def migrate_command() -> None:
    """Create or upgrade the database schema (Alembic, to head)."""
    upgrade(_pro()["engine"])
    click.echo("database schema is at head")


@pro_cli.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when a study already exists.")
def demo_command(if_empty: bool) -> None:
    """Load the demo study with months of history; prints the staff passwords once."""
    from pro_server.demo import DEMO_ACTOR
    from pro_server.demo_story import load_demo_story
    from pro_server.jobs import all_jobs
    from pro_server.studies.models import Study

    pro = _pro()
    if pro["settings"].is_production:
        raise click.ClickException("pro demo refuses to run with a production configuration: "
                                   "it enrols made-up participants and texts them")
    with pro["session_factory"]() as session:
        if session.scalar(select(Study.id).limit(1)) is not None:
            if if_empty:
                click.echo("demo: a study exists already; nothing loaded")
                return
            raise click.ClickException("the database already holds a study")

    def new_context(clock) -> ServiceContext:  # type: ignore[no-untyped-def]
        return ServiceContext.of_app(pro, DEMO_ACTOR, clock=clock)

    def run_jobs(factory) -> None:  # type: ignore[no-untyped-def]
        for job in all_jobs():
            job.function(factory)

    # The demo's history is made up: its texts go to the console, never to a provider,
    # whatever SMS_BACKEND says (the scheduler started next uses the configured one).
    from pro_server.messaging.sms_backends import ConsoleSender

    pro["sms_sender"] = ConsoleSender(clock=pro["clock"].now)
    click.echo("Loading the demo: walking the clock through the last months...")
    credentials = load_demo_story(new_context, run_jobs, pro["clock"].now())
    click.echo("Demo loaded. Staff sign-in (shown once, keep them):")
    for c in credentials:
        click.echo(f"  {c.role:<13} {c.email:<32} {c.password}")


@audit_cli.command("verify")
@click.option("--no-seal", is_flag=True,
              help="Only read: check what is sealed, do not seal the committed tail first.")
def audit_verify_command(no_seal: bool) -> None:
    """Seal what is committed, walk the hash chain (name the first broken event or report it
    intact), then report what is left unsealed and how old it is."""
    pro = _pro()
    if not no_seal:
        seal_pending(pro["session_factory"], pro["events"])
    with pro["session_factory"]() as session:
        report = verify_stored_chain(session)
        unsealed = tail(session)
    click.echo(report.describe())
    click.echo(unsealed.describe(pro["clock"].now()))
    if not report.intact:
        raise SystemExit(1)


@pro_cli.command("rekey")
@click.option("--batch-size", type=click.IntRange(1, 10000), default=200, show_default=True)
def rekey_command(batch_size: int) -> None:
    """Re-encrypt contact data with the newest PRO_DATA_KEYS key and rebuild the phone
    lookups with PHONE_LOOKUP_KEY; safe to interrupt and run again (audited)."""
    from pro_server.rekey import UnreadableValue, rekey

    def progress(report) -> None:  # type: ignore[no-untyped-def]
        click.echo(f"  batch {report.batches}: {report.rows_examined} rows examined")

    try:
        report = rekey(lambda: cli_context(Actor.system("cli:rekey")), batch_size=batch_size,
                       after_batch=progress)
    except UnreadableValue as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"rekey done: {report.rows_examined} rows examined, "
               f"{report.values_reencrypted} values re-encrypted, "
               f"{report.lookups_rebuilt} lookups rebuilt ({', '.join(report.tables)})")


jobs_cli = AppGroup("jobs", help="The periodic jobs (normally run by the scheduler process).")
pro_cli.add_command(jobs_cli)


@jobs_cli.command("run-once")
def jobs_run_once_command() -> None:
    """Run every periodic job once and print what each did."""
    from pro_server.jobs import run_all_once

    for job_id, done in run_all_once(current_app).items():
        click.echo(f"{job_id}: {done}")


@pro_cli.command("scheduler")
def scheduler_command() -> None:
    """Run the scheduler process (APScheduler); never inside web workers."""
    from pro_server.jobs import run_scheduler

    run_scheduler(current_app._get_current_object())  # type: ignore[attr-defined]


@pro_cli.command("simulate")
@click.option("--days", type=click.IntRange(1, 800), required=True)
@click.option("--step-hours", type=click.IntRange(1, 24), default=1, show_default=True)
def simulate_command(days: int, step_hours: int) -> None:
    """Development only: move the clock forward, running the jobs at every step."""
    from pro_server.jobs import ClockCannotMove, simulate

    pro = _pro()
    if pro["settings"].is_production:
        raise click.ClickException("pro simulate refuses to run with a production configuration")
    clock = pro["clock"]
    click.echo(f"clock was {clock.now().isoformat(timespec='minutes')}")
    try:
        totals = simulate(current_app._get_current_object(), days, step_hours)  # type: ignore[attr-defined]
    except ClockCannotMove as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"clock is now {clock.now().isoformat(timespec='minutes')}")
    for job_id, done in totals.items():
        click.echo(f"  {job_id}: {done}")


protocol_cli = AppGroup("protocol", help="Protocol versions and amendments.")
pro_cli.add_command(protocol_cli)


@protocol_cli.command("amend")
@click.option("--study", "study_code", required=True)
@click.option("--version", type=int, required=True)
@click.option("--reason", required=True)
@click.option("--subject", "subjects", multiple=True, help="Only these subject keys.")
@click.option("--signer", required=True, help="Email of the admin who signs the amendment; "
              "the password (and code) are asked for, or read from stdin.")
def protocol_amend_command(study_code: str, version: int, reason: str,
                           subjects: tuple[str, ...], signer: str) -> None:
    """Move a study (or some participants) to another protocol version, with a reason,
    under the signer's electronic signature."""
    from pro_server.errors import DomainError
    from pro_server.schedule.amendments import apply_signed_amendment
    from pro_server.staff.cli import cli_signature
    from pro_server.staff.security import Meaning
    from pro_server.studies.services import get_study

    ctx = cli_context(Actor(type="staff", label="cli:protocol amend"))
    with ctx.session:
        signature = cli_signature(ctx, signer, Meaning.apply_amendment)
        try:
            result = apply_signed_amendment(ctx, get_study(ctx.session, study_code), version,
                                            reason, list(subjects) or None, signature)
        except DomainError as exc:
            raise click.ClickException(f"{exc.message}: {exc.errors or ''}") from exc
        ctx.session.commit()
    for key, actions in result.items():
        click.echo(f"{key}: " + (", ".join(f"{a} {c}" for a, c in actions) or "no change"))
    click.echo(f"{len(result)} participants moved to version {version}")
