"""racewatch: a happens-before data-race detector for Python threads.

The public API.  Importing ``racewatch`` is cheap: the detector loads on ``start()``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

TYPE_CHECKING = False  # typing costs start-up time; annotations are not evaluated
if TYPE_CHECKING:
    from typing import Any

__version__ = "0.1.0"

__all__ = ["start", "stop", "running", "races", "report", "acquire", "release", "ignore",
           "is_tracked", "track", "__version__"]


def start(**options: Any):
    """Start detecting races; options are those of SPEC section 5 (``stack_depth=16``...).

    Options not given come from ``[tool.racewatch]`` and ``RACEWATCH_OPTIONS``.  Modules
    imported from now on, under the current directory, are instrumented, and so are the
    functions they defined already.  Code that is running as ``start()`` is called (the
    script's module level, the function that calls it) is not: when it goes on to build
    dicts, a one-line warning on stderr says so.  Start before the program makes its
    locks and threads: those made earlier are invisible.  Calling it again while running
    returns the running session.
    """
    import sys

    from . import session
    from .config import resolve_options

    caller = sys._getframe(1)
    already = session.current()
    active = session.start(resolve_options(cli=options))
    if already is None and active.hook is not None:
        _warn_of_running_code(caller, active.hook.policy)
    return active


def _warn_of_running_code(caller, policy) -> None:
    import os
    import sys

    from .instrument.loaded import running_untracked

    frames = running_untracked(caller, policy)
    if not frames:
        return
    frame = frames[0]
    code = frame.f_code
    where = "the module level" if code.co_name == "<module>" else f"{code.co_name}()"
    sys.stderr.write(
        f"racewatch: warning: start() was called while {where} of "
        f"{os.path.basename(code.co_filename)} was running: the dicts it goes on to make "
        f"(line {frame.f_lineno} on) are not tracked; run the program with 'racewatch run', "
        "or move that code into a function defined before start() or a module imported "
        "after it\n")
    sys.stderr.flush()


def stop():
    """Stop detecting, write the reports the options ask for, return the final report."""
    from . import session

    return session.stop()


def running() -> bool:
    from . import session

    return session.current() is not None


def report():
    """The report so far (``racewatch.reports.model.Report``), or None when stopped."""
    from . import session

    s = session.current()
    return s.report() if s is not None else None


def races() -> list:
    """The distinct races found so far."""
    r = report()
    return r.races if r is not None else []


def release(obj: object) -> None:
    """Declare a release on ``obj``: a later ``acquire(obj)`` is ordered after this point.

    For synchronization racewatch cannot see (like Go's ``race.Release``).  Objects that
    cannot be weakly referenced are kept alive by racewatch.
    """
    from .runtime import annotations

    annotations.release(obj)


def acquire(obj: object) -> None:
    """Declare an acquire on ``obj``: ordered after every earlier ``release(obj)``."""
    from .runtime import annotations

    annotations.acquire(obj)


@contextmanager
def ignore() -> Iterator[None]:
    """Accesses made by this thread inside the block are neither checked nor recorded.

    Synchronization inside the block still counts: a lock released there orders the next
    thread that takes it.
    """
    from .runtime import annotations

    annotations.ignore_begin()
    try:
        yield
    finally:
        annotations.ignore_end()


def is_tracked(obj: object) -> bool:
    """True for a dict, list or set that racewatch tracks."""
    from .runtime.tracked import is_tracked as _is_tracked

    return _is_tracked(obj)


def track(container):
    """A tracked copy of ``container`` (a dict, defaultdict, list or set), for one that code
    racewatch does not instrument made.

    While the detector is stopped, or when the ``watch`` option leaves its kind out, the
    copy is a plain one.
    """
    from collections import defaultdict

    from .runtime.tracked import track as _track

    t = type(container)
    if t is defaultdict:
        return _track(defaultdict(container.default_factory, container))
    if t in (list, set):
        return _track(t(container))
    return _track(dict(container))
