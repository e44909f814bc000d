"""Study folders on disk: copies of the shipped examples that a test may break or amend."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from pro_server.instruments.definitions import EXAMPLE_STUDIES_DIR
from pro_server.instruments.definitions import default_registry as instrument_registry
from pro_server.protocol.definitions import default_registry as protocol_registry
from pro_server.study_folders.cli import study_cli

RES001 = EXAMPLE_STUDIES_DIR / "res001-dmpm-02"
EXAMPLE3 = EXAMPLE_STUDIES_DIR / "example-3inf-14"
EXAMPLES = [RES001, EXAMPLE3]


@pytest.fixture
def copy_study(tmp_path: Path) -> Callable[[Path], Path]:
    """A copy of an example study folder under tmp_path/studies/<name>."""

    def copy(example: Path) -> Path:
        return Path(shutil.copytree(example, tmp_path / "studies" / example.name))

    return copy


def edit(file: Path, old: str, new: str) -> int:
    """Replace `old` (once) in a file; returns the 1-based line the new text starts on."""
    text = file.read_text("utf-8")
    assert text.count(old) == 1, f"{old!r} is not once in {file}"
    file.write_text(text.replace(old, new), "utf-8")
    return text[: text.index(old)].count("\n") + 1


def run_study(*args: str) -> Result:
    """`pro study ...` as a user types it (validate and preview need no database)."""
    return CliRunner().invoke(study_cli, [str(a) for a in args])


@pytest.fixture
def studies_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """PRO_STUDIES_PATH set to tmp_path/studies; the server's registries reload from it."""
    path = tmp_path / "studies"
    path.mkdir(exist_ok=True)
    monkeypatch.setenv("PRO_STUDIES_PATH", str(path))
    reload_registries()
    yield path
    monkeypatch.delenv("PRO_STUDIES_PATH")
    reload_registries()


def reload_registries() -> None:
    """What restarting the server does after a study folder changed."""
    protocol_registry.cache_clear()
    instrument_registry.cache_clear()
