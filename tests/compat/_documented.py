"""A helper module with a docstring, a __future__ import and dicts (imported by docstrings.py)."""

from __future__ import annotations

TABLE = {"one": 1}


def lookup(key: str) -> dict[str, int]:
    """Look key up in TABLE."""
    return {key: TABLE[key]}
