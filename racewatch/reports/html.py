"""The HTML race report: one self-contained page rendered from the report model with jinja2."""

from __future__ import annotations

import base64
import hashlib
import linecache
import os
import re
import shlex
import site
import sys
import sysconfig
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache

import jinja2
from markupsafe import Markup

from .files import write_atomically
from .model import (
    AccessInfo,
    Frame,
    Pattern,
    Problem,
    Race,
    Report,
    Summary,
    SyncEvent,
    ThreadRef,
    Timeline,
    location_words,
    problems,
)
from .patterns import at
from .text import closing_line, printable, thread_label

# Races shown open when the page loads; the rest are collapsed <details>, which the browser
# parses but does not lay out, so a run with thousands of races still opens quickly.
OPEN_RACES = 3
# Lines of source shown on each side of a racing line.
CONTEXT_LINES = 3
# Synchronization events drawn per thread in a race's picture; beyond it, the middle ones
# are folded into one "n more" row so that a thread spinning on a lock stays one screen.
EVENTS_PER_LANE = 12

# What each operation of SPEC section 2 is, as the program wrote it: (phrase, code).
OPERATIONS = {
    "getitem": ("d[k]", "d[k]"),
    "get": ("get()", "d.get(k)"),
    "contains": ("'in' test", "k in d"),
    "setitem": ("assignment", "d[k] = v"),
    "setdefault": ("setdefault()", "d.setdefault(k)"),
    "update": ("update()", "d.update(...)"),
    "ior": ("|= update", "d |= other"),
    "missing": ("defaultdict insert of a missing key", "d[k] on a missing key"),
    "delitem": ("del", "del d[k]"),
    "pop": ("pop()", "d.pop(k)"),
    "popitem": ("popitem()", "d.popitem()"),
    "clear": ("clear()", "d.clear()"),
    "len": ("len()", "len(d)"),
    "iter": ("iteration", "for k in d"),
    "reversed": ("reversed()", "reversed(d)"),
    "keys": ("keys()", "d.keys()"),
    "values": ("values()", "d.values()"),
    "items": ("items()", "d.items()"),
    "copy": ("copy()", "d.copy()"),
    "repr": ("repr()", "repr(d)"),
    "eq": ("== comparison", "d == other"),
    "ne": ("!= comparison", "d != other"),
    "or": ("| merge", "d | other"),
    "reduce": ("pickling", "pickle.dumps(d)"),
    "deepcopy": ("deepcopy()", "copy.deepcopy(d)"),
}
# A list's and a set's operations, where their words or their code differ from a dict's.
KIND_OPERATIONS = {
    "list": {
        "getitem": ("l[i]", "l[i]"),
        "setitem": ("assignment", "l[i] = v"),
        "delitem": ("del", "del l[i]"),
        "slice": ("slice", "l[a:b]"),
        "setslice": ("slice assignment", "l[a:b] = ..."),
        "delslice": ("slice deletion", "del l[a:b]"),
        "append": ("append()", "l.append(x)"),
        "extend": ("extend()", "l.extend(...)"),
        "iadd": ("+= extend", "l += other"),
        "insert": ("insert()", "l.insert(i, x)"),
        "pop": ("pop()", "l.pop(i)"),
        "remove": ("remove()", "l.remove(x)"),
        "len": ("len()", "len(l)"),
        "iter": ("iteration", "for x in l"),
        "reversed": ("reversed()", "reversed(l)"),
        "contains": ("'in' test", "x in l"),
        "index": ("index()", "l.index(x)"),
        "count": ("count()", "l.count(x)"),
        "eq": ("== comparison", "l == other"),
        "ne": ("!= comparison", "l != other"),
        "compare": ("ordering comparison", "l < other"),
        "copy": ("copy()", "l.copy()"),
        "repr": ("repr()", "repr(l)"),
        "add": ("+ concatenation", "l + other"),
        "mul": ("* repetition", "l * n"),
        "imul": ("*= repetition", "l *= n"),
        "sort": ("sort()", "l.sort()"),
        "reverse": ("reverse()", "l.reverse()"),
        "clear": ("clear()", "l.clear()"),
        "reduce": ("pickling", "pickle.dumps(l)"),
        "deepcopy": ("deepcopy()", "copy.deepcopy(l)"),
    },
    "set": {
        "contains": ("'in' test", "x in s"),
        "add": ("add()", "s.add(x)"),
        "discard": ("discard()", "s.discard(x)"),
        "remove": ("remove()", "s.remove(x)"),
        "pop": ("pop()", "s.pop()"),
        "clear": ("clear()", "s.clear()"),
        "len": ("len()", "len(s)"),
        "iter": ("iteration", "for x in s"),
        "copy": ("copy", "s.copy()"),
        "repr": ("repr()", "repr(s)"),
        "update": ("update()", "s.update(...)"),
        "ior": ("|= update", "s |= other"),
        "difference_update": ("difference_update()", "s.difference_update(...)"),
        "isub": ("-= update", "s -= other"),
        "intersection_update": ("intersection_update()", "s.intersection_update(...)"),
        "iand": ("&= update", "s &= other"),
        "symmetric_difference_update": ("symmetric_difference_update()",
                                        "s.symmetric_difference_update(other)"),
        "ixor": ("^= update", "s ^= other"),
        "union": ("union()", "s.union(...)"),
        "intersection": ("intersection()", "s.intersection(...)"),
        "difference": ("difference()", "s.difference(...)"),
        "symmetric_difference": ("symmetric_difference()", "s.symmetric_difference(other)"),
        "issubset": ("issubset()", "s.issubset(other)"),
        "issuperset": ("issuperset()", "s.issuperset(other)"),
        "isdisjoint": ("isdisjoint()", "s.isdisjoint(other)"),
        "or": ("| union", "s | other"),
        "and": ("& intersection", "s & other"),
        "sub": ("- difference", "s - other"),
        "xor": ("^ symmetric difference", "s ^ other"),
        "eq": ("== comparison", "s == other"),
        "ne": ("!= comparison", "s != other"),
        "compare": ("subset comparison", "s <= other"),
        "reduce": ("pickling", "pickle.dumps(s)"),
        "deepcopy": ("deepcopy()", "copy.deepcopy(s)"),
    },
}
# Updates of the whole location that take a key, an item or an element out ("delete"),
# that may put it in or take it out ("change"); the others put it in ("insert").
DELETES = frozenset({"delitem", "pop", "popitem", "remove", "discard", "difference_update",
                     "isub", "intersection_update", "iand"})
