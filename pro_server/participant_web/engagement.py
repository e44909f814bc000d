"""Did the participant see it? When they opened a link, started a survey, the page they stopped
at, and when they sent it: times and page numbers only, never an answer, address or browser.

Recorded one way each, at no extra cost per answer:
- a link opened: one `LinkOpen` row when a session opens from a link's token;
- a survey started or sent: the assessment's own `started_at` / `completed_at`;
- where it stopped: the position the page saves with each draft ("page 12 of 40"), kept on the
  draft row the save writes anyway (drafts go when the survey is sent).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, select

from pro_server.context import ServiceContext
from pro_server.db import insert_rows_now
from pro_server.participant_web.models import LinkOpen
from pro_server.participants.models import Participant
from pro_server.responses.models import Draft
from pro_server.schedule.models import Assessment

REVIEW_SCREEN = "review"


_LINK_OPENS = cast(Table, LinkOpen.__table__)


def record_link_open(ctx: ServiceContext, participant_id: int, link_id: int) -> None:
    """One row, inserted now: nothing reads it back in the request, so no object is made
    and attached (`insert_now`'s work) and no id read back."""
    insert_rows_now(ctx.session, _LINK_OPENS, [
        {"participant_id": participant_id, "link_id": link_id, "opened_at": ctx.now()}])


def position(screen: str, seq: int, page: int | None, pages: int | None) -> dict[str, Any]:
    """What a draft keeps of where the participant is: the screen to resume at, the order of
    saves across the survey's drafts, and the page number as the participant saw it."""
    kept: dict[str, Any] = {"screen": screen, "seq": seq}
    if page is not None and pages is not None:
        kept.update(page=page, pages=pages)
    return kept


def latest_position(positions: Iterable[Any]) -> dict[str, Any] | None:
    """The position saved last across one survey's drafts (the highest sequence number)."""
    best: dict[str, Any] | None = None
    for position in positions:
        kept = position if isinstance(position, dict) else {}
        seq, screen = kept.get("seq"), kept.get("screen")
        if isinstance(seq, int) and isinstance(screen, str) and (
                best is None or seq > best["seq"]):
            best = kept
    return best


@dataclass(frozen=True)
class Fact:
    """One thing the participant did. `what`: link_opened, started, stopped or submitted;
    `page`/`pages` for stopped (None when the page did not say); `review`: stopped on the
    review screen, answers given but not sent."""

    at: datetime
    what: str
    assessment_id: int | None = None
    code: str | None = None
    page: int | None = None
    pages: int | None = None
    review: bool = False


def facts(ctx: ServiceContext, p: Participant) -> list[Fact]:
    """Everything the participant did, in time order (three statements; drafts are read for
    their position and time only, never their answers)."""
    found = [Fact(at, "link_opened") for at in ctx.session.scalars(
        select(LinkOpen.opened_at).where(LinkOpen.participant_id == p.id))]
    started = ctx.session.execute(select(
        Assessment.id, Assessment.code, Assessment.started_at, Assessment.completed_at).where(
        Assessment.participant_id == p.id, Assessment.started_at.is_not(None))).all()
    saves: dict[int, list[tuple[Any, datetime]]] = {}
    for assessment_id, kept, saved_at in ctx.session.execute(
            select(Draft.assessment_id, Draft.position, Draft.updated_at)
            .join(Assessment, Assessment.id == Draft.assessment_id)
            .where(Assessment.participant_id == p.id)):
        saves.setdefault(assessment_id, []).append((kept, saved_at))
    for a_id, code, started_at, completed_at in started:
        found.append(Fact(started_at, "started", a_id, code))
        if completed_at is not None:
            found.append(Fact(completed_at, "submitted", a_id, code))
        elif a_id in saves:
            found.append(_stopped(a_id, code, saves[a_id]))
    return sorted(found, key=lambda f: f.at)


def _stopped(assessment_id: int, code: str, saves: list[tuple[Any, datetime]]) -> Fact:
    kept: Mapping[str, Any] = latest_position(position for position, _ in saves) or {}
    page, pages = kept.get("page"), kept.get("pages")
    return Fact(max(saved_at for _, saved_at in saves), "stopped", assessment_id, code,
                page if isinstance(page, int) else None,
                pages if isinstance(pages, int) else None,
                review=kept.get("screen") == REVIEW_SCREEN)
