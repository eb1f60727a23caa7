"""The annotation API: edges and ignored blocks a program declares itself."""

from __future__ import annotations

from .settings import SETTINGS
from .shadow import REGISTRY
from .sync import SyncTable, release_join
from .sync import acquire as _acquire

_objects = SyncTable()  # annotated object -> SyncVar


def release(obj: object) -> None:
    if SETTINGS.enabled:
        ts = REGISTRY.current()
        if not ts.busy:
            release_join(_objects.setdefault(obj), ts)


def acquire(obj: object) -> None:
    if SETTINGS.enabled:
        ts = REGISTRY.current()
        if not ts.busy:
            sv = _objects.get(obj)
            if sv is not None:
                _acquire(sv, ts)


def ignore_begin() -> None:
    REGISTRY.current().busy += 1


def ignore_end() -> None:
    ts = REGISTRY.current()
    if ts.busy > 0:
        ts.busy -= 1