TOGGLES = frozenset({"symmetric_difference_update", "ixor"})

# Sync event kinds that hand this thread's past to another thread (the "release" side of
# an edge); the others take one in.  Only the marker's shape depends on it.
RELEASES = frozenset({"release", "start", "put", "set", "complete", "task_done", "arrive",
                      "submit", "create", "racewatch.release"})

KEYS_MEANING = (
    "The location here is the dict's set of keys (its size and order), not one key: "
    "len(), iteration, keys(), items() and the like read it; inserting or deleting a key "
    "updates it; clear() writes it. Two updates do not race with each other (each dict "
    "operation is atomic), but an update races with a read or a write of the set: so the "
    "two threads race even though they may touch different keys."
)
ITEMS_MEANING = (
    "The location here is the list's items (its length and order), not one item: len(), "
    "iteration, searching, slicing and comparisons read it; append, extend, insert, pop, "
    "remove and del update it; sort, reverse, clear and slice assignment write it. Two "
    "updates do not race with each other (each list operation is atomic), but an update "
    "races with a read or a write of the items: so the two threads race even though they "
    "may touch different positions."
)
MEMBERS_MEANING = (
    "The location here is the set's members, not one element: len(), iteration, "
    "comparisons and set algebra read it; adding an element that was not there, or "
    "removing one that was, updates it; clear() writes it. Two updates do not race with "
    "each other (each set operation is atomic), but an update races with a read or a write "
    "of the members: so the two threads race even though they may touch different elements."
)
WHOLE_MEANING = {"keys": KEYS_MEANING, "items": ITEMS_MEANING, "members": MEMBERS_MEANING}

# Under ``sysconfig``'s stdlib/purelib paths, as the brief defines library frames; the
# patterns catch the same places for a report rendered by another interpreter or machine.
_LIBRARY_PATTERN = re.compile(
    r"[/\\](?:site|dist)-packages[/\\]|[/\\]lib[/\\]python\d+\.\d+t?[/\\]|^<frozen ")


@lru_cache(maxsize=1)
def _library_roots() -> tuple[str, ...]:
    roots = set()
    for scheme in (sysconfig.get_paths(),
                   sysconfig.get_paths(vars={"base": sys.base_prefix,
                                             "platbase": sys.base_exec_prefix})):
        for name in ("stdlib", "platstdlib", "purelib", "platlib"):
            if scheme.get(name):
                roots.add(os.path.normcase(os.path.abspath(scheme[name])))
    try:
        roots.update(os.path.normcase(p) for p in site.getsitepackages())
    except AttributeError:  # site.getsitepackages is missing in some old virtualenvs
        pass
    return tuple(sorted(r.rstrip(os.sep) + os.sep for r in roots))


_LIBRARY_TAILS = (re.compile(r"[/\\]((?:site|dist)-packages)[/\\](.+)$"),
                  re.compile(r"[/\\]lib[/\\](python\d+\.\d+t?)[/\\](.+)$"))


