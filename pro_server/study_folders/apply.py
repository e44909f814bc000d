"""Putting a study folder live: create the study, or bring it in line with the folder.

Everything goes through the services that already own each rule (studies, sites, language
approvals, and protocol amendments, signed by an admin, through ``apply_signed_amendment``:
started and completed assessments keep their version), so every change is audited with the
given reason. Applying an unchanged folder changes nothing and writes nothing.

Refused, before anything is written:
- a folder the server would not run (its protocols are not the ones on PRO_STUDIES_PATH);
- a protocol version or own instrument applied before whose data has since changed (or
  that is gone) while assessments or answers exist under it: publish a new version instead;
- a site the database has and the folder drops; a current version older than the study's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pro_server.audit.services import record
from pro_server.context import ServiceContext
from pro_server.errors import Conflict, InvalidInput, Unauthorized
from pro_server.instruments.definitions import UnknownInstrumentError
from pro_server.instruments.definitions import default_registry as instruments
from pro_server.participants.models import Participant
from pro_server.protocol.definitions import UnknownProtocolError
from pro_server.protocol.definitions import default_registry as protocols
from pro_server.responses.models import Response
from pro_server.schedule.amendments import apply_signed_amendment
from pro_server.schedule.models import Assessment
from pro_server.studies.languages import approval, approve_language, unvalidated
from pro_server.studies.models import Site, Study, StudyDefinitionFile
from pro_server.studies.services import create_site, create_study
from pro_server.study_folders.folders import StudyFolder, check_study_folder
from pro_server.study_paths import studies_path, study_dirs

STUDY_FIELDS = {"name": "name", "registry_id": "registry_id", "timezone": "default_timezone",
                "program_name": "program_name"}
SITE_FIELDS = ("name", "timezone", "contact_phone")


@dataclass
class ApplyResult:
    study: Study
    created: bool
    changes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.changes)


def apply_study_folder(ctx: ServiceContext, folder: StudyFolder, reason: str,
                       signature: dict[str, str] | None = None) -> ApplyResult:
    """Create the study from the folder, or apply what changed in it (see module doc).

    A new current protocol version is an amendment: it needs an admin's electronic
    signature (21 CFR 11.50), as the API and ``pro protocol amend`` do."""
    if not reason.strip():
        raise InvalidInput.field("reason", "Applying a study needs a reason")
    _require_served(folder)
    study = ctx.session.scalar(select(Study).where(Study.code == folder.code))
    if study is None:
        return _create(ctx, folder, reason)
    result = ApplyResult(study, created=False)
    stale = _check_definitions(ctx, study, folder)
    _check_sites_kept(ctx, study, folder)
    current = folder.current.version
    if current < int(study.protocol_version):
        raise Conflict(f"{study.code} is on protocol v{study.protocol_version}; the folder's"
                       f" current version is v{current}: an older version is never re-applied")
    _update_study(ctx, study, folder, reason, result)
    _sync_sites(ctx, study, folder, reason, result)
    _approve_languages(ctx, study, folder, reason, result)
    _record_definitions(ctx, study, folder, stale, reason, result)
    if current != int(study.protocol_version):
        if signature is None:
            raise Unauthorized(
                f"Applying protocol v{current} of {study.code} is an amendment: it needs an"
                " admin's electronic signature (pro study apply --signer ADMIN_EMAIL)")
        moved = apply_signed_amendment(ctx, study, current, reason, None, signature)
        result.changes.append(f"protocol amended to v{current}; {len(moved)} participants moved")
        result.changes += [f"  {key}: " + (", ".join(f"{a} {c}" for a, c in actions) or
                                          "no change") for key, actions in moved.items()]
    if result.changed:
        record(ctx, "study.apply", "study", study.id, after={
            "folder": str(folder.path), "changes": result.changes,
            "fingerprints": dict(folder.fingerprints)}, reason=reason, study_id=study.id)
    return result


def _require_served(folder: StudyFolder) -> None:
    """The server runs the protocols and instruments it loads from PRO_STUDIES_PATH: the
    folder applied must be what it loads, or the database would name versions it lacks."""
    where = ", ".join(str(p) for p in studies_path())
    for protocol in folder.protocols:
        try:
            served = protocols().get(protocol.study_code, protocol.version)
        except UnknownProtocolError:
            served = None
        if served != protocol:
            raise Conflict(
                f"{folder.path}: protocol v{protocol.version} is not the one the server loads"
                f" from PRO_STUDIES_PATH ({where}); put the study folder there (and restart"
                " the web and scheduler processes) before applying it")
    for definition in folder.own_instruments:
        try:
            instruments().get(definition.code, definition.version)
        except UnknownInstrumentError:
            raise Conflict(f"{folder.path}: instrument {definition.code} {definition.version}"
                           f" is not loaded from PRO_STUDIES_PATH ({where})") from None


def _create(ctx: ServiceContext, folder: StudyFolder, reason: str) -> ApplyResult:
    study = create_study(ctx, code=folder.code, name=folder.name,
                         registry_id=folder.registry_id, default_timezone=folder.timezone,
                         program_name=folder.program_name, protocol_code=folder.code,
                         protocol_version=str(folder.current.version))
    result = ApplyResult(study, created=True, changes=[
        f"study {folder.code} created on protocol v{folder.current.version}"])
    _sync_sites(ctx, study, folder, reason, result)
    _approve_languages(ctx, study, folder, reason, result)
    _record_definitions(ctx, study, folder, set(), reason, result)
    record(ctx, "study.apply", "study", study.id, after={
        "folder": str(folder.path), "changes": result.changes,
        "fingerprints": dict(folder.fingerprints)}, reason=reason, study_id=study.id)
    return result


def _applied(ctx: ServiceContext, study: Study) -> dict[str, StudyDefinitionFile]:
    rows = ctx.session.scalars(
        select(StudyDefinitionFile).where(StudyDefinitionFile.study_id == study.id))
    return {row.name: row for row in rows}


def _check_definitions(ctx: ServiceContext, study: Study, folder: StudyFolder) -> set[str]:
    """Names of applied definitions whose data changed and may be re-recorded (nothing was
    collected under them); a change under collected data is refused."""
    stale = set()
    for name, row in _applied(ctx, study).items():
        now = folder.fingerprints.get(name)
        if now == row.fingerprint:
            continue
        collected = _collected_under(ctx.session, study, name)
        what = "is missing from the folder" if now is None else "has changed"
        if collected:
            raise Conflict(
                f"{name} of {study.code} {what} since it was applied on"
                f" {row.applied_at:%Y-%m-%d}, and {collected} already exist under it:"
                " data collected under a definition must keep its meaning; publish the"
                " change as a new version instead")
        if now is None:
            raise Conflict(f"{name} of {study.code} {what}; applied definitions stay listed")
        stale.add(name)
    return stale


def _collected_under(session: Session, study: Study, name: str) -> str:
    """'12 assessments' / '3 answers' planned or given under this definition, or ''."""
    kind, _, key = name.partition(" ")
    counters: dict[str, Callable[[], int]] = {
        "protocol": lambda: _count(session, Assessment, Assessment.study_id == study.id,
                                   Assessment.protocol_version == key.removeprefix("v"))
        + _count(session, Participant, Participant.study_id == study.id,
                 Participant.protocol_version == key.removeprefix("v")),
        "instrument": lambda: _count(session, Response, Response.study_id == study.id,
                                     Response.instrument_code == key.split(" ")[0],
                                     Response.instrument_version == key.split(" ")[-1]),
    }
    found = counters[kind]()
    noun = "assessments or participants" if kind == "protocol" else "answers"
    return f"{found} {noun}" if found else ""


def _count(session: Session, model: type, *where: object) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def changed_under_collected_data(session: Session) -> list[str]:
    """Applied definitions that the study folders on PRO_STUDIES_PATH now hold changed (or
    no longer hold) although data was collected under them: what the server must not run.

    ``apply`` refuses such a change; this catches a folder edited in place and a restart.
    """
    applied: dict[int, list[StudyDefinitionFile]] = {}
    for row in session.scalars(select(StudyDefinitionFile)):
        applied.setdefault(row.study_id, []).append(row)
    served = {}
    for directory in study_dirs():
        folder, _ = check_study_folder(directory)
        if folder is not None:
            served[folder.code] = folder.fingerprints
    found = []
    for study_id, rows in applied.items():
        study = session.get(Study, study_id)
        assert study is not None  # a foreign key
        now = served.get(study.code, {})
        for row in rows:
            if now.get(row.name) != row.fingerprint and (
                    collected := _collected_under(session, study, row.name)):
                found.append(f"{study.code}: {row.name} differs from what was applied on"
                             f" {row.applied_at:%Y-%m-%d} and {collected} exist under it")
    return found


def _check_sites_kept(ctx: ServiceContext, study: Study, folder: StudyFolder) -> None:
    listed = {s.code for s in folder.sites}
    dropped = sorted(site.code for site in study.sites if site.code not in listed)
    if dropped:
        raise Conflict(f"{study.code} has sites {', '.join(dropped)} that study.yaml no longer"
                       " lists; sites are never removed (their participants and data stay)")


def _update_study(ctx: ServiceContext, study: Study, folder: StudyFolder, reason: str,
                  result: ApplyResult) -> None:
    before, after = {}, {}
    for name, column in STUDY_FIELDS.items():
        wanted = getattr(folder, name)
        if getattr(study, column) != wanted:
            before[name], after[name] = getattr(study, column), wanted
            setattr(study, column, wanted)
    if after:
        record(ctx, "study.update", "study", study.id, before=before, after=after,
               reason=reason, study_id=study.id)
        result.changes.append(f"study {', '.join(sorted(after))} updated")


def _sync_sites(ctx: ServiceContext, study: Study, folder: StudyFolder, reason: str,
                result: ApplyResult) -> None:
    existing = {s.code: s for s in ctx.session.scalars(
        select(Site).where(Site.study_id == study.id))}
    for spec in folder.sites:
        site = existing.get(spec.code)
        if site is None:
            create_site(ctx, study, code=spec.code, name=spec.name, timezone=spec.timezone,
                        contact_phone=spec.contact_phone)
            result.changes.append(f"site {spec.code} created")
            continue
        changed = {f: getattr(spec, f) for f in SITE_FIELDS if getattr(site, f) != getattr(spec, f)}
        if changed:
            before = {f: getattr(site, f) for f in changed}
            for name, value in changed.items():
                setattr(site, name, value)
            record(ctx, "site.update", "site", site.id, before=before, after=changed,
                   reason=reason, study_id=study.id, site_id=site.id)
            result.changes.append(f"site {spec.code} {', '.join(sorted(changed))} updated")


def _approve_languages(ctx: ServiceContext, study: Study, folder: StudyFolder, reason: str,
                       result: ApplyResult) -> None:
    """A listed language not validated for every instrument is approved with the folder's
    approval reason (checked by the folder: it has one)."""
    for lang in folder.languages:
        if unvalidated(study, lang.code) and approval(ctx, study, lang.code) is None:
            approve_language(ctx, study, lang.code, f"{lang.approval_reason} ({reason})")
            result.changes.append(f"language {lang.code} approved")


def _record_definitions(ctx: ServiceContext, study: Study, folder: StudyFolder,
                        stale: set[str], reason: str, result: ApplyResult) -> None:
    applied = _applied(ctx, study)
    for name, value in folder.fingerprints.items():
        if name == "study":
            continue
        row = applied.get(name)
        if row is None:
            ctx.session.add(StudyDefinitionFile(study_id=study.id, name=name, fingerprint=value,
                                                applied_at=ctx.now()))
            result.changes.append(f"{name} recorded")
        elif name in stale:
            record(ctx, "study.definition_change", "study", study.id,
                   before={name: row.fingerprint}, after={name: value}, reason=reason,
                   study_id=study.id)
            row.fingerprint, row.applied_at = value, ctx.now()
            result.changes.append(f"{name} changed (nothing collected under it yet)")
    ctx.session.flush()
