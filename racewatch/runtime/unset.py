"""Which attributes and globals a read found unset (None, or no such attribute): the
evidence that a check-then-act on one of them is a lazy initialization, the first-use fill
of a cache (racewatch.reports.patterns says why it takes a value the accesses do not show).

One entry per (shadow serial, name), made by a checked read (the first of its thread's
epoch) that found the location unset.  At most ``LIMIT`` entries: past that the set starts
over, and a race on a name it no longer holds is named a check-then-act, which a lazy
initialization also is.  The compiled core keeps the same set (``_core.unset_seen``) and
fills it from its own attribute and global hooks.
"""

from __future__ import annotations

from .core import COMPILED

LIMIT = 1 << 16  # the compiled core's too (racewatch/_core/object.c, UNSET_LIMIT)

SEEN: set = COMPILED.unset_seen if COMPILED is not None else set()


def saw_unset(sh, name) -> None:
    """A read of location ``name`` of shadow ``sh`` found it unset."""
    if len(SEEN) >= LIMIT:
        SEEN.clear()
    SEEN.add((sh.serial, name))


def seen_unset(sh, name) -> bool:
    """Whether a read of location ``name`` of shadow ``sh`` ever found it unset."""
    try:
        return (sh.serial, name) in SEEN
    except TypeError:  # an unhashable key (a dict's): never an attribute or a global
        return False
