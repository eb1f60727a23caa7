"""The tables a free-threaded CPython 3.13 frees late: the pure-Python core's part of what
the compiled core's ``late_free.c`` does, and says why.

A dict that more than one thread reads frees a table it outgrows only once no thread can
still read it: the table waits on a queue of the resizing thread, which CPython 3.13 looks
at only when it holds 254 entries, whatever their size.  A shadow's locations churn as the
sweep (shadow._sweep) lets go of absent keys, so after about 256 KiB of such tables the
sweeping thread fills its queue with small frees of its own (the arrays of a list that
another thread made), and CPython frees what no thread can still read.  Nothing to do on
GIL builds, where a table is freed at once, nor on 3.14, which looks at the queue by the
memory it holds (CPython's gh-133136, fixed by gh-136480 in 3.14 and after 3.13.5).
"""

from __future__ import annotations

import sys

_QUEUE = 256  # CPython's queue: 254 entries a chunk
_BYTES = 256 * 1024
_TABLE_BYTES_PER_KEY = 48  # an entry, its index and the table's slack

ACTIVE = sys.version_info[:2] == (3, 13) and "t" in getattr(sys, "abiflags", "")

_pad: list = []  # made by the thread that loads racewatch
_late = [0]  # the tables let go since the last release (a race here only moves it)


def _resize_pad() -> None:
    """Two of the list's arrays freed, late, once another thread has resized it."""
    for _ in range(5):
        _pad.append(None)
    _pad.clear()


def thread_started() -> None:
    """The calling thread resizes the list once: after it, one made by another thread, the
    list's old arrays go on the queue whichever thread resizes it."""
    if ACTIVE:
        _resize_pad()


def swept(keys: int) -> None:
    """A sweep left ``keys`` locations in a shadow's table."""
    if not ACTIVE:
        return
    _late[0] += keys * _TABLE_BYTES_PER_KEY
    if _late[0] < _BYTES:
        return
    _late[0] = 0
    for _ in range(_QUEUE // 2):
        _resize_pad()
