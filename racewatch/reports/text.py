"""The ThreadSanitizer-style text report, written to stderr as each race is found.

Everything a report prints that the program chose (a key's repr, a thread's name, a
function's name, a file's path, a source line) goes through ``printable``: a newline in a
key's ``__repr__`` would otherwise forge a ``SUMMARY: racewatch: ...`` line of its own, an
ESC sequence would drive the terminal, and a lone surrogate (a file name that is not
UTF-8) would make writing the report fail.  The JSON, HTML and SARIF reports escape in
their own formats.
"""

from __future__ import annotations

from .model import AccessInfo, Frame, Race, ThreadRef, location_words

RULE = "=" * 18
_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\t"}  # a tab is only white space


def printable(text: str) -> str:
    """``text`` with each character that is not printable escaped as in a repr: control
    characters, line and paragraph separators, format characters (a bidi override),
    surrogates."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else _NAMED_ESCAPES.get(ch) or _escape(ch)
                   for ch in text)


def _escape(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _path(file: str, strip_prefix: str) -> str:
    if strip_prefix and file.startswith(strip_prefix):
        file = file[len(strip_prefix):]
    return printable(file)


def format_frames(frames: list[Frame], strip_prefix: str = "", indent: str = "    ",
                  source: bool = True) -> list[str]:
    """``#0 function file:line`` lines, innermost first, with the innermost source line."""
    if not frames:
        return [f"{indent}(no frames)"]
    lines = []
    for i, f in enumerate(frames):
        lines.append(f"{indent}#{i} {printable(f.function)} {_path(f.file, strip_prefix)}:"
                     f"{f.line}")
        if source and i == 0:
            import linecache  # here: a run without a race does not pay for its import

            text = linecache.getline(f.file, f.line).strip()
            if text:
                lines.append(f"{indent}     {printable(text)}")
    return lines


def thread_label(t: ThreadRef) -> str:
    return f"T{t.id} '{t.name}'"


def _thread(t: ThreadRef) -> str:
    return printable(thread_label(t))


def _what(race: Race, access: AccessInfo, current: bool) -> str:
    verb = "Update" if access.update else "Write" if access.write else "Read"
    if not current:
        verb = "Previous " + verb.lower()
    if race.whole:
        one = location_words(race.container.type)[0]
        touched = f", {one} {printable(access.key)}" if access.key is not None else ""
        container = printable(race.container.phrase("the"))
        target = f"the {race.location} of {container} ({access.op}{touched})"
    else:
        target = f"{race.location} {printable(race.key or '')} ({access.op})"
    return f"{verb} of {target} by thread {_thread(access.thread)}"


def _locks(access: AccessInfo, strip_prefix: str) -> str:
    if not access.locks_held:
        return "    locks held: none"
    parts = []
    for lock in access.locks_held:
        where = lock.created_at[0] if lock.created_at else None
        at = f" created at {_path(where.file, strip_prefix)}:{where.line}" if where else ""
        parts.append(f"{printable(lock.name)}{at}")
    return "    locks held: " + ", ".join(parts)


def format_race(race: Race, pid: int | None = None, strip_prefix: str = "") -> str:
    """One race, as ThreadSanitizer would print it."""
    head = "WARNING: racewatch: data race" + (f" (pid={pid})" if pid is not None else "")
    lines = [RULE, head, *pattern_lines(race)]
    for access, current in ((race.current, True), (race.previous, False)):
        lines.append(f"  {_what(race, access, current)}:")
        lines.extend(format_frames(access.stack, strip_prefix))
        lines.append(_locks(access, strip_prefix))
        lines.append("")
    where = (f"the {race.location}" if race.whole
             else f"{race.location} {printable(race.key or '')}")
    lines.append(f"  Location is {where} of {printable(race.container.phrase())} "
                 f"{race.container.origin}:")
    lines.extend(format_frames(race.container.created_at, strip_prefix, source=False))
    lines.append("")
    seen = set()
    for access in (race.current, race.previous):
        t = access.thread
        if t.id in seen:
            continue
        seen.add(t.id)
        if t.created_at:
            lines.append(f"  Thread {_thread(t)} created at:")
            lines.extend(format_frames(t.created_at, strip_prefix, source=False))
        elif t.name == "MainThread":
            lines.append(f"  Thread {_thread(t)} is the main thread.")
        else:
            lines.append(f"  Thread {_thread(t)} was started before racewatch, "
                         "or outside threading.")
        lines.append("")
    top = race.current.stack[0] if race.current.stack else None
    where_line = f" {_path(top.file, strip_prefix)}:{top.line} in {printable(top.function)}" \
        if top else ""
    lines.append(f"SUMMARY: racewatch: data race{where_line}")
    lines.append(RULE)
    return "\n".join(lines) + "\n"


def pattern_lines(race: Race, indent: str = "  ") -> list[str]:
    """What kind of bug the race is, and how to fix it: two lines, then a blank one (none
    for a race from a report written before patterns existed)."""
    p = race.pattern
    if p is None:
        return []
    return [f"{indent}Pattern: {p.title}: {printable(p.explanation)}",
            f"{indent}Fix: {printable(p.fix)}", ""]


def format_refinement(race: Race, strip_prefix: str = "") -> str:
    """A race printed already, whose later occurrence showed a more specific pattern."""
    ends = " and ".join(f"{_path(file, strip_prefix)}:{line}" for file, line in race.signature)
    return "\n".join([f"racewatch: seen again, the race between {ends} shows more of what "
                       "it is:", *pattern_lines(race)]) + "\n"


def closing_line(distinct: int, suppressed: int = 0, problems: int | None = None) -> str:
    """The last line racewatch prints: ``racewatch: N race(s) found`` (or none), how many
    problems they are when races share a root cause (``(3 problems)``), and how many
    distinct races the suppressions hid, when any did."""
    found = f"{distinct} race{'s' if distinct != 1 else ''}" if distinct else "no races"
    grouped = (f" ({problems} problem{'s' if problems != 1 else ''})"
               if problems is not None and 0 < problems < distinct else "")
    hidden = f", {suppressed} suppressed" if suppressed else ""
    return f"racewatch: {found} found{grouped}{hidden}"
