"""Instruments as data (questionnaires/*.yaml), answer validation and exact scoring."""

from pro_server.instruments.answers import validate_answers
from pro_server.instruments.definitions import (
    DefinitionError,
    InstrumentDefinition,
    InstrumentRegistry,
    UnknownInstrumentError,
    UnsupportedLanguageError,
    default_registry,
    load_definition,
    load_registry,
)
from pro_server.instruments.scoring import InvalidAnswersError, Score, ScoreResult, score

__all__ = [
    "DefinitionError",
    "InstrumentDefinition",
    "InstrumentRegistry",
    "InvalidAnswersError",
    "Score",
    "ScoreResult",
    "UnknownInstrumentError",
    "UnsupportedLanguageError",
    "default_registry",
    "load_definition",
    "load_registry",
    "score",
    "validate_answers",
]
