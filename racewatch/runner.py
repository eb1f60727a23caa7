"""Run a program the way ``python SCRIPT`` / ``python -m MODULE`` would, instrumented.

``sys.argv``, ``sys.path[0]``, ``__main__`` and the shutdown sequence are those of plain
Python: the script's directory (or, for ``-m``, the current directory) comes first on the
path, ``__name__ == "__main__"``, and at the end non-daemon threads are waited for before
the program's ``atexit`` handlers run.
"""

from __future__ import annotations

import atexit
import builtins
import codecs
import importlib.machinery
import importlib.util
import os
import re
import runpy
import sys
import threading
import types

from .instrument.hook import load_instrumented
from .runtime import stacks
from .runtime.tracebacks import clean

TYPE_CHECKING = False  # typing costs start-up time; annotations are not evaluated
if TYPE_CHECKING:
    from typing import NoReturn


class ProgramError(Exception):
    """The program could not be started (a missing file or module): one line for the user."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


def locate_script(path: str) -> str:
    """The file to run for ``path``: the script itself, or a directory's ``__main__.py``."""
    if os.path.isdir(path):
        main = os.path.join(path, "__main__.py")
        if not os.path.isfile(main):
            raise ProgramError(f"can't find '__main__' module in {path!r}", 1)
        return main
    if not os.path.exists(path):
        raise ProgramError(f"can't open file {os.path.abspath(path)!r}: "
                           "[Errno 2] No such file or directory", 2)
    if not os.path.isfile(path):
        raise ProgramError(f"can't open file {os.path.abspath(path)!r}: not a regular file", 2)
    return path


