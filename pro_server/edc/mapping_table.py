"""The identifier table of docs/edc-mapping.md, generated from the definitions (a test keeps
the document in step: `python -m pro_server.edc.mapping_table` prints it)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from pro_server.edc import catalogue as cat
from pro_server.instruments import default_registry
from pro_server.instruments.definitions import InstrumentDefinition

HEADER = ("| instrument | what | ODM ItemOID | REDCap column | QSTESTCD | QSTEST |\n"
          "| --- | --- | --- | --- | --- | --- |")


def _key(test: cat.QsTest) -> tuple[str, str | None]:
    """Scores keyed apart: a score may share its key with an item (pain_nrs), and must not
    overwrite the item's row."""
    if test.score is not None:
        return "score", test.score.key
    assert test.item is not None  # a test is an item, an option of one, or a score
    return test.item.id, test.option


def table_rows(definitions: Iterable[InstrumentDefinition]) -> Iterator[str]:
    for d in definitions:
        tests = {_key(t): t for t in cat.qs_tests(d)}
        for item in d.items:
            base = cat.redcap_field(d.code, item.sdtm_testcd)
            if item.type == cat.MULTI:
                for n, option in enumerate(item.options, start=1):
                    t = tests[(item.id, str(option.code))]
                    yield (f"| {d.code} {d.version} | {item.id} = {option.code} (Y/N) | "
                           f"{cat.item_oid(d.code, item.id, str(option.code))} | "
                           f"{base}___{n} | {t.testcd} | {t.test} |")
            else:
                t = tests[(item.id, None)]
                yield (f"| {d.code} {d.version} | {item.id} ({item.type}) | "
                       f"{cat.item_oid(d.code, item.id)} | {base} | {t.testcd} | {t.test} |")
        for score in d.scores:
            t = tests[("score", score.key)]
            yield (f"| {d.code} {d.version} | score {score.key} | "
                   f"{cat.score_oid(d.code, score.key)} | "
                   f"{cat.redcap_field(d.code, score.sdtm_testcd)} | {t.testcd} | {t.test} |")


def table() -> str:
    return "\n".join([HEADER, *table_rows(default_registry().all())])


if __name__ == "__main__":
    print(table())