def library_path(path: str) -> str:
    """A library file as its package path, ``python3.12/concurrent/futures/thread.py`` or
    ``site-packages/requests/api.py``: the install prefix tells the reader nothing."""
    for pattern in _LIBRARY_TAILS:
        match = pattern.search(path)
        if match:
            return f"{match[1]}/{match[2]}".replace("\\", "/")
    normal = os.path.normcase(path)
    for root in _library_roots():
        if normal.startswith(root):
            return f"{os.path.basename(root.rstrip(os.sep))}/{path[len(root):]}"
    return path


@lru_cache(maxsize=4096)
def is_library(path: str) -> bool:
    """Whether ``path`` is the standard library's or an installed package's file."""
    if _LIBRARY_PATTERN.search(path):
        return True
    return os.path.normcase(path).startswith(_library_roots())


# -- the view: what the templates draw, computed once per report ------------------------


@dataclass
class SourceLine:
    number: int
    text: str
    marked: bool = False


@dataclass
class SourceFile:
    """One file's source, read once; the page's shared part holds only the lines that the
    snippets of collapsed races show, each once, however many snippets overlap on it."""

    id: str
    path: str
    lines: list[str]
    shown: set[int] = field(default_factory=set)

    def table(self) -> list[SourceLine | None]:
        """The shown lines in order, None where lines are left out between them."""
        out: list[SourceLine | None] = []
        previous = 0
        for n in sorted(self.shown):
            if previous and n != previous + 1:
                out.append(None)
            out.append(SourceLine(n, self.lines[n - 1]))
            previous = n
        return out


@dataclass
class Snippet:
    """The source around one racing line, or why there is none."""

    file: SourceFile
    line: int
    lines: list[SourceLine]
    missing: str = ""           # why there is no source, when there is none

    @property
    def text(self) -> str:
        """The line itself, without its context."""
        return next((ln.text.strip() for ln in self.lines if ln.marked), "")

    def share(self, context: bool) -> None:
        """A collapsed race shows this line (with its context, for a racing line): the
        shared part must hold it."""
        self.file.shown.update(ln.number for ln in self.lines if context or ln.marked)


class Sources:
    """The source a page shows, read once per file (with linecache, at render time)."""

    def __init__(self, strip_prefix: str):
        self.strip_prefix = strip_prefix
        self.files: dict[str, SourceFile] = {}
        self.snippets: dict[tuple[str, int], Snippet] = {}

    def file(self, file: str) -> SourceFile:
        source = self.files.get(file)
        if source is None:
            # A long-lived process (a pytest session) may have cached an older version.
            linecache.checkcache(file)
            lines = [line.rstrip("\r\n") for line in linecache.getlines(file)]
            source = self.files[file] = SourceFile(f"file-{len(self.files)}",
                                                   display_path(file, self.strip_prefix),
                                                   lines)
        return source

    def get(self, frame: Frame) -> Snippet:
        key = (frame.file, frame.line)
        snippet = self.snippets.get(key)
        if snippet is None:
            snippet = self.snippets[key] = self._snippet(frame)
        return snippet

    def _snippet(self, frame: Frame) -> Snippet:
        source = self.file(frame.file)
        if not source.lines:
            return Snippet(source, frame.line, [],
                           "source not available: the file could not be read when this "
                           "report was rendered")
        if not 1 <= frame.line <= len(source.lines):
            return Snippet(source, frame.line, [],
                           f"source not available: the file has {len(source.lines)} lines "
                           "now; it changed since the run")
        first = max(1, frame.line - CONTEXT_LINES)
        last = min(len(source.lines), frame.line + CONTEXT_LINES)
        return Snippet(source, frame.line,
                       [SourceLine(n, source.lines[n - 1], n == frame.line)
                        for n in range(first, last + 1)])

    def shared_files(self) -> list[SourceFile]:
        return [f for f in self.files.values() if f.shown]


@dataclass
class FixWindow:
    """The source around the lines a fix changes, in one file, those lines marked."""

    file: SourceFile
    first: int
    last: int
    marks: list[int]

    @property
    def lines(self) -> list[SourceLine]:
        return [SourceLine(n, self.file.lines[n - 1], n in self.marks)
                for n in range(self.first, self.last + 1)]

    @property
    def marks_attr(self) -> str:
        return " ".join(map(str, self.marks))


@dataclass
class FixView:
    """A race's pattern: its name, what goes wrong, the fix and the lines it changes."""

    id: str
    title: str
    explanation: str
    fix: str
    windows: list[FixWindow]
    missing: list[str]          # the lines to change whose source could not be read


