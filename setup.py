"""Packaging beyond what pyproject.toml can say: the top-level data folders become package
data, so a wheel carries them and `pro_server.resources` finds them installed or in place.

- questionnaires/ -> pro_server.questionnaires (instrument definitions and their schema)
- migrations/     -> pro_server.migrations     (Alembic env.py and versions/)
- static/         -> pro_server.static         (the participant and dashboard pages)
- studies/        -> pro_server.example_studies (the example study folders, `pro study apply`)

Each folder and its sub-folders are listed as packages (setuptools has no other notion of
a data folder); their files are package data.
"""

from setuptools import find_namespace_packages, setup

DATA_FOLDERS = {
    "pro_server.questionnaires": "questionnaires",
    "pro_server.migrations": "migrations",
    "pro_server.static": "static",
    "pro_server.example_studies": "studies",
}
NOT_DATA = ["__pycache__", "*.__pycache__"]


def _folders(package: str, folder: str) -> dict[str, str]:
    subfolders = find_namespace_packages(where=folder, exclude=NOT_DATA)
    return {package: folder,
            **{f"{package}.{sub}": f"{folder}/{sub.replace('.', '/')}" for sub in subfolders}}


data = {name: path for package, folder in DATA_FOLDERS.items()
        for name, path in _folders(package, folder).items()}

setup(
    packages=[*find_namespace_packages(include=["pro_server", "pro_server.*"], exclude=NOT_DATA),
              *data],
    package_dir=data,
    package_data={"pro_server": ["**/*.yaml", "**/*.json"], **{name: ["*"] for name in data}},
    exclude_package_data={"": ["*.pyc"]},
)
