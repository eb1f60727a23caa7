"""The report data model: one set of plain records (racewatch.records) that every format renders.

The JSON form (``to_json``/``from_json``) is SPEC section 4, with a few additive fields
(``location``, an access's ``key`` and ``update`` on the keys location, ``tests``) that
consumers may ignore.
"""

from __future__ import annotations

from ..records import asdict, field, fields, record

TYPE_CHECKING = False  # typing costs start-up time; annotations are not evaluated
if TYPE_CHECKING:
    from typing import Any


# The version of the JSON report's and the log's format ("format", beside racewatch's own
# version).  Adding a field keeps it; removing or renaming one, or changing what it means,
# bumps it, with new schema files in racewatch/reports/schemas/ (docs/json-report.md).
FORMAT = 1


@record(frozen=True)
class Frame:
    file: str
    line: int
    function: str

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "function": self.function}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Frame:
        return cls(str(data["file"]), int(data["line"]), str(data["function"]))


def _frames(data) -> list[Frame]:
    return [Frame.from_json(f) for f in data or ()]


@record
class ThreadRef:
    name: str
    id: int
    created_at: list[Frame] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "id": self.id,
                "created_at": [f.to_json() for f in self.created_at]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ThreadRef:
        return cls(str(data["name"]), int(data["id"]), _frames(data.get("created_at")))


@record
class LockRef:
    name: str                     # "Lock#3", "RLock#1"
    created_at: list[Frame] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "created_at": [f.to_json() for f in self.created_at]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LockRef:
        return cls(str(data["name"]), _frames(data.get("created_at")))


@record
class AccessInfo:
    op: str
    write: bool
    thread: ThreadRef
    locks_held: list[LockRef]
    stack: list[Frame]            # innermost frame first
    key: str | None = None        # keys location: the key this insert or delete touched
    # Keys location: an insert or delete (a write that commutes with other updates; SPEC
    # section 2), not a write of the whole set of keys such as clear().
    update: bool = False

    def to_json(self) -> dict[str, Any]:
        data = {"op": self.op, "write": self.write, "update": self.update,
                "thread": self.thread.to_json(),
                "locks_held": [lk.to_json() for lk in self.locks_held],
                "stack": [f.to_json() for f in self.stack]}
        if self.key is not None:
            data["key"] = self.key
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AccessInfo:
        return cls(str(data["op"]), bool(data["write"]), ThreadRef.from_json(data["thread"]),
                   [LockRef.from_json(lk) for lk in data.get("locks_held") or ()],
                   _frames(data.get("stack")), data.get("key"), bool(data.get("update")))


# What a location is called, by the type of its container: (one location, the whole
# location, the field of a race's JSON that holds the one location).  A dict's key and
# its set of keys; a list's item and its items (size and order); a set's element and its
# members; an object's attribute; a module's global.
LOCATION_WORDS = {
    "dict": ("key", "keys", "key"),
    "defaultdict": ("key", "keys", "key"),
    "list": ("item", "items", "index"),
    "set": ("element", "members", "element"),
    "object": ("attribute", "attributes", "attribute"),
    "class": ("attribute", "attributes", "attribute"),
    "module": ("global", "globals", "name"),
}


def location_words(container_type: str) -> tuple[str, str, str]:
    return LOCATION_WORDS.get(container_type, LOCATION_WORDS["dict"])


@record
class Container:
    # "dict" | "defaultdict" | "list" | "set" | "object" | "class" | "module"
    type: str
    created_at: list[Frame]
    name: str | None = None       # an object's class name, a class's, a module's

    def to_json(self) -> dict[str, Any]:
        data = {"type": self.type, "created_at": [f.to_json() for f in self.created_at]}
        if self.name is not None:
            data["name"] = self.name
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Container:
        name = data.get("name")
        return cls(str(data["type"]), _frames(data.get("created_at")),
                   str(name) if name is not None else None)

    @property
    def origin(self) -> str:
        """What ``created_at`` is: where a container was made; for an object's or a class's
        attributes, where racewatch first watched them (it does not follow every object
        from its birth, most never meet a second thread)."""
        return "first watched at" if self.type in ("object", "class") else "created at"

    def phrase(self, article: str = "a") -> str:
        """``a dict``, ``a Stats object``, ``module app`` (``article``: "a" or "the")."""
        if self.type == "module":
            return f"module {self.name}"
        if self.type == "class":
            return f"class {self.name}"
        if self.type == "object":
            return f"{article} {self.name or 'tracked'} object"
        return f"{article} {self.type}"