@dataclass
class ProblemView:
    """Races with one root cause (``model.Problem``), for the page's list of problems."""

    number: int
    anchor: str
    title: str
    where: str                  # the root's line, "racy.py:12"
    races: list[tuple[int, str]]  # (number, anchor) of each of its races
    occurrences: int


@dataclass
class FrameView:
    index: int
    function: str
    path: str
    line: int
    library: bool
    source: Snippet | None      # user frames only: the page keeps library source out
    full_path: str = ""         # a library file's path, when ``path`` is shortened


@dataclass
class FrameRun:
    """Consecutive frames of one kind: user frames shown, library frames folded."""

    library: bool
    frames: list[FrameView]


@dataclass
class StackView:
    """A stack, in the page once however many races show it (a thread's start, a dict's
    creation and the stacks of a hot line repeat across races)."""

    id: str
    runs: list[FrameRun]
    shared: bool = False        # needed in the page's shared part

    @property
    def size(self) -> int:
        return sum(len(run.frames) for run in self.runs)


@dataclass
class LockView:
    name: str
    created: str                # "file:line in function", or ""


@dataclass
class AccessView:
    role: str                   # "earlier" | "later"
    verb: str                   # "read" | "write"
    code: str                   # the operation as the program wrote it, "d[k] = v"
    sentence: str               # "Write of key 'hits' (d[k] = v)"
    thread: str                 # "T2 'worker-2'"
    thread_origin: str          # how the thread came to be, when it has no stack
    thread_created: StackView | None
    locks: list[LockView]
    stack: StackView
    key: str | None


@dataclass
class Mark:
    """One row of a race's picture: an access or a sync event on one lane."""

    row: int
    lane: int                   # 0: the earlier access's thread, 1: the later's
    kind: str                   # "access" | "release" | "acquire" | "elided"
    label: str
    detail: str                 # the full text, for the tooltip, when the label is not all
    where: str                  # "file.py:12", or ""
    time: str                   # "+0.24 ms", or ""
    write: bool = False


@dataclass
class Picture:
    lanes: list[str]
    lane_titles: list[str]
    marks: list[Mark]
    recorded: bool
    truncated: bool
    height: int
    width: int = 720
    lane_x: tuple[int, int] = (96, 408)
    row_height: int = 34
    top: int = 40


@dataclass
class RaceView:
    number: int
    anchor: str
    kind: str
    location: str
    whole: bool                 # the container's whole location (a dict's keys...)
    container_label: str        # "the dict", "the Stats object", "module app"
    container_origin: str       # "created at", or "first watched at" (model.Container)
    key: str | None
    headline: str
    meaning: str
    locks_note: str             # why the locks held did not order the accesses, when any
    container_type: str
    container_created: StackView
    count: int
    tests: list[str]
    earlier: AccessView
    later: AccessView
    picture: Picture
    where: str                  # the later access's line, "file.py:12"
    sort_path: str
    sort_line: int
    open: bool                  # open on load, and drawn in full rather than from the shared part
    pattern: FixView | None = None
    problem: int = 0            # the number of its problem (ProblemView)
    sort_rank: int = 0          # the rank of sort_path among the races' paths
    files: str = ""             # filter indices, "0 4"
    threads: str = ""
    test_ids: str = ""


@dataclass
class Facet:
    """One filter: the distinct values races are filtered by, each with its index."""

    values: dict[str, int] = field(default_factory=dict)

    def ids(self, values: Iterable[str]) -> str:
        ids = []
        for value in values:
            index = self.values.setdefault(value, len(self.values))
            if index not in ids:
                ids.append(index)
        return " ".join(map(str, ids))

    def options(self) -> list[tuple[int, str]]:
        return sorted(((i, v) for v, i in self.values.items()), key=lambda item: item[1])


def display_path(file: str, strip_prefix: str) -> str:
    if strip_prefix and file.startswith(strip_prefix):
        return file[len(strip_prefix):]
    return file


