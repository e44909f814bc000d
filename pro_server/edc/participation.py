"""Participation as data (no Flask): the missed and cancelled assessments, the infusions
(SDTM EX-like) and enrolment / withdrawal (DS-like), for CSV, XPT and the JSON pull.

The infusion dates anchor every assessment window, so a data manager reconciling "days since
infusion" needs them. Blinding: an infusion is only "STUDY INFUSION": nothing here knows, or
could say, which product or sequence it was.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from pro_server.edc.adherence import batches
from pro_server.edc.catalogue import StudyCatalogue
from pro_server.edc.records import instant, stream, subject_rank
from pro_server.edc.sdtm import NOT_DONE, study_day
from pro_server.edc.xpt import Dataset
from pro_server.local_time import local_to_utc, utc_to_local
from pro_server.participants.models import Participant
from pro_server.protocol.definitions import ProtocolRegistry
from pro_server.protocol.planner import InfusionRecord, ScheduledInfusion, infusion_schedule
from pro_server.protocol.status import derive_status
from pro_server.schedule.models import Assessment, Infusion
from pro_server.studies.models import Site, Study

BATCH = 500
EXTRT = "STUDY INFUSION"  # never the product: the study is masked
EXROUTE = "INTRAVENOUS"

EX = Dataset("EX", "Exposure (study infusions, masked)", (
    ("STUDYID", "Study Identifier"),
    ("DOMAIN", "Domain Abbreviation"),
    ("USUBJID", "Unique Subject Identifier"),
    ("EXSEQ", "Sequence Number"),
    ("EXSPID", "Sponsor-Defined Identifier"),
    ("EXTRT", "Name of Treatment"),
    ("EXROUTE", "Route of Administration"),
    ("EXOCCUR", "Occurrence"),
    ("EXSTAT", "Completion Status"),
    ("EXREASND", "Reason Not Done"),
    ("EXPLDTC", "Planned Date of Infusion"),
    ("EXSTDTC", "Start Date/Time of Treatment"),
    ("EXSTDY", "Study Day of Start of Treatment"),
), frozenset({"EXSEQ", "EXSTDY"}))

DS = Dataset("DS", "Disposition", (
    ("STUDYID", "Study Identifier"),
    ("DOMAIN", "Domain Abbreviation"),
    ("USUBJID", "Unique Subject Identifier"),
    ("DSSEQ", "Sequence Number"),
    ("DSTERM", "Reported Term for the Disposition Event"),
    ("DSDECOD", "Standardized Disposition Term"),
    ("DSCAT", "Category for Disposition Event"),
    ("DSSTDTC", "Start Date/Time of Disposition Event"),
    ("DSSTDY", "Study Day of Start of Disposition Event"),
), frozenset({"DSSEQ", "DSSTDY"}))


# --- missed and cancelled assessments ------------------------------------------------------


def not_done_query(study_id: int, now: datetime) -> Select:
    """Assessments that may be missed or cancelled at `now`, by subject rank and sequence."""
    rank = subject_rank(study_id)
    return (select(Assessment.id, Assessment.code, Assessment.sequence, Assessment.instruments,
                   Assessment.window_start, Assessment.window_end, Assessment.started_at,
                   Assessment.completed_at, Assessment.cancelled_at, Assessment.cancel_reason,
                   Assessment.missed_reason, Assessment.missed_reason_text,
                   Participant.subject_key, rank.c.subject_rank, Site.code.label("site_code"))
            .join(Participant, Participant.id == Assessment.participant_id)
            .join(Site, Site.id == Assessment.site_id)
            .join(rank, rank.c.participant_id == Participant.id)
            .where(Assessment.study_id == study_id, Assessment.completed_at.is_(None),
                   (Assessment.cancelled_at.is_not(None)) | (Assessment.window_end <= now))
            .order_by(rank.c.subject_rank, Assessment.sequence))


def not_done(rows: Iterable[Mapping[str, Any]], now: datetime, grace: timedelta
             ) -> Iterator[dict[str, Any]]:
    """The rows whose status at `now` is missed or cancelled, with that `status`."""
    for row in rows:
        status = derive_status(row["window_start"], row["window_end"], now,
                               started_at=row["started_at"], completed_at=row["completed_at"],
                               cancelled_at=row["cancelled_at"], grace=grace)
        if status in ("missed", "cancelled"):
            yield {**row, "status": status}


# --- participants and their infusions ------------------------------------------------------


def participant_query(study_id: int) -> Select:
    rank = subject_rank(study_id)
    return (select(Participant.id, Participant.subject_key, Participant.status,
                   Participant.timezone, Participant.enrolled_on, Participant.withdrawn_at,
                   Participant.withdrawal_reason, Participant.protocol_version,
                   Site.code.label("site_code"), Study.protocol_code, rank.c.subject_rank)
            .join(rank, rank.c.participant_id == Participant.id)
            .join(Site, Site.id == Participant.site_id)
            .join(Study, Study.id == Participant.study_id)
            .where(Participant.study_id == study_id)
            .order_by(rank.c.subject_rank))


def with_infusions(session: Session, protocols: ProtocolRegistry, study_id: int,
                   size: int = BATCH) -> Iterator[tuple[dict[str, Any],
                                                        tuple[ScheduledInfusion, ...]]]:
    """Each participant with its infusion schedule (plan and facts), asked per batch."""
    for batch in batches(stream(session, participant_query(study_id)), size):
        found: dict[int, list[InfusionRecord]] = {}
        for r in session.scalars(select(Infusion).where(
                Infusion.participant_id.in_([p["id"] for p in batch]))
                .order_by(Infusion.participant_id, Infusion.number)):
            found.setdefault(r.participant_id, []).append(InfusionRecord(
                number=r.number, status=r.status,  # type: ignore[arg-type]
                planned_date=r.planned_date, given_at_local=r.given_at_local, reason=r.reason))
        for p in batch:
            if p["protocol_version"] is None:
                yield p, ()
                continue
            protocol = protocols.get(p["protocol_code"], int(p["protocol_version"]))
            yield p, infusion_schedule(protocol, found.get(p["id"], []))


def _first_dose(schedule: Sequence[ScheduledInfusion]) -> date | None:
    first = next((i for i in schedule if i.number == 1), None)
    if first is None or first.status != "given" or first.given_at_local is None:
        return None
    return first.given_at_local.date()


def _local(at: datetime | None) -> str:
    return "" if at is None else at.replace(microsecond=0).isoformat()


def ex_records(catalogue: StudyCatalogue, participants: Iterable[
        tuple[Mapping[str, Any], Sequence[ScheduledInfusion]]]) -> Iterator[dict[str, Any]]:
    """One record per infusion given or recorded as not given (planned ones are not data)."""
    for p, schedule in participants:
        reference, seq = _first_dose(schedule), 0
        for i in schedule:
            if i.status not in ("given", "not_given"):
                continue
            seq += 1
            given = i.status == "given"
            yield {"STUDYID": catalogue.study_code, "DOMAIN": "EX",
                   "USUBJID": f"{catalogue.study_code}-{p['subject_key']}", "EXSEQ": float(seq),
                   "EXSPID": f"INFUSION {i.number}", "EXTRT": EXTRT, "EXROUTE": EXROUTE,
                   "EXOCCUR": "Y" if given else "N", "EXSTAT": "" if given else NOT_DONE,
                   "EXREASND": "" if given else (i.reason or ""),
                   "EXPLDTC": i.planned_date.isoformat() if i.planned_date else "",
                   "EXSTDTC": _local(i.given_at_local),
                   "EXSTDY": study_day(i.given_at_local.date() if i.given_at_local else None,
                                       reference)}


def _local_date(at: datetime | None, tz: str) -> date | None:
    return None if at is None else utc_to_local(at, tz).date()


def ds_records(catalogue: StudyCatalogue, participants: Iterable[
        tuple[Mapping[str, Any], Sequence[ScheduledInfusion]]]) -> Iterator[dict[str, Any]]:
    """Enrolment (a protocol milestone) and withdrawal or completion (disposition events)."""
    for p, schedule in participants:
        reference = _first_dose(schedule)
        events: list[tuple[str, str, str, date | None]] = []
        if p["enrolled_on"] is not None:
            events.append(("ENROLLED", "ENROLLED", "PROTOCOL MILESTONE", p["enrolled_on"]))
        if str(p["status"]) == "withdrawn":
            events.append((p["withdrawal_reason"] or "WITHDRAWN", "WITHDRAWN",
                           "DISPOSITION EVENT", _local_date(p["withdrawn_at"], p["timezone"])))
        elif str(p["status"]) == "completed":
            events.append(("COMPLETED", "COMPLETED", "DISPOSITION EVENT", None))
        for seq, (term, decod, category, on) in enumerate(events, start=1):
            yield {"STUDYID": catalogue.study_code, "DOMAIN": "DS",
                   "USUBJID": f"{catalogue.study_code}-{p['subject_key']}", "DSSEQ": float(seq),
                   "DSTERM": term, "DSDECOD": decod, "DSCAT": category,
                   "DSSTDTC": on.isoformat() if on else "", "DSSTDY": study_day(on, reference)}


def participation_record(p: Mapping[str, Any], schedule: Sequence[ScheduledInfusion]
                         ) -> dict[str, Any]:
    """The JSON pull's record of one participant: enrolment, withdrawal, every infusion."""
    tz = p["timezone"]
    return {
        "subject_key": p["subject_key"], "site": p["site_code"], "status": str(p["status"]),
        "enrolled_on": p["enrolled_on"].isoformat() if p["enrolled_on"] else None,
        "withdrawn_at": instant(p["withdrawn_at"], tz),
        "withdrawal_reason": p["withdrawal_reason"],
        "protocol_version": p["protocol_version"], "timezone": tz,
        "infusions": [{
            "number": i.number, "label": i.label, "status": i.status,
            "protocol_date": i.protocol_date.isoformat() if i.protocol_date else None,
            "planned_date": i.planned_date.isoformat() if i.planned_date else None,
            "given_at": instant(local_to_utc(i.given_at_local, tz), tz)
            if i.given_at_local else None,
            "not_given_reason": i.reason if i.status == "not_given" else None,
        } for i in schedule],
    }