def check_module(name: str) -> None:
    """Fail early, in one line, for a module that cannot be found."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError) as exc:
        raise ProgramError(str(exc) or f"No module named {name!r}", 1) from None
    if spec is None:
        raise ProgramError(f"No module named {name!r}", 1)


def _fresh_main() -> types.ModuleType:
    main = types.ModuleType("__main__")
    main.__builtins__ = builtins
    main.__annotations__ = {}  # the interpreter gives its __main__ one
    sys.modules["__main__"] = main
    return main


# The comment that declares a source file's encoding (PEP 263), as tokenize matches it.
_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.ASCII)
_BLANK = re.compile(rb"^[ \t\f]*(?:[#\r\n]|$)", re.ASCII)


def check_script_encoding(filename: str, source: bytes) -> None:
    """Raise the SyntaxError python raises for a main script it cannot decode.

    python reads its main script with the file tokenizer, which checks the encoding line
    by line and words its errors its own way; ``compile()``, which runs everything else
    (imports included), decodes the whole source at once and words them otherwise, or for
    a stray byte in a comment not at all.  CPython 3.10 to 3.13 say, with no location:
    ``Non-UTF-8 code starting with '\\xe9' in file F on line N, but no encoding declared;
    see URL for details`` (3.10: N one past the line, its own URL, surrogates let through),
    and ``encoding problem: NAME`` (``... with BOM``) for a declared encoding that is
    unknown or does not decode.  A declared or BOM-marked UTF-8 fails as in compile().
    """
    lines = source.split(b"\n")
    bom = source.startswith(codecs.BOM_UTF8)
    cookie = _COOKIE.match(lines[0][3 if bom else 0:])
    if cookie is None and len(lines) > 1 and _BLANK.match(lines[0]):
        cookie = _COOKIE.match(lines[1])
    if cookie is not None:
        name = _normal_encoding_name(cookie.group(1).decode("ascii"))
        if name == "utf-8":
            return
        if bom:
            raise SyntaxError(f"encoding problem: {name} with BOM")
        try:
            source.decode(name)
        except (LookupError, UnicodeDecodeError):
            raise SyntaxError(f"encoding problem: {name}") from None
        return
    if bom:
        return
    old = sys.version_info < (3, 11)
    for number, line in enumerate(lines, 1):
        try:
            line.decode("utf-8", "surrogatepass" if old else "strict")
        except UnicodeDecodeError as exc:
            url = "https://python.org/dev/peps/pep-0263/" if old else \
                "https://peps.python.org/pep-0263/"
            raise SyntaxError(
                f"Non-UTF-8 code starting with '\\x{line[exc.start]:02x}' in file {filename} "
                f"on line {number + old}, but no encoding declared; see {url} for details"
            ) from None


def _normal_encoding_name(name: str) -> str:
    """The encoding name as the tokenizer prints it (tokenizer.c, get_normal_name)."""
    short = name[:12].lower().replace("_", "-")
    if short == "utf-8" or short.startswith("utf-8-"):
        return "utf-8"
    if short in ("latin-1", "iso-8859-1", "iso-latin-1") or \
            short.startswith(("latin-1-", "iso-8859-1-", "iso-latin-1-")):
        return "iso-8859-1"
    return name


def run_script(path: str, args: list[str], keep_process: bool = False) -> None:
    """Execute ``path`` as ``__main__``; exceptions propagate as from plain Python.

    ``keep_process``: the interpreter has already set ``sys.argv``, ``sys.path[0]`` and
    ``__main__`` up for this script (staging, see startup.py): keep them.
    """
    target = locate_script(path)
    if not keep_process:
        sys.argv = [path, *args]
        sys.path[0] = os.path.dirname(os.path.realpath(target))
    filename = os.path.abspath(target)
    with open(filename, "rb") as f:
        check_script_encoding(filename, f.read())
    code = load_instrumented(filename, cached=False)  # Python does not cache the script either
    main = sys.modules["__main__"] if keep_process else _fresh_main()
    main.__file__ = filename
    main.__cached__ = None
    main.__loader__ = importlib.machinery.SourceFileLoader("__main__", filename)
    main.__spec__ = None
    exec(code, main.__dict__)


def run_module(name: str, args: list[str]) -> None:
    """Execute module ``name`` as ``__main__``, as ``python -m`` does."""
    sys.path[0] = os.getcwd()
    check_module(name)
    sys.argv = [name, *args]
    _fresh_main()
    runpy._run_module_as_main(name, alter_argv=True)


def exit_status(exc: BaseException | None) -> int:
    """The status plain Python exits with after ``exc`` (printed as Python prints it)."""
    if exc is None:
        return 0
    if isinstance(exc, SystemExit):
        code = exc.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code & 0xFF if code >= 0 else code % 256
        sys.stderr.write(f"{code}\n")
        return 1
    # Without racewatch's frames; the script's own SyntaxError is then left with none,
    # and prints exactly as Python prints it.
    clean(exc)
    sys.excepthook(type(exc), exc, exc.__traceback__)
    # 128 + SIGINT is what the process would exit with if it could not kill itself with
    # SIGINT (see exit_by_sigint); CPython asks for the exact type.
    return 130 if type(exc) is KeyboardInterrupt else 1


def exit_by_sigint() -> NoReturn:
    """End the process as python does after an uncaught KeyboardInterrupt.

    CPython finalizes the interpreter, then restores SIGINT's default action and kills
    itself with SIGINT, so that a shell or a parent sees the process die of the signal
    (bpo-1054041); it does so when a KeyboardInterrupt leaves the main module.  So this
    raises one, out of racewatch's own main module, with ``sys.excepthook`` told to print
    nothing for it: the program's traceback was printed already (``exit_status``).
    """
    interrupt = KeyboardInterrupt()
    previous = sys.excepthook

    def excepthook(exc_type, exc, tb):
        if exc is not interrupt:
            previous(exc_type, exc, tb)

    sys.excepthook = excepthook
    raise interrupt


def shut_down() -> None:
    """What the interpreter does at exit, now, so that the report can come last.

    Non-daemon threads are waited for (``threading._shutdown``, which also runs the
    callbacks that stop executor workers), then the program's ``atexit`` handlers run,
    newest first; racewatch's own handler was registered before the program started, so
    it runs after all of them.  The interpreter will not run them a second time.
    """
    try:
        threading._shutdown()
    except KeyboardInterrupt:
        pass
    atexit._run_exitfuncs()


stacks.end_stacks_at_frames_of(globals())