def _short_path(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def _operation(op: str, kind: str = "dict") -> tuple[str, str]:
    """(words, code) for an operation on a container of type ``kind``."""
    own = KIND_OPERATIONS.get(kind)
    if own is not None and op in own:
        return own[op]
    return OPERATIONS.get(op, (op, op))


def describe(race: Race, access: AccessInfo, *, with_key: bool = True) -> str:
    """An access in plain words: ``read of key 'hits' (d[k])``, ``len() of the dict``."""
    phrase, code = _operation(access.op, race.container.type)
    container = race.container.phrase("the")
    if race.whole:
        if not access.write:
            return f"{phrase} of {container}"
        if not access.update:
            return f"{phrase} of {container}"
        verb = ("delete" if access.op in DELETES else "change" if access.op in TOGGLES
                else "insert")
        one = location_words(race.container.type)[0]
        key = f" of {one} {access.key}" if access.key is not None else ""
        return f"{verb}{key} ({code})"
    verb = "write" if access.write else "read"
    key = f" of {race.where()}" if with_key and race.key is not None else ""
    return f"{verb}{key} ({code})"


def locks_note(race: Race) -> str:
    """Why the locks the two sides held do not order them, for a race under a lock."""
    earlier = [lk.name for lk in race.previous.locks_held]
    later = [lk.name for lk in race.current.locks_held]
    if (not earlier and not later) or set(earlier) & set(later):
        return ""
    if earlier and later:
        return (f"Not the same on both sides ({', '.join(earlier)} and {', '.join(later)}): "
                "a lock orders only what is done under that lock.")
    held, role = (earlier, "earlier") if earlier else (later, "later")
    return f"Only the {role} access held one ({', '.join(held)}): the lock orders nothing."


def _sentence(text: str) -> str:
    # "len() of the dict" keeps its case: it names code, and "Len()" would not.
    first = text.split(" ", 1)[0]
    return text[:1].upper() + text[1:] if first.isalpha() else text


def headline(race: Race) -> str:
    """The race's pattern in one sentence, later access first, as ThreadSanitizer says it."""
    later = describe(race, race.current)
    earlier = describe(race, race.previous, with_key=False)
    return (f"{_sentence(later)} in thread {race.current.thread.name} races with "
            f"an earlier {earlier} in thread {race.previous.thread.name}")


class _Builder:
    """Turns the model into the view, sharing sources and filter values across races."""

    def __init__(self, strip_prefix: str):
        self.strip_prefix = strip_prefix
        self.sources = Sources(strip_prefix)
        self.stacks: dict[tuple[tuple[Frame, ...], bool], StackView] = {}
        self.files = Facet()
        self.threads = Facet()
        self.tests = Facet()

    def path(self, file: str) -> str:
        return display_path(file, self.strip_prefix)

    def where(self, frame: Frame | None) -> str:
        return f"{self.path(frame.file)}:{frame.line}" if frame else ""

    def frames(self, frames: list[Frame], *, sources: bool) -> list[FrameRun]:
        runs: list[FrameRun] = []
        for i, f in enumerate(frames):
            # The innermost frame is the access itself: never folded, even in a library.
            in_library = is_library(f.file)
            library = in_library and not (sources and i == 0)
            view = FrameView(i, f.function, self.path(f.file), f.line, library,
                             self.sources.get(f) if sources and not library else None)
            if in_library:
                view.full_path, view.path = view.path, library_path(f.file)
            if runs and runs[-1].library == library:
                runs[-1].frames.append(view)
            else:
                runs.append(FrameRun(library, [view]))
        return runs

    def stack(self, frames: list[Frame], *, sources: bool, inline: bool) -> StackView:
        key = (tuple(frames), sources)
        view = self.stacks.get(key)
        if view is None:
            view = self.stacks[key] = StackView(f"stack-{len(self.stacks)}",
                                                self.frames(frames, sources=sources))
        if not inline and not view.shared:
            view.shared = True
            for run in view.runs:
                for f in run.frames:
                    if f.source:
                        f.source.share(context=f.index == 0)
        return view

    def thread(self, t: ThreadRef, inline: bool) -> tuple[str, StackView | None]:
        if t.created_at:
            return "", self.stack(t.created_at, sources=False, inline=inline)
        if t.name == "MainThread":
            return "the main thread", None
        return "a thread started before racewatch, or outside threading", None

    def access(self, race: Race, access: AccessInfo, role: str, inline: bool) -> AccessView:
        origin, created = self.thread(access.thread, inline)
        stack = self.stack(access.stack, sources=True, inline=inline)
        locks = [LockView(lk.name, (f"{self.where(lk.created_at[0])} in "
                                    f"{lk.created_at[0].function}") if lk.created_at else "")
                 for lk in access.locks_held]
        return AccessView(
            role=role, verb="write" if access.write else "read",
            code=_operation(access.op, race.container.type)[1],
            sentence=_sentence(describe(race, access)),
            thread=thread_label(access.thread),
            thread_origin=origin, thread_created=created, locks=locks, stack=stack,
            key=access.key)

    def fix(self, pattern: Pattern, inline: bool) -> FixView:
        """The pattern, with a source window per file around the lines its fix changes."""
        by_file: dict[str, list[int]] = {}
        for f in pattern.fix_at:
            by_file.setdefault(f.file, []).append(f.line)
        windows, missing = [], []
        for file, numbers in by_file.items():
            source = self.sources.file(file)
            shown = sorted({n for n in numbers if 1 <= n <= len(source.lines)})
            missing.extend(f"{self.path(file)}:{n}" for n in numbers if n not in shown)
            # Lines near each other share a window; lines far apart get one each.
            clusters: list[list[int]] = []
            for n in shown:
                if clusters and n - clusters[-1][-1] <= 2 * CONTEXT_LINES + 1:
                    clusters[-1].append(n)
                else:
                    clusters.append([n])
            for marks in clusters:
                window = FixWindow(source, max(1, marks[0] - CONTEXT_LINES),
                                   min(len(source.lines), marks[-1] + CONTEXT_LINES), marks)
                if not inline:
                    source.shown.update(range(window.first, window.last + 1))
                windows.append(window)
        return FixView(pattern.id, pattern.title, pattern.explanation, pattern.fix, windows,
                       missing)

    def race(self, race: Race, number: int) -> RaceView:
        top = race.current.stack[0] if race.current.stack else None
        inline = number <= OPEN_RACES
        view = RaceView(
            number=number, anchor=f"race-{number}", kind=race.kind, location=race.location,
            key=race.key, headline=headline(race),
            meaning=WHOLE_MEANING.get(race.location, ""), whole=race.whole,
            container_label=race.container.phrase("the"), container_origin=race.container.origin,
            locks_note=locks_note(race),
            container_type=race.container.type,
            container_created=self.stack(race.container.created_at, sources=False,
                                         inline=inline),
            count=race.count, tests=list(race.tests),
            earlier=self.access(race, race.previous, "earlier", inline),
            later=self.access(race, race.current, "later", inline),
            picture=picture(race, self.path),
            where=f"{_short_path(top.file)}:{top.line}" if top else "",
            sort_path=self.path(top.file) if top else "",
            sort_line=top.line if top else 0, open=inline,
            pattern=self.fix(race.pattern, inline) if race.pattern is not None else None)
        view.files = self.files.ids(self._race_files(race))
        view.threads = self.threads.ids([race.previous.thread.name, race.current.thread.name])
        view.test_ids = self.tests.ids(race.tests)
        return view

    def _race_files(self, race: Race) -> list[str]:
        # The racing lines' files, then the user files of both stacks: a library file is
        # named only when the access itself happened there.
        files = [self.path(a.stack[0].file) for a in (race.current, race.previous) if a.stack]
        for a in (race.current, race.previous):
            files.extend(self.path(f.file) for f in a.stack if not is_library(f.file))
        return files


# -- the picture: two lanes, the accesses and each thread's sync events between them ------


def _elapsed(seconds: float) -> str:
    if seconds < 0.001:
        return f"+{seconds * 1000:.3f} ms"
    if seconds < 1:
        return f"+{seconds * 1000:.1f} ms"
    return f"+{seconds:.2f} s"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


@dataclass
class _EventRun:
    """Consecutive events of one thread on one object: a lock taken and released in a loop
    is one row, "acquire/release Lock#1 ×64", not 128."""

    events: list[SyncEvent]

    @property
    def label(self) -> str:
        kinds = list(dict.fromkeys(e.kind for e in self.events))
        count = sum(e.count for e in self.events)
        times = f" ×{count}" if count > 1 else ""
        if kinds == ["begin"]:  # a thread's first event: its "what" says it all
            return f"{self.events[0].what}{times}"
        return f"{'/'.join(kinds)} {self.events[0].what}{times}"


def _runs(events: list[SyncEvent]) -> list[_EventRun]:
    runs: list[_EventRun] = []
    for event in events:
        if runs and runs[-1].events[0].what == event.what:
            runs[-1].events.append(event)
        else:
            runs.append(_EventRun([event]))
    return runs


def _lane_runs(events: list[SyncEvent], elided: int = 0) -> list[_EventRun | int]:
    """A lane's rows: runs of events, with the number of events left out where they were
    (by the runtime, ``elided``, after its first ``Timeline.ELIDED_AFTER`` events, or here,
    past the lane's budget)."""
    if elided:
        head = Timeline.ELIDED_AFTER
        rows: list[_EventRun | int] = [*_runs(events[:head]), elided, *_runs(events[head:])]
    else:
        rows = list(_runs(events))
    if len(rows) <= EVENTS_PER_LANE:
        return rows
    half = EVENTS_PER_LANE // 2
    folded = sum(r if isinstance(r, int) else sum(e.count for e in r.events)
                 for r in rows[half:-half])
    return [*rows[:half], folded, *rows[-half:]]


def _releases(event: SyncEvent) -> bool:
    if event.direction:
        return event.direction == "release"
    return event.kind in RELEASES  # a report from before events had a direction


def picture(race: Race, path: Callable[[str], str] = str) -> Picture:
    """The rows of a race's picture: the earlier access first, the later access last."""
    tl = race.timeline
    start = tl.previous_time if tl else 0.0
    rows: list[tuple[float, int, Mark]] = []  # (time, order, mark), sorted into rows

    def access_mark(access: AccessInfo, lane: int, time: float | None) -> Mark:
        top = access.stack[0] if access.stack else None
        code = _operation(access.op, race.container.type)[1]
        label = f"{'write' if access.write else 'read'}: {code}"
        # On the keys location the tooltip names the key inserted or deleted.
        detail = describe(race, access) if race.whole else ""
        return Mark(0, lane, "access", label, detail,
                    f"{_short_path(path(top.file))}:{top.line}" if top else "",
                    _elapsed(time - start) if time is not None else "", access.write)

    rows.append((float("-inf"), 0, access_mark(race.previous, 0, tl and tl.previous_time)))
    if tl:
        for lane, events, elided in ((0, tl.previous_events, tl.previous_elided),
                                     (1, tl.current_events, tl.current_elided)):
            last_time = start
            for run in _lane_runs(events, elided):
                if isinstance(run, int):
                    mark = Mark(0, lane, "elided", f"… {run} more events", "", "", "")
                    rows.append((last_time, len(rows), mark))
                    continue
                first = run.events[0]
                last_time = run.events[-1].time
                releases = any(_releases(e) for e in run.events)
                frame = first.frame
                where = f"{_short_path(path(frame.file))}:{frame.line}" if frame else ""
                rows.append((first.time, len(rows),
                             Mark(0, lane, "release" if releases else "acquire", run.label,
                                  "", where, _elapsed(first.time - start))))
    rows.append((float("inf"), len(rows),
                 access_mark(race.current, 1, tl.current_time if tl else None)))
    rows.sort(key=lambda r: (r[0], r[1]))
    marks = []
    for i, (_, _, mark) in enumerate(rows):
        mark.row = i
        mark.label = _cut(mark.label, 44)
        marks.append(mark)
    lanes = [thread_label(race.previous.thread), thread_label(race.current.thread)]
    pic = Picture(lanes=[_cut(name, 40) for name in lanes], lane_titles=lanes, marks=marks,
                  recorded=tl is not None, truncated=bool(tl and tl.truncated), height=0)
    pic.height = pic.top + len(marks) * pic.row_height + 8
    return pic


# -- the page ------------------------------------------------------------------------------


@dataclass
class Fact:
    label: str
    value: str
    note: str = ""
    code: bool = False          # the value is a command line, shown as code


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.3g} s" if seconds < 10 else f"{seconds:.1f} s"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)} min {rest:.0f} s"


