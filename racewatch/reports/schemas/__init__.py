"""The JSON Schemas (draft 2020-12) of the JSON report and of one line of a log, as shipped
beside this file: ``report.schema.json`` and ``log-line.schema.json`` (docs/json-report.md).

A tool that reads racewatch's output validates against the schema of the racewatch that
wrote it; ``validator()`` needs the ``jsonschema`` package, which racewatch itself does not.
"""

from __future__ import annotations

import json
from pathlib import Path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

NAMES = ("report", "log-line")


def path(name: str) -> Path:
    """The file of the schema ``name`` ("report" or "log-line")."""
    if name not in NAMES:
        raise ValueError(f"no schema named {name!r}: expected one of {', '.join(NAMES)}")
    return Path(__file__).with_name(f"{name}.schema.json")


def load(name: str) -> dict[str, Any]:
    with open(path(name), encoding="utf-8") as f:
        return json.load(f)


def validator(name: str):
    """A ``jsonschema`` validator for the schema ``name``, the other schema registered for
    the references between them (a log line's race is the report's)."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    schemas = {n: load(n) for n in NAMES}
    registry = Registry().with_resources(
        (s["$id"], Resource.from_contents(s)) for s in schemas.values())
    return Draft202012Validator(schemas[name], registry=registry,
                                format_checker=Draft202012Validator.FORMAT_CHECKER)