@record
class SyncEvent:
    """A synchronization event of one thread, for the timeline of a race."""

    time: float                   # seconds since the detector started (the first, if folded)
    kind: str                     # "acquire", "release", "start", "begin", "join", "put", ...
    what: str                     # the object: "Lock#3", "Queue#1", "Thread T2 'worker'"
    frame: Frame | None = None    # where the program did it
    direction: str = ""           # "release" (publishes the thread's past) or "acquire"
    count: int = 1                # identical events in a row, folded into this one

    def to_json(self) -> dict[str, Any]:
        return {"time": self.time, "kind": self.kind, "what": self.what,
                "frame": self.frame.to_json() if self.frame else None,
                "direction": self.direction, "count": self.count}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SyncEvent:
        frame = data.get("frame")
        return cls(float(data["time"]), str(data["kind"]), str(data["what"]),
                   Frame.from_json(frame) if frame else None, str(data.get("direction", "")),
                   int(data.get("count", 1)))


@record
class Timeline:
    """What each of the two threads did between the previous access and the current one.

    ``previous_events``: the previous access's thread, from that access on;
    ``current_events``: the current access's thread, from the previous access's time up
    to the current access.  No release in the first list reaches an acquire in the
    second before the current access: that is why the race is one.  ``truncated`` is
    set when a thread's older events were no longer kept.  A long lane keeps the events
    nearest the accesses; ``*_elided`` counts the events left out of its middle, which
    lie between its first ``ELIDED_AFTER`` events and the rest.
    """

    ELIDED_AFTER = 4

    previous_time: float
    current_time: float
    previous_events: list[SyncEvent] = field(default_factory=list)
    current_events: list[SyncEvent] = field(default_factory=list)
    truncated: bool = False
    previous_elided: int = 0
    current_elided: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"previous_time": self.previous_time, "current_time": self.current_time,
                "previous_events": [e.to_json() for e in self.previous_events],
                "current_events": [e.to_json() for e in self.current_events],
                "truncated": self.truncated, "previous_elided": self.previous_elided,
                "current_elided": self.current_elided}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Timeline:
        return cls(float(data["previous_time"]), float(data["current_time"]),
                   [SyncEvent.from_json(e) for e in data.get("previous_events") or ()],
                   [SyncEvent.from_json(e) for e in data.get("current_events") or ()],
                   bool(data.get("truncated", False)), int(data.get("previous_elided", 0)),
                   int(data.get("current_elided", 0)))


@record
class Pattern:
    """What kind of bug a race is, and how to fix it (racewatch/reports/patterns.py).

    ``fix_at``: the lines the fix changes, the first of them the race's root: races with
    one pattern and one root are one problem (``problems``).
    """

    id: str                       # "lost-update", "check-then-act", ...
    title: str                    # "lost update"
    explanation: str              # one sentence, in the program's own names
    fix: str
    fix_at: list[Frame] = field(default_factory=list)

    @property
    def root(self) -> Frame | None:
        return self.fix_at[0] if self.fix_at else None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "explanation": self.explanation,
                "fix": self.fix, "fix_at": [f.to_json() for f in self.fix_at]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Pattern:
        return cls(str(data["id"]), str(data["title"]), str(data["explanation"]),
                   str(data["fix"]), _frames(data.get("fix_at")))


