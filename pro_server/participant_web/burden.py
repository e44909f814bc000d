"""What a survey asks of a participant, said before they start: the expected time from the
instruments' item counts, and how much of a started survey is done."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from pro_server.instruments import InstrumentDefinition

SECONDS_PER_ITEM = 10
"""Ten seconds per question, the one figure every estimate here is made from.

Published completion times put these instruments at roughly 5 to 15 seconds a question: the
HAQ-DI (about 30 questions) "takes 5 minutes to complete" (Bruce & Fries, Health Qual Life
Outcomes 2003;1:20), and the SF-36, whose 36 questions the RAND-36 shares, 5 to 10 minutes
(Ware, Spine 2000;25:3130-9). Our participants are older and have weak muscles, and answer
on a phone, so we take a figure in the upper half of that range rather than the fastest; an
estimate that is too short breaks the participant's trust more than one that is too long.
"""


def asked_items(definition: InstrumentDefinition) -> list[str]:
    """The questions every participant is asked (follow-ups shown only after a given answer
    are left out: most participants never see them)."""
    return [item.id for item in definition.items if item.enable_when is None]


def expected_minutes(definitions: Iterable[InstrumentDefinition]) -> int:
    """Whole minutes, rounded to the nearest and at least one."""
    seconds = SECONDS_PER_ITEM * sum(len(asked_items(d)) for d in definitions)
    return max(1, round(seconds / 60))


def percent_done(definitions: Iterable[InstrumentDefinition],
                 answers: Mapping[str, Mapping[str, Any]]) -> int:
    """Of the questions every participant is asked, the share answered so far, rounded down
    (a survey shows 100 only when every one of them is answered). `answers` holds each
    instrument's draft answers as stored: item id to {"value": ...}."""
    asked = answered = 0
    for definition in definitions:
        given = answers.get(definition.code, {})
        for item_id in asked_items(definition):
            asked += 1
            answered += (given.get(item_id) or {}).get("value") is not None
    return math.floor(100 * answered / asked) if asked else 0
