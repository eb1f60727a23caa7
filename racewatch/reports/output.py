"""Where racewatch's own text goes: the stderr the process had when racewatch started.

A program may replace ``sys.stderr`` while it runs (``contextlib.redirect_stderr`` into a
buffer it inspects, ``sys.stderr = None`` in a daemon, a logging tee); racewatch's reports
still go where they went at start-up, never into the program's buffer.  A write that
fails (no stderr at all, a closed stream, a full disk, a broken pipe) is counted, never
raised: reporting is racewatch's problem, not the program's.  ``say_lost`` tells of the
lost reports once, at exit, if anything can still be written.
"""

from __future__ import annotations

import os
import sys


class Output:
    """racewatch's stderr, saved when the detector starts."""

    def __init__(self, stream=None):
        self.stream = sys.stderr if stream is None else stream
        self.lost = 0                  # reports that could not be written
        self.error: str | None = None  # why the first one could not

    def write(self, text: str) -> bool:
        """Write a report and flush; False (and counted) when that fails."""
        failure = self._write(text)
        if failure is None:
            return True
        self.lost += 1
        if self.error is None:
            self.error = failure
        return False

    def say(self, text: str) -> None:
        """A line at exit: on the saved stream, else straight to file descriptor 2."""
        if self._write(text) is not None:
            try:
                os.write(2, text.encode("utf-8", "backslashreplace"))
            except OSError:
                pass

    def _write(self, text: str) -> str | None:
        stream = self.stream
        try:
            if stream is None:
                return "the process has no stderr"
            stream.write(text)
            stream.flush()
        except Exception as exc:  # noqa: BLE001 -- see the module docstring
            return _describe(exc)
        return None

    def say_lost(self) -> None:
        if self.lost:
            n = self.lost
            self.say(f"racewatch: warning: {n} report{'s' if n != 1 else ''} could not be "
                     f"written to stderr ({self.error})\n")


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