def occurrences(report: Report) -> int:
    """Every time a race was seen; a model built by hand may leave the summary at 0."""
    return report.summary.occurrences or sum(r.count for r in report.races)


def facts(report: Report) -> list[Fact]:
    """The run at a glance, in the order a reader asks about it."""
    summary, races = report.summary, report.races
    seen = occurrences(report)
    out = [Fact("Races", f"{len(races):,} distinct, {seen:,} occurrence{'s' if seen != 1 else ''}")]
    if summary.command:
        label = "Test run" if summary.command[0] == "pytest" else "Command"
        out.append(Fact(label, shlex.join(summary.command), code=True))
    tests = {t for r in races for t in r.tests}
    if tests:
        out.append(Fact("Tests with races", str(len(tests))))
    if summary.python:
        out.append(Fact("Python", summary.python))
    out.append(Fact("Duration", _duration(summary.duration_s)))
    out.append(Fact("Threads seen", str(summary.threads)))
    out.append(Fact("Containers tracked", f"{summary.dicts_tracked:,} dicts, "
                                          f"{summary.lists_tracked:,} lists, "
                                          f"{summary.sets_tracked:,} sets"))
    out.append(Fact("Accesses checked", f"{summary.accesses:,}"))
    if summary.peak_rss_mb is not None:
        out.append(Fact("Memory", f"{summary.peak_rss_mb:,.1f} MB peak resident"))
    if summary.pid is not None:
        out.append(Fact("Process", f"pid {summary.pid}"))
    return out


