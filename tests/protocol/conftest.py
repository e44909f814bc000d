"""Fixtures for the pure protocol tests: the packaged protocols and small record factories."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from pro_server.instruments.definitions import EXAMPLE_STUDIES_DIR
from pro_server.protocol.definitions import (
    ProtocolDefinition,
    ProtocolRegistry,
    load_protocols,
    parse_protocol,
)
from pro_server.protocol.planner import InfusionRecord

STUDY = "RES001-DMPM-02"
PROTOCOL_DIR = EXAMPLE_STUDIES_DIR / "res001-dmpm-02" / "protocol"


@pytest.fixture(scope="session")
def registry() -> ProtocolRegistry:
    return load_protocols(PROTOCOL_DIR)


@pytest.fixture(scope="session")
def v1(registry: ProtocolRegistry) -> ProtocolDefinition:
    return registry.get(STUDY, 1)


@pytest.fixture(scope="session")
def v2(registry: ProtocolRegistry) -> ProtocolDefinition:
    return registry.get(STUDY, 2)


@pytest.fixture(scope="session")
def _v2_document() -> dict[str, Any]:
    return yaml.safe_load((PROTOCOL_DIR / "res001-dmpm-02.v2.yaml").read_text("utf-8"))


@pytest.fixture
def v2_document(_v2_document: dict[str, Any]) -> dict[str, Any]:
    """A fresh, mutable copy of the decoded v2 file (YAML aliases expanded)."""
    return copy.deepcopy(_v2_document)


@pytest.fixture
def build_protocol() -> Callable[[dict[str, Any]], ProtocolDefinition]:
    return lambda document: parse_protocol(document, source_name="test")


@pytest.fixture
def write_protocol(tmp_path: Path) -> Callable[[str, Any], Path]:
    """Write a document (or raw YAML text) as ``tmp_path/<name>``; returns the directory."""

    def write(name: str, document: Any) -> Path:
        text = document if isinstance(document, str) else yaml.safe_dump(document)
        (tmp_path / name).write_text(text, encoding="utf-8")
        return tmp_path

    return write


@pytest.fixture
def given() -> Callable[[int, str], InfusionRecord]:
    """``given(2, "2026-06-03 10:00")``: infusion 2 given at that local wall-clock time."""
    return lambda number, local: InfusionRecord(
        number, "given", given_at_local=datetime.fromisoformat(local)
    )


@pytest.fixture
def utc() -> Callable[[str], datetime]:
    """``utc("2026-03-10 04:00")``: an aware UTC datetime."""
    return lambda text: datetime.fromisoformat(text + "+00:00")
