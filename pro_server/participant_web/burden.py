"""What a survey asks of a participant, said before they start: the expected time from the
instruments' item counts, and how much of a started survey is done."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from pro_server.instruments import InstrumentDefinition

SECONDS_PER_ITEM = 10
"""Ten seconds per question, the one figure every estimate here is made from.

A working figure of ours, not a manual's: the instrument notes we score from (the shared
reference's instruments.md) give no completion time for these instruments. The one published
figure we could check is longer: NIDA Data Share's page on the SF-36, whose 36 questions the
RAND-36 shares, says "Administration time is about 10-12 minutes"
(https://datashare.nida.nih.gov/instrument/sf-36-health-status-questionnaire), some 17-20 s a
question, in no particular mode. One tap a question on a phone may be quicker, but our
participants are older and have weak muscles: check this figure against the study's own
start and send times before relying on it.
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
