"""The race log of staging runs (``log_path``): one JSON line per race, the moment it is found.

A race line is the RACE object of SPEC section 4 plus ``"pid"`` and ``"format"``; it
carries the race's count so far, and the log gets a newer line for a race whose count grew
by the time the process exits normally, followed by a summary line ``{"racewatch": ...,
"format": 1, "pid": ..., "summary": {...}}``.  Every line says its format: a process
killed before its summary line leaves race lines a reader can still check.  Each line is
one ``os.write`` on a file opened for appending, so a process killed with SIGKILL loses no
race already written, and processes sharing one file never interleave within a line.
Reading a log keeps, per process and race, the last line.

A log that cannot be written (a full disk, a file system gone read-only) costs the
program nothing: the lines that could not be written are counted and said at exit.  A
line the disk filled up in the middle of is left as the file's last line (nothing is
written after it), and the reader skips such a torn last line with a warning.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

from ..config import expand_pid
from ..records import field, record
from .model import FORMAT, Race, Report, Summary, problems


class RaceLog:
    """The log file of one process."""

    def __init__(self, template: str):
        self.template = template
        self.path = ""
        self._fd: int | None = None
        self._written: dict[tuple, int] = {}  # signature -> count in the last line
        self.lost: set[tuple] = set()  # signatures of races whose line could not be written
        self.summary_lost = False
        self.error: str | None = None  # why the first line could not be written
        self._torn = False             # a line was cut short: nothing may follow it
        self.open()

    def open(self) -> None:
        self.path = expand_pid(self.template)
        directory = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(directory, exist_ok=True)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._written = {}

    def reopen_after_fork(self) -> None:
        """A forked child gets its own file (``%p``), not its parent's descriptor."""
        self.close()
        self.lost = set()
        self.summary_lost = False
        self.error = None
        self._torn = False
        try:
            self.open()
        except OSError as exc:  # the child's own file cannot be made: count its lines
            self.error = f"{exc.strerror or exc}"

    def say_lost(self) -> str | None:
        """One line about what could not be written, or None."""
        n = len(self.lost)
        if not n and not self.summary_lost:
            return None
        what = f"{n} race{'s' if n != 1 else ''}" if n else "the summary"
        return f"racewatch: warning: {what} could not be written to {self.path} ({self.error})"

    def _append(self, data: dict) -> bool:
        """Write one whole line; False when it could not be written."""
        if self._fd is None or self._torn:
            return False
        import json  # here: a run that writes no log does not pay for its import

        line = (json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"
                ).encode("utf-8", "backslashreplace")
        written = 0
        try:
            while written < len(line):  # a short write: the disk filled up in the line
                written += os.write(self._fd, line[written:])
        except OSError as exc:
            if self.error is None:
                self.error = f"{exc.strerror or exc}"
            self._torn = written > 0
            return False
        return True

    def write_race(self, race: Race) -> None:
        if self._append({**race.to_json(), "pid": os.getpid(), "format": FORMAT}):
            self._written[race.signature] = race.count
            self.lost.discard(race.signature)
        elif race.signature not in self._written:
            self.lost.add(race.signature)

    def write_final(self, report: Report) -> None:
        """At a normal exit: the races whose count grew, then the summary."""
        for race in report.races:
            if self._written.get(race.signature) != race.count:
                self.write_race(race)
        self.summary_lost = not self._append({"racewatch": report.version, "format": FORMAT,
                                              "pid": os.getpid(),
                                              "summary": report.summary.to_json()})

    def close(self) -> None:
        if self._fd is not None:
            try:
                os.close(self._fd)
            except OSError:
                pass
            self._fd = None


@record
class ProcessLog:
    """What one process left in the logs."""

    pid: int
    races: dict[tuple, Race] = field(default_factory=dict)
    summary: Summary | None = None
    version: str = ""

    def report(self) -> Report:
        summary = self.summary or Summary(races=len(self.races), pid=self.pid)
        summary.races = len(self.races)
        summary.problems = len(problems(list(self.races.values())))
        if not summary.occurrences:
            summary.occurrences = sum(r.count for r in self.races.values())
        return Report(self.version, list(self.races.values()), summary)


class LogError(ValueError):
    """A file that is not a racewatch log or report: the message names it and the line."""


def read_logs(paths: Iterable[str], warn: Callable[[str], None] | None = None
              ) -> list[Report]:
    """One report per process found in the given logs (or JSON reports).

    A last line that is cut short (no newline, not JSON: the disk filled up while it was
    written) is skipped, and ``warn`` told; any other line that is not a log line makes
    the file no log.
    """
    import json

    processes: dict[tuple[str, int], ProcessLog] = {}
    reports: list[Report] = []
    for path in paths:
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError as exc:
            raise LogError(f"cannot read {path}: {exc.strerror}") from None
        whole = _whole_document(text)
        if whole is not None:  # a JSON report (racewatch run --json), not a log
            reports.append(_read_report(path, whole))
            continue
        lines = text.splitlines()
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            if number == len(lines) and not text.endswith("\n") and not _is_json(line):
                if warn is not None:
                    warn(f"{path}:{number}: skipped a torn last line (the log was cut short "
                         "while it was written)")
                continue
            try:
                data = json.loads(line)
                _check_format(data, f"{path}:{number}")
                pid = int(data.get("pid", 0))
                key = (path, pid)
                process = processes.setdefault(key, ProcessLog(pid))
                if "summary" in data:
                    process.summary = Summary.from_json(data["summary"])
                    process.version = str(data.get("racewatch", ""))
                else:
                    race = Race.from_json(data)
                    process.races[race.signature] = race  # the last line wins
            except LogError:
                raise
            except (ValueError, KeyError, TypeError) as exc:
                raise LogError(f"{path}:{number}: not a racewatch log line "
                               f"({type(exc).__name__}: {exc})") from None
    return reports + [p.report() for p in processes.values()]


def _is_json(line: str) -> bool:
    import json

    try:
        json.loads(line)
    except ValueError:
        return False
    return True


def _whole_document(text: str) -> dict | None:
    """The file as one JSON report, or None when it is a log (one object per line)."""
    import json

    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) and "races" in data else None


def _check_format(data: dict, where: str) -> None:
    """A file written in a newer format is refused by name, not misread.  No ``format``:
    written before the field existed, which is format 1."""
    found = data.get("format", 1) if isinstance(data, dict) else 1
    if not isinstance(found, int) or isinstance(found, bool) or found > FORMAT:
        raise LogError(f"{where}: written in format {found!r} (by racewatch "
                       f"{data.get('racewatch', 'of another version')}); this racewatch "
                       f"reads format {FORMAT} and older: upgrade it")


def _read_report(path: str, data: dict) -> Report:
    _check_format(data, path)
    try:
        return Report.from_json(data)
    except (ValueError, KeyError, TypeError) as exc:
        raise LogError(f"{path}: not a racewatch report ({type(exc).__name__}: {exc})") from None
