"""Where the study folders are: the directories on PRO_STUDIES_PATH (default: the shipped
examples), each a study folder (study.yaml) or a folder of them.

The kernel knows this much so that the protocol and instrument registries can load what the
study folders hold without importing the studies feature, which reads and applies them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import yaml

from pro_server.resources import example_studies_dir

STUDY_FILE = "study.yaml"
INSTRUMENTS_DIR = "instruments"
STUDIES_PATH_VARIABLE = "PRO_STUDIES_PATH"


def studies_path(environ: Mapping[str, str] | None = None) -> tuple[Path, ...]:
    """The directories on PRO_STUDIES_PATH (default: the shipped examples)."""
    raw = (os.environ if environ is None else environ).get(STUDIES_PATH_VARIABLE, "")
    parts = [Path(p) for p in raw.split(os.pathsep) if p.strip()]
    return tuple(parts) or (example_studies_dir(),)


def study_dirs(paths: tuple[Path, ...] | None = None) -> list[Path]:
    """Every study folder on the path: a directory with study.yaml, or its subdirectories
    that have one."""
    found: list[Path] = []
    for directory in paths if paths is not None else studies_path():
        if (directory / STUDY_FILE).is_file():
            found.append(directory)
        elif directory.is_dir():
            found.extend(sorted(d for d in directory.iterdir() if (d / STUDY_FILE).is_file()))
        else:
            raise FileNotFoundError(
                f"{directory}: {STUDIES_PATH_VARIABLE} names a directory that does not exist")
    unique = {folder.resolve(): folder for folder in reversed(found)}  # first one wins
    return [folder for folder in found if unique[folder.resolve()] is folder]


def protocol_files(paths: tuple[Path, ...] | None = None) -> list[Path]:
    """The protocol version files the study folders on the path list (what the server runs)."""
    files = []
    for folder in study_dirs(paths):
        listed = yaml.safe_load((folder / STUDY_FILE).read_text(encoding="utf-8")) or {}
        files.extend(folder / name for name in listed.get("protocol_versions") or ())
    return files


def instrument_dirs(paths: tuple[Path, ...] | None = None) -> list[Path]:
    """The study folders' own instrument directories (added to questionnaires/)."""
    return [d / INSTRUMENTS_DIR for d in study_dirs(paths) if (d / INSTRUMENTS_DIR).is_dir()]
