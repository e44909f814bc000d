"""Dispatch from a definition's ``scoring.method`` to the module that implements it.

A scoring method is a module with ``ALGORITHM``, ``ALGORITHM_VERSION``, ``score_keys(params)``,
``check_params(definition)`` (load-time cross-checks) and ``compute(definition, answers)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from pro_server.instruments.answers import validate_answers
from pro_server.instruments.scoring import haq_di, promis_global, rand36, single_value, vas
from pro_server.instruments.scoring.result import Score, ScoreResult

if TYPE_CHECKING:
    from pro_server.instruments.definitions import InstrumentDefinition


class ScoringMethod(Protocol):
    ALGORITHM: str
    ALGORITHM_VERSION: str

    def score_keys(self, params: Mapping[str, Any]) -> list[str]: ...

    def check_params(self, definition: InstrumentDefinition) -> list[str]: ...

    def compute(
        self, definition: InstrumentDefinition, answers: Mapping[str, Any]
    ) -> dict[str, Score]: ...


METHODS: Mapping[str, ScoringMethod] = {
    "single_value": single_value,
    "vas": vas,
    "haq_di": haq_di,
    "rand36": rand36,
    "promis_global": promis_global,
}


class InvalidAnswersError(ValueError):
    """The answers break the definition (wrong type, range, option code or unknown item)."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__(f"invalid answers: {errors}")


def check_definition(definition: InstrumentDefinition) -> list[str]:
    """Load-time check that the definition's scoring section matches the code that will run it."""
    spec = definition.scoring
    method = METHODS.get(spec.method)
    if method is None:
        return [f"unknown scoring method {spec.method!r}"]
    errors = []
    if (spec.algorithm, spec.algorithm_version) != (method.ALGORITHM, method.ALGORITHM_VERSION):
        errors.append(
            f"scoring declares {spec.algorithm} {spec.algorithm_version}, the code implements "
            f"{method.ALGORITHM} {method.ALGORITHM_VERSION}"
        )
    errors += method.check_params(definition)
    produced = method.score_keys(spec.params)
    if sorted(produced) != sorted(definition.score_keys):
        errors.append(f"scores must be exactly {produced}, got {definition.score_keys}")
    return errors


def score(definition: InstrumentDefinition, answers: Mapping[str, Any], *,
          checked: bool = False) -> ScoreResult:
    """Score a (possibly partial) answer set; every declared score key is present in the result.

    Raises :class:`InvalidAnswersError` if any answer breaks the definition: scoring never guesses.
    ``checked``: the caller has just found no error in these answers with `validate_answers`
    (of this definition; complete or not), so they are not checked again.
    """
    errors = {} if checked else validate_answers(definition, answers, complete=False)
    if errors:
        raise InvalidAnswersError(errors)
    method = METHODS[definition.scoring.method]
    computed = method.compute(definition, answers)
    return ScoreResult(
        instrument_code=definition.code,
        instrument_version=definition.version,
        algorithm=method.ALGORITHM,
        algorithm_version=method.ALGORITHM_VERSION,
        scores={key: computed[key] for key in definition.score_keys},
    )