@record
class Race:
    kind: str                     # "write/write" | "read/write" | "write/read" (previous/current)
    container: Container
    key: str | None               # repr of the key, cut; None for the keys location
    current: AccessInfo
    previous: AccessInfo
    count: int = 1
    # The location's noun (location_words): "key" or "keys" for a dict, "item" or "items"
    # for a list, "element" or "members" for a set, "attribute", "global".
    location: str = "key"
    tests: list[str] = field(default_factory=list)
    timeline: Timeline | None = None
    # The one location as its own JSON field holds it (a list's index as a number, an
    # attribute's or a global's name as it is, an element's repr); None for a dict's key
    # (``key`` is that) and for a whole location.
    value: str | int | None = None
    pattern: Pattern | None = None  # None in a report written before patterns existed

    @property
    def whole(self) -> bool:
        """True for the container's whole location (a dict's keys, a list's items...)."""
        return self.location == location_words(self.container.type)[1]

    def where(self) -> str:
        """The location in words: ``key 'x'``, ``item 3``, ``the keys``, ``global 'total'``."""
        if self.whole:
            return f"the {self.location}"
        return f"{self.location} {self.key}"

    @property
    def signature(self) -> tuple:
        """The pair of source lines that identifies a race across runs and processes."""
        a = _top(self.previous.stack)
        b = _top(self.current.stack)
        return tuple(sorted((a, b)))

    def to_json(self) -> dict[str, Any]:
        data = {
            "kind": self.kind,
            "container": self.container.to_json(),
            "key": self.key,
            "location": self.location,
            "current": self.current.to_json(),
            "previous": self.previous.to_json(),
            "count": self.count,
            "tests": list(self.tests),
            "timeline": self.timeline.to_json() if self.timeline else None,
        }
        if self.pattern is not None:
            data["pattern"] = self.pattern.to_json()
        # The one location in its own field too: "index" (a number), "attribute", "name"
        # (a global's), "element"; a dict's is "key" itself.
        field_name = location_words(self.container.type)[2]
        if not self.whole and field_name != "key":
            data[field_name] = self.value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Race:
        return cls(
            kind=str(data["kind"]),
            container=Container.from_json(data["container"]),
            key=data.get("key"),
            current=AccessInfo.from_json(data["current"]),
            previous=AccessInfo.from_json(data["previous"]),
            count=int(data.get("count", 1)),
            location=str(data.get("location", "key")),
            tests=[str(t) for t in data.get("tests") or ()],
            timeline=Timeline.from_json(data["timeline"]) if data.get("timeline") else None,
            value=_location_value(data),
            pattern=Pattern.from_json(data["pattern"]) if data.get("pattern") else None,
        )


def _location_value(data: dict[str, Any]) -> str | int | None:
    field_name = location_words(str(data.get("container", {}).get("type", "dict")))[2]
    value = data.get(field_name) if field_name != "key" else None
    return value if isinstance(value, (str, int)) and not isinstance(value, bool) else None


def _top(stack: list[Frame]) -> tuple[str, int]:
    return (stack[0].file, stack[0].line) if stack else ("?", 0)


@record
class Problem:
    """Races with one root cause: one pattern, one line to fix (``Pattern.root``), such as
    one unlocked write that races with reads in ten places.  A race without a pattern (from
    a report written before patterns existed) is a problem of its own."""

    pattern: Pattern | None
    races: list[Race]

    @property
    def count(self) -> int:
        return sum(r.count for r in self.races)


def problems(races: list[Race]) -> list[Problem]:
    """The races grouped by root cause, in the order their first race was found."""
    grouped: dict[tuple, Problem] = {}
    for race in races:
        root = race.pattern.root if race.pattern is not None else None
        if race.pattern is None or root is None:
            key: tuple = ("race", race.signature)
        else:
            key = (race.pattern.id, root.file, root.line)
        problem = grouped.get(key)
        if problem is None:
            grouped[key] = Problem(race.pattern, [race])
        else:
            problem.races.append(race)
    return list(grouped.values())


@record
class Summary:
    races: int = 0                # distinct races
    problems: int = 0             # the races grouped by root cause (``problems``)
    occurrences: int = 0          # every time one of them was seen
    suppressed: int = 0           # occurrences matched by a suppression
    suppressed_races: int = 0     # distinct races matched by one (per process, added up)
    threads: int = 0              # threads seen by the detector
    dicts_tracked: int = 0
    lists_tracked: int = 0
    sets_tracked: int = 0
    accesses: int = 0             # tracked accesses
    duration_s: float = 0.0
    python: str = ""
    core: str = ""                # "c" or "python": which core ran the detector
    command: list[str] = field(default_factory=list)
    pid: int | None = None
    peak_rss_mb: float | None = None
    tracking_cut: str | None = None
    started_at: str = ""          # when the detector started (ISO 8601, UTC)
    mode: str = ""                # "run", "pytest", "staging" or "api": how it was started
    recycled_thread_slots: int = 0  # see README, Limitations
    forgotten_deleted_keys: int = 0  # likewise
    forgotten_missing_keys: int = 0  # likewise

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Summary:
        known = {f.name: data[f.name] for f in fields(cls) if f.name in data}
        return cls(**known)


@record
class Report:
    version: str
    races: list[Race]
    summary: Summary

    def to_json(self) -> dict[str, Any]:
        return {"racewatch": self.version, "format": FORMAT,
                "races": [r.to_json() for r in self.races], "summary": self.summary.to_json()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Report:
        return cls(str(data.get("racewatch", "")), [Race.from_json(r) for r in data["races"]],
                   Summary.from_json(data.get("summary") or {}))
