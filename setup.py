"""Packaging beyond what pyproject.toml can say: the top-level data folders become package
data, so a wheel carries them and `pro_server.resources` finds them installed or in place.

- questionnaires/ -> pro_server.questionnaires (instrument definitions and their schema)
- migrations/     -> pro_server.migrations     (Alembic env.py and versions/)
- static/         -> pro_server.static         (the participant and dashboard pages)
"""

from setuptools import find_namespace_packages, setup

DATA_FOLDERS = {
    "pro_server.questionnaires": "questionnaires",
    "pro_server.migrations": "migrations",
    "pro_server.static": "static",
}

setup(
    packages=[*find_namespace_packages(include=["pro_server", "pro_server.*"],
                                       exclude=["*.__pycache__"]), *DATA_FOLDERS],
    package_dir=DATA_FOLDERS,
    package_data={
        "pro_server": ["**/*.yaml", "**/*.json"],
        **{package: ["**/*"] for package in DATA_FOLDERS},
    },
    exclude_package_data={"": ["__pycache__/*", "*.pyc", "**/__pycache__/*"]},
)
