"""Suppressions: ThreadSanitizer's file format, and the ``# racewatch: ignore`` comment.

    # comments and blank lines are ignored
    race:mypkg/vendored/*       # a function name or file path in either stack
    race_top:Cache.get          # only the innermost frame of either access

A pattern matches as in ThreadSanitizer: as a substring, ``*`` matching any run of
characters, ``^`` and ``$`` anchoring it at the start or the end.  A ``#`` that begins a
line or follows a space or a tab begins a comment, as in a shell (``race:a#b`` keeps its
``#``).  The file is UTF-8.  A ``# racewatch: ignore`` comment on the line of either access
suppresses that race too.

A rule is *used* when it matches a race (every rule that matches is, not only the first),
so that a run can say which patterns matched nothing: a typo, or code that moved.
"""

from __future__ import annotations

import os
import re

from .config import OptionError
from .records import record
from .reports.model import Frame, Race

KINDS = ("race", "race_top")
_IGNORE_COMMENT = re.compile(r"#\s*racewatch:\s*ignore\b")
_COMMENT = re.compile(r"(?:^|[ \t])#.*")


def _compile(pattern: str) -> re.Pattern:
    anchored_start = pattern.startswith("^")
    anchored_end = pattern.endswith("$") and not pattern.endswith("\\$")
    core = pattern[1 if anchored_start else 0: -1 if anchored_end else None]
    regex = ".*".join(re.escape(part) for part in core.split("*"))
    return re.compile(("^" if anchored_start else "") + regex + ("$" if anchored_end else ""))


@record(frozen=True)
class Rule:
    kind: str
    pattern: str
    regex: re.Pattern

    def __str__(self) -> str:
        return f"{self.kind}:{self.pattern}"

    def matches(self, stacks) -> bool:
        for frames in stacks:
            candidates = frames[:1] if self.kind == "race_top" else frames
            if any(self.matches_frame(f) for f in candidates):
                return True
        return False

    def matches_frame(self, frame: Frame) -> bool:
        return bool(self.regex.search(frame.function) or self.regex.search(frame.file))


class Suppressions:
    """The rules of one suppressions file (or none), applied to each new race."""

    def __init__(self, rules: list[Rule] = ()):
        self.rules = list(rules)
        self.used: set[int] = set()  # indexes of the rules that matched a race

    @classmethod
    def load(cls, path: str | os.PathLike) -> Suppressions:
        """Read a suppressions file; a missing file, one that is not UTF-8 or a bad line is
        an ``OptionError``."""
        try:
            with open(path, encoding="utf-8") as f:
                lines = f.read().splitlines()
        except OSError as exc:
            raise OptionError(f"cannot read the suppressions file {str(path)!r}: "
                              f"{exc.strerror}") from None
        except UnicodeDecodeError as exc:
            with open(path, "rb") as f:
                line = f.read()[:exc.start].count(b"\n") + 1
            raise OptionError(f"{path}:{line}: the suppressions file is not UTF-8 "
                              f"(byte {exc.object[exc.start]:#04x})") from None
        rules = []
        for number, line in enumerate(lines, 1):
            line = _COMMENT.sub("", line).strip()
            if not line:
                continue
            kind, sep, pattern = line.partition(":")
            if not sep or kind not in KINDS or not pattern.strip():
                raise OptionError(f"{path}:{number}: expected race:PATTERN or "
                                  f"race_top:PATTERN, got {line!r}")
            pattern = pattern.strip()
            rules.append(Rule(kind, pattern, _compile(pattern)))
        return cls(rules)

    def suppresses(self, race: Race) -> bool:
        stacks = (race.current.stack, race.previous.stack)
        matched = [i for i, rule in enumerate(self.rules) if rule.matches(stacks)]
        self.used.update(matched)
        return bool(matched) or any(frames and _ignored_line(frames[0]) for frames in stacks)

    def unused(self) -> list[str]:
        """The rules, as written, that matched no race so far."""
        return [str(rule) for i, rule in enumerate(self.rules) if i not in self.used]


def unused_lines(unused: list[str]) -> list[str]:
    """The closing summary's line for each rule that matched nothing in the whole run."""
    return [f"racewatch: suppression {rule!r} matched nothing" for rule in unused]


def _ignored_line(frame: Frame) -> bool:
    import linecache  # here, as reports.text

    return bool(_IGNORE_COMMENT.search(linecache.getline(frame.file, frame.line)))
