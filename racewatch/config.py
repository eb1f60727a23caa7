"""One ``Options`` object from ``[tool.racewatch]``, ``RACEWATCH_OPTIONS`` and the command line.

SPEC section 5: one set of names, read weakest first from pyproject.toml, then the
``RACEWATCH_OPTIONS`` variable (``"key=value key=value"``, like ``GORACE``), then the
command line.  An unknown key or a bad value is an ``OptionError`` that names it.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping

from .records import field, fields, record, replace

TYPE_CHECKING = False  # typing costs start-up time; annotations are not evaluated
if TYPE_CHECKING:
    from typing import Any

ENV_OPTIONS = "RACEWATCH_OPTIONS"
# What the ``watch`` option can name, in the order of Settings.watch's bits.
WATCH_KINDS = ("dict", "attr", "global", "list", "set")


class OptionError(ValueError):
    """A bad option: the message names the option, the value and where it came from."""


@record(frozen=True)
class Options:
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    json: str | None = None
    html: str | None = None
    sarif: str | None = None
    log_path: str | None = None
    exitcode: int = 66
    halt_on_error: bool = False
    suppressions: str | None = None
    strip_path_prefix: str = ""
    stack_depth: int = 32
    max_memory_mb: int = 0          # 0: no budget
    report_key_order: bool = False  # 1: inserts and deletes of different keys race too
    watch: tuple[str, ...] = WATCH_KINDS  # the kinds of shared state that are tracked
    # Where the options came from, for messages (not an option itself).
    sources: tuple[str, ...] = field(default=(), compare=False)

    def merged(self, values: Mapping[str, Any], source: str) -> Options:
        """These options with ``values`` (raw, from ``source``) laid over them."""
        changes = {name: _convert(name, value, source) for name, value in values.items()}
        return replace(self, **changes, sources=self.sources + (source,))


OPTION_NAMES = tuple(f.name for f in fields(Options) if f.name != "sources")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _convert(name: str, value: Any, source: str):
    if name not in OPTION_NAMES:
        raise OptionError(f"unknown option {name!r} in {source} "
                          f"(known: {', '.join(OPTION_NAMES)})")
    where = f"option {name!r} in {source}"
    if name in ("include", "exclude"):
        if isinstance(value, str):
            items = [p.strip() for p in value.split(",")]
        elif isinstance(value, (list, tuple)) and all(isinstance(p, str) for p in value):
            items = [p.strip() for p in value]
        else:
            raise OptionError(f"{where}: expected module patterns, got {value!r}")
        return tuple(p for p in items if p)
    if name == "watch":
        return _watch_kinds(value, where)
    if name in ("exitcode", "stack_depth", "max_memory_mb"):
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise OptionError(f"{where}: expected a whole number, got {value!r}")
        try:
            number = int(value)
        except ValueError:
            raise OptionError(f"{where}: expected a whole number, got {value!r}") from None
        low, high = {"exitcode": (0, 255), "stack_depth": (1, 1000),
                     "max_memory_mb": (0, 10**9)}[name]
        if not low <= number <= high:
            raise OptionError(f"{where}: {number} is out of range {low}..{high}")
        return number
    if name in ("halt_on_error", "report_key_order"):
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise OptionError(f"{where}: expected 0 or 1, got {value!r}")
    # Paths and strings.
    if not isinstance(value, str):
        raise OptionError(f"{where}: expected a string, got {value!r}")
    if name == "strip_path_prefix":
        return value
    return value or None


def _watch_kinds(value, where: str) -> tuple[str, ...]:
    """``"dict,list"`` or ``["dict", "list"]``: known kinds only, at least one."""
    if isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, (list, tuple)) and all(isinstance(p, str) for p in value):
        items = list(value)
    else:
        raise OptionError(f"{where}: expected some of {','.join(WATCH_KINDS)}, got {value!r}")
    kinds = [p.strip() for p in items if p.strip()]
    unknown = [k for k in kinds if k not in WATCH_KINDS]
    if unknown or not kinds:
        what = f"unknown kind {unknown[0]!r}" if unknown else "nothing to watch"
        raise OptionError(f"{where}: {what} (expected some of {','.join(WATCH_KINDS)})")
    return tuple(k for k in WATCH_KINDS if k in kinds)


def parse_env_options(text: str, source: str = ENV_OPTIONS) -> dict[str, str]:
    """``"key=value key='a value'"`` -> ``{"key": "value", ...}``."""
    import shlex  # here: most runs set no options in the environment

    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise OptionError(f"cannot parse {source}: {exc}") from None
    values = {}
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or not key:
            raise OptionError(f"{source}: expected key=value, got {word!r}")
        values[key] = value
    return values


def find_pyproject(start: str | os.PathLike) -> str | None:
    """The nearest pyproject.toml at or above ``start`` (os.path: pathlib's import is a
    tenth of a watched process's start-up)."""
    directory = os.path.realpath(start)
    while True:
        candidate = os.path.join(directory, "pyproject.toml")
        if os.path.isfile(candidate):
            return candidate
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def may_hold_table(text: str) -> bool:
    """Whether the TOML document ``text`` may define ``tool.racewatch`` or a key of it:
    False only when every table header and every key (with the table it is in) is seen to
    be another one's.  A scan of the document's structure, not a parser: it follows
    strings (with their escapes), comments, brackets and multi-line values, and skips each
    value whole, so that nothing inside one is taken for a header or a key.  A quoted or
    spaced name counts as the same name bare (``[tool . "racewatch"]``); a key ``tool``
    (``tool = {racewatch = ...}``) may hold it; anything it cannot follow (an escape in a
    name, a line it cannot read) may hold it too, and the parser decides, or reports the
    error."""
    table = ""
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in " \t\r\n":
            i += 1
        elif c == "#":
            i = _line_end(text, i)
        else:
            header = c == "["
            name, i = _name(text, i + 1 if header else i, "]" if header else "=")
            if name is None:
                return True
            if header:
                table = name.lstrip("[")
                if table.startswith("tool.racewatch"):
                    return True
                i = _line_end(text, i)
            else:
                full = f"{table}.{name}" if table else name
                if full.startswith("tool.racewatch") or full == "tool":
                    return True
                i = _value_end(text, i + 1)
                if i < 0:
                    return True
    return False


def _line_end(text: str, i: int) -> int:
    end = text.find("\n", i)
    return len(text) if end < 0 else end


def _name(text: str, i: int, stop: str) -> tuple[str | None, int]:
    """The name (a table header's, or a key's) from ``i`` up to ``stop`` outside quotes,
    its quotes and spaces taken out, and the place of ``stop``; None for a name with an
    escape, or not ended on its line."""
    parts = []
    n = len(text)
    while i < n:
        c = text[i]
        if c == stop:
            return "".join(parts), i
        if c in "\"'":
            end = text.find(c, i + 1)
            line = _line_end(text, i)
            if end < 0 or end > line or (c == '"' and "\\" in text[i:end]):
                return None, i
            parts.append(text[i + 1:end])
            i = end + 1
        elif c == "\n" or c == "#":
            return None, i
        else:
            if c not in " \t":
                parts.append(c)
            i += 1
    return None, i


# What ends a stretch of a value, and of a string of each quote: compiled on first use
# (re's cache), not at import, which every run pays whether or not it reads a pyproject.
_VALUE_MARK = r"[\"'#\n\[\]{}]"
_STRING_MARK = {'"': r'["\\\n]', "'": r"['\n]"}


def _value_end(text: str, i: int) -> int:
    """Where the value that starts at ``i`` ends (the end of its last line), or -1 for one
    that never does."""
    depth, n = 0, len(text)
    marks = re.compile(_VALUE_MARK)
    while (mark := marks.search(text, i)) is not None:
        i = mark.start()
        c = text[i]
        if c in "\"'":
            i = _string_end(text, i)
            if i < 0:
                return -1
        elif c == "#":
            i = _line_end(text, i)
        elif c == "\n":
            if depth <= 0:
                return i
            i += 1
        else:
            depth += 1 if c in "[{" else -1
            i += 1
    return n


def _string_end(text: str, i: int) -> int:
    """Just past the string that starts at ``i`` (basic or literal, one line or many), or
    -1 for one that never ends."""
    quote = text[i]
    multi = text.startswith(quote * 3, i)
    i += 3 if multi else 1
    marks = re.compile(_STRING_MARK[quote])
    while (mark := marks.search(text, i)) is not None:
        i = mark.start()
        c = text[i]
        if c == "\\":
            i += 2
        elif c == "\n":
            if not multi:
                return -1
            i += 1
        elif not multi:
            return i + 1
        elif text.startswith(quote * 3, i):
            i += 3
            while i < len(text) and text[i] == quote:   # up to two quotes end the content
                i += 1
            return i
        else:
            i += 1
    return -1


def read_pyproject(path: str | os.PathLike) -> dict[str, Any]:
    """The ``[tool.racewatch]`` table of ``path`` (empty when there is none).

    A file that does not say ``racewatch`` anywhere has no such table, however its keys are
    spelled, and neither has one that names it only where ``may_hold_table`` sees another
    table's key or a value (a project that lists racewatch among its dependencies or entry
    points): neither is parsed.  Importing a TOML parser (``tomllib`` imports ``typing`` and
    ``datetime`` and compiles its expressions) took 13-17 ms on Python 3.11, a sixth of
    what ``racewatch run`` adds to a program's start."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as exc:
        raise OptionError(f"cannot read {path}: {exc.strerror}") from None
    if b"racewatch" not in raw:
        return {}
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise OptionError(f"cannot parse {path}: {exc}") from None
    if not may_hold_table(text):
        return {}
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise OptionError(f"cannot parse {path}: {exc}") from None
    table = data.get("tool", {}).get("racewatch", {})
    if not isinstance(table, dict):
        raise OptionError(f"{path}: [tool.racewatch] must be a table")
    # TOML spells keys with dashes as often as with underscores.
    return {key.replace("-", "_"): value for key, value in table.items()}


def resolve_options(cli: Mapping[str, Any] | None = None,
                    environ: Mapping[str, str] | None = None,
                    cwd: str | os.PathLike | None = None,
                    more_files: tuple[Mapping[str, Any], str] | None = None,
                    cli_source: str = "the command line") -> Options:
    """The options in force: pyproject, then ``more_files`` (values and where they came
    from: a pytest ini file), then ``RACEWATCH_OPTIONS``, then ``cli``."""
    environ = os.environ if environ is None else environ
    options = Options()
    pyproject = find_pyproject(cwd or os.getcwd())
    if pyproject is not None:
        table = read_pyproject(pyproject)
        if table:
            options = options.merged(table, f"[tool.racewatch] of {pyproject}")
    if more_files is not None and more_files[0]:
        options = options.merged(*more_files)
    text = environ.get(ENV_OPTIONS)
    if text:
        options = options.merged(parse_env_options(text), ENV_OPTIONS)
    if cli:
        options = options.merged({k: v for k, v in cli.items() if v is not None}, cli_source)
    return options


def expand_pid(path: str | None, pid: int | None = None) -> str | None:
    """``log_path``'s ``%p`` becomes the process id."""
    if path is None:
        return None
    return path.replace("%p", str(os.getpid() if pid is None else pid))
