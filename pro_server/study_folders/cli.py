"""`flask --app wsgi pro study ...`: check, preview and put live a study folder."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

import click
from flask.cli import AppGroup

from pro_server.context import Actor
from pro_server.errors import DomainError
from pro_server.study_folders.folders import StudyFolder, check_study_folder

study_cli = AppGroup("study", help="Studies as data: a folder with study.yaml (see README).")
CLI_ACTOR = Actor(type="staff", label="cli:study apply")

FOLDER = click.Path(exists=True, file_okay=False, path_type=Path)


def _load(folder: Path) -> StudyFolder:
    """The checked folder; every problem printed as file:line: message, then exit 1."""
    study, problems = check_study_folder(folder)
    if problems or study is None:
        for problem in problems:
            click.echo(str(problem))
        click.echo(f"{folder}: {len(problems)} problem(s)", err=True)
        raise SystemExit(1)
    return study


@study_cli.command("validate", with_appcontext=False)
@click.argument("folder", type=FOLDER)
def validate_command(folder: Path) -> None:
    """Check study.yaml, its protocol versions and own instruments (exit 1 on a problem)."""
    study = _load(folder)
    click.echo(
        f"{folder}: study {study.code} is valid: {len(study.protocols)} protocol version(s)"
        f" (current v{study.current.version}), instruments {', '.join(study.instruments)},"
        f" languages {', '.join(lang.code for lang in study.languages)},"
        f" sites {', '.join(site.code for site in study.sites)}")


def _date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date YYYY-MM-DD") from None


def _time(_ctx: click.Context, _param: click.Parameter, value: str) -> time:
    try:
        return datetime.strptime(value, "%H:%M").time()  # noqa: DTZ007 (a local wall time)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a time HH:MM") from None


@study_cli.command("preview", with_appcontext=False)
@click.argument("folder", type=FOLDER)
@click.option("--day0", required=True, callback=_date, help="Date of infusion 1 (YYYY-MM-DD).")
@click.option("--tz", help="The participant's IANA time zone (default: the study's).")
@click.option("--version", type=int, help="Protocol version (default: the current one).")
@click.option("--enrolled", callback=_date, help="Enrolment date (default: a week before Day 0).")
@click.option("--infusion-time", default="09:00", show_default=True, callback=_time,
              help="Local time every infusion is given at.")
def preview_command(folder: Path, day0: date, tz: str | None, version: int | None,
                    enrolled: date | None, infusion_time: time) -> None:
    """Print every planned window and reminder for a made-up participant."""
    from pro_server.study_folders.preview import preview

    study = _load(folder)
    try:
        for line in preview(study, day0, tz=tz, version=version, enrolled_on=enrolled,
                            infusion_time=infusion_time):
            click.echo(line)
    except (ValueError, LookupError) as exc:
        raise click.ClickException(str(exc)) from exc


@study_cli.command("apply")
@click.argument("folder", type=FOLDER)
@click.option("--reason", required=True, help="Why (kept in the audit trail).")
@click.option("--signer", help="Email of the admin who signs an amendment (a new current "
              "protocol version); the password (and code) are asked for, or read from stdin.")
def apply_command(folder: Path, reason: str, signer: str | None) -> None:
    """Create the study, or apply what changed (a new protocol version is an amendment)."""
    from pro_server.commands import cli_context
    from pro_server.staff.cli import cli_signature
    from pro_server.staff.security import Meaning
    from pro_server.study_folders.apply import apply_study_folder

    study = _load(folder)
    ctx = cli_context(CLI_ACTOR)
    with ctx.session:
        signature = cli_signature(ctx, signer, Meaning.apply_amendment) if signer else None
        try:
            result = apply_study_folder(ctx, study, reason, signature)
        except DomainError as exc:
            raise click.ClickException(f"{exc.message} {exc.errors or ''}".strip()) from exc
        ctx.session.commit()
    if not result.changed:
        click.echo(f"{study.code}: nothing changed (the database matches {folder})")
        return
    click.echo(f"{study.code}: " + ("created" if result.created else "updated"))
    for change in result.changes:
        click.echo(f"  {change}")