def caveats(summary: Summary) -> list[Fact]:
    """What may have been missed, and why, in plain words."""
    out = []
    if summary.tracking_cut:
        out.append(Fact("Tracking was cut", summary.tracking_cut))
    if summary.suppressed:
        out.append(Fact("Suppressed", f"{summary.suppressed:,} occurrence"
                                      f"{'s' if summary.suppressed != 1 else ''}",
                        "matched a suppression (race:, race_top: or a '# racewatch: ignore' "
                        "comment) and are not shown."))
    if summary.recycled_thread_slots:
        out.append(Fact("Recycled thread slots", f"{summary.recycled_thread_slots:,}",
                        "finished threads that no live thread ever synchronized with had "
                        "their clock slots reused, to bound memory: a race with one of those "
                        "long-gone threads may have been missed. None was invented."))
    if summary.forgotten_deleted_keys:
        out.append(Fact("Forgotten deleted keys", f"{summary.forgotten_deleted_keys:,}",
                        "the history of that many deleted keys was let go, to bound memory: "
                        "a race between such an old delete and a later access to the same "
                        "key may have been missed. None was invented."))
    if summary.forgotten_missing_keys:
        out.append(Fact("Forgotten lookups of missing keys",
                        f"{summary.forgotten_missing_keys:,}",
                        "the history of that many keys that were only looked up while they "
                        "were absent (k in d, d.get(k)) was let go, to bound memory: a race "
                        "between such an old lookup and a later insert of the same key may "
                        "have been missed. None was invented."))
    return out


