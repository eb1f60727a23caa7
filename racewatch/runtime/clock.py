"""Vector clocks: one type for threads and for synchronization objects.

A clock is a plain ``list[int]`` indexed by thread *slot* (see ``threads.py``).
A missing entry means zero.  Threads own their clock and change it in place;
a synchronization object's clock is never changed in place: a release builds a
new list and publishes it with one reference store, so a thread that reads it
without a lock always sees a whole clock (this keeps acquire lock-free, also on
free-threaded builds).
"""

from __future__ import annotations

VectorClock = list  # list[int], indexed by slot


def entry(clock: VectorClock, slot: int) -> int:
    """The clock's value for ``slot`` (zero when the clock has no entry)."""
    return clock[slot] if slot < len(clock) else 0


def join_into(target: VectorClock, source: VectorClock) -> None:
    """``target := target ⊔ source``, in place (target is owned by the caller)."""
    n = len(source)
    if len(target) < n:
        target.extend([0] * (n - len(target)))
    for i in range(n):
        v = source[i]
        if v > target[i]:
            target[i] = v


def joined(a: VectorClock | None, b: VectorClock) -> VectorClock:
    """A new clock ``a ⊔ b`` (``a`` may be None for the empty clock)."""
    if a is None:
        return list(b)
    if len(a) < len(b):
        a, b = b, a
    result = list(a)
    for i in range(len(b)):
        if b[i] > result[i]:
            result[i] = b[i]
    return result


def covers(clock: VectorClock, other: VectorClock) -> bool:
    """True when ``other ⊑ clock``: everything ``other`` saw, ``clock`` saw too."""
    n = len(clock)
    for i, v in enumerate(other):
        if v and (i >= n or v > clock[i]):
            return False
    return True
