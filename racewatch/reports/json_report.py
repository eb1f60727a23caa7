"""The JSON report of SPEC section 4, and the JSON-lines log of staging runs."""

from __future__ import annotations

import json

from .files import write_atomically
from .model import Race, Report


def dumps(report: Report) -> str:
    return json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n"


def write(report: Report, path: str) -> None:
    """Write the report atomically (a reader never sees half a file)."""
    write_atomically(path, dumps(report))


def race_line(race: Race) -> str:
    """One race as one line of a log (``log_path``)."""
    return json.dumps(race.to_json(), ensure_ascii=False, separators=(",", ":")) + "\n"