def _visible(value):
    """What the page prints of a value: the program's text with its control and format
    characters (ESC, NUL, a bidi override) made visible as escapes, as in the text report
    (autoescape then takes care of markup); its newlines and tabs stay."""
    if isinstance(value, str) and not isinstance(value, Markup) and not value.isprintable():
        return "\n".join(printable(line) for line in value.split("\n"))
    return value


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("racewatch.reports", "templates"),
        autoescape=True,              # every value from the program's data is escaped
        finalize=_visible,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True,  # a smaller file for thousands of races
    )


@cache
def _static(name: str) -> tuple[Markup, str]:
    """racewatch's own style or script, and its CSP hash.

    The page's Content-Security-Policy allows only these exact texts: were some program
    data ever to slip past escaping into a <script>, the browser would still not run it,
    and nothing may be fetched from anywhere.
    """
    env = _environment()
    text = env.loader.get_source(env, name)[0]
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()
    return Markup(text), f"sha256-{digest}"


def problem_views(groups: list[Problem], numbers: dict[int, int]) -> list[ProblemView]:
    """The problems, each with the numbers of its races (``numbers``: id(race) to number)."""
    views = []
    for i, problem in enumerate(groups, 1):
        p = problem.pattern
        races = [(numbers[id(r)], f"race-{numbers[id(r)]}") for r in problem.races]
        views.append(ProblemView(i, f"problem-{i}", p.title if p else "data race",
                                 at(p.root) if p and p.root else "", races, problem.count))
    return views


def render(report: Report, *, title: str | None = None, strip_path_prefix: str = "") -> str:
    """The whole report as one self-contained HTML page."""
    builder = _Builder(strip_path_prefix)
    races = [builder.race(race, i) for i, race in enumerate(report.races, 1)]
    groups = problems(report.races)
    numbers = {id(race): i for i, race in enumerate(report.races, 1)}
    # The problems are listed, and a race names its own, where some share a root cause:
    # otherwise each race is its own problem, and the list would be the races again.
    problem_list = problem_views(groups, numbers) if len(groups) < len(races) else []
    for problem in problem_list:
        for number, _ in problem.races:
            races[number - 1].problem = problem.number
    # Sorting by file compares ranks, so that no path needs to be in an attribute.
    ranks = {path: i for i, path in enumerate(sorted({r.sort_path for r in races}))}
    for r in races:
        r.sort_rank = ranks[r.sort_path]
    summary = report.summary
    if title is None:
        title = "racewatch: " + closing_line(
            len(report.races), problems=len(groups)).removeprefix("racewatch: ")
        if summary.command:
            title += " in " + shlex.join(summary.command)
    style, style_hash = _static("report.css")
    script, script_hash = _static("report.js")
    return _environment().get_template("report.html.j2").render(
        style=style, style_hash=style_hash, script=script, script_hash=script_hash,
        title=title, version=report.version,
        facts=facts(report), caveats=caveats(summary), races=races, problems=problem_list,
        problem_options=[(p.number, f"#{p.number} {p.title}" + (f" at {p.where}" if p.where
                                                                  else ""))
                         for p in problem_list],
        occurrences=occurrences(report),
        stacks=[v for v in builder.stacks.values() if v.shared],
        source_files=builder.sources.shared_files(), context_lines=CONTEXT_LINES,
        files=builder.files.options(), threads=builder.threads.options(),
        tests=builder.tests.options())


def write(report: Report, path: str, *, title: str | None = None,
          strip_path_prefix: str = "") -> None:
    """Write the page atomically: a reader, or a CI upload, never sees half a file."""
    write_atomically(path, render(report, title=title, strip_path_prefix=strip_path_prefix))
