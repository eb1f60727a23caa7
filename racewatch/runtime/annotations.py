"""The annotation API: edges and ignored blocks a program declares itself."""

from __future__ import annotations

from . import stacks
from .settings import SETTINGS
from .shadow import REGISTRY
from .sync import SyncTable, SyncVar, new_label, release_join
from .sync import acquire as _acquire

# annotated object -> SyncVar
_objects = SyncTable(factory=lambda: SyncVar(new_label("annotation")))


def release(obj: object) -> None:
    if SETTINGS.enabled:
        ts = REGISTRY.current()
        if not ts.busy:
            release_join(_objects.setdefault(obj), ts, "racewatch.release")


def acquire(obj: object) -> None:
    if SETTINGS.enabled:
        ts = REGISTRY.current()
        if not ts.busy:
            sv = _objects.get(obj)
            if sv is not None:
                _acquire(sv, ts, "racewatch.acquire")


def ignore_begin() -> None:
    # Accesses only: a lock released inside the block must still order the next acquirer,
    # or racewatch would report races that synchronization prevents.
    REGISTRY.current().ignoring += 1


def ignore_end() -> None:
    ts = REGISTRY.current()
    if ts.ignoring > 0:
        ts.ignoring -= 1


stacks.leave_out_frames_of(globals())
