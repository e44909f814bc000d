"""Which languages a study may collect data in.

A language is usable for a study when every instrument its protocol uses has a validated
version in it, or when an admin approved it for the study (explicit, with a reason,
audited). Without either, enrolling or switching a participant to it is refused.
"""

from __future__ import annotations

from sqlalchemy import select

from pro_server.audit.services import record
from pro_server.context import ServiceContext
from pro_server.errors import Conflict, InvalidInput
from pro_server.instruments.definitions import default_registry
from pro_server.instruments.models import LanguageApproval
from pro_server.protocol.definitions import default_registry as protocols
from pro_server.studies.models import Study
from pro_server.validation import LANGUAGES


def study_instruments(study: Study) -> set[str]:
    """Every instrument any version of the study's protocol collects."""
    codes: set[str] = set()
    for protocol in protocols().versions(study.protocol_code):
        for assessment in protocol.assessments:
            codes.update(assessment.instruments)
        codes.update(protocol.baseline.instruments)
    return codes


def unvalidated(study: Study, language: str) -> list[str]:
    registry = default_registry()
    return sorted(
        code for code in study_instruments(study)
        if not registry.get(code).languages.get(language, {}).get("validated", False)
    )


def approval(ctx: ServiceContext, study: Study, language: str) -> LanguageApproval | None:
    return ctx.session.scalar(select(LanguageApproval).where(
        LanguageApproval.study_id == study.id, LanguageApproval.language == language,
        LanguageApproval.revoked_at.is_(None)))


def check_language(ctx: ServiceContext, study: Study, language: str) -> None:
    """Refuse a language the study may not collect in (422 naming the instruments)."""
    missing = unvalidated(study, language)
    if missing and approval(ctx, study, language) is None:
        raise InvalidInput.field(
            "language",
            f"'{language}' is not validated for {', '.join(missing)}; an admin must approve "
            f"it for {study.code} first (POST /api/v1/studies/{study.code}/languages)",
        )


def approve_language(ctx: ServiceContext, study: Study, language: str,
                     reason: str) -> LanguageApproval:
    if language not in LANGUAGES:
        raise InvalidInput.field("language", f"Supported languages: {', '.join(LANGUAGES)}")
    if approval(ctx, study, language) is not None:
        raise Conflict(f"'{language}' is already approved for {study.code}")
    row = LanguageApproval(study_id=study.id, language=language, reason=reason,
                           approved_by=ctx.actor.label or ctx.actor.type, approved_at=ctx.now())
    ctx.session.add(row)
    ctx.session.flush()
    record(ctx, "study.language_approve", "study", study.id,
           after={"language": language, "unvalidated_instruments": unvalidated(study, language)},
           reason=reason, study_id=study.id)
    return row
