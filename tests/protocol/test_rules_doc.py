"""docs/protocol-rules.md links every rule to the test that proves it; the links stay true."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "protocol-rules.md"
LINK = re.compile(r"\[(test_\w+)\]\((\.\./tests/[\w/]+\.py)\)")


def test_every_linked_test_exists_in_the_linked_file():
    text = DOC.read_text(encoding="utf-8")
    links = LINK.findall(text)
    assert len(links) >= 30
    missing = [(name, path) for name, path in links
               if not re.search(rf"^def {name}\(", (DOC.parent / path).resolve().read_text(
                   encoding="utf-8"), re.MULTILINE)]
    assert missing == []


def test_every_rule_has_a_test_link():
    rules = [line for line in DOC.read_text(encoding="utf-8").splitlines()
             if line.startswith("- **")]
    text = DOC.read_text(encoding="utf-8")
    blocks = re.split(r"\n(?=- \*\*)|\n(?=## )", text)
    assert len(rules) >= 15
    assert [b.splitlines()[0] for b in blocks if b.startswith("- **") and not LINK.search(b)
            ] == []
