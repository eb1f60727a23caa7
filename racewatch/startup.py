"""``RACEWATCH=1``: racewatch on in any Python process, from interpreter start-up.

Installing racewatch puts ``racewatch.pth`` in site-packages.  Its one line runs at every
interpreter start-up and costs one dictionary lookup when the variable is unset: it
imports nothing, racewatch included.  With ``RACEWATCH`` set to a true value it calls
``activate()``, before the application imports anything:

* options come from ``[tool.racewatch]``, ``RACEWATCH_OPTIONS`` (SPEC section 5);
* the detector starts, instrumenting the modules under the current directory and the
  main script's directory;
* the main script itself is compiled by the interpreter, not imported, so it would escape
  the import hook: an audit hook on ``cpython.run_file`` (raised right before the
  interpreter runs it) runs it instrumented instead, exactly as ``racewatch run`` does,
  then hands the script's exit status back as ``SystemExit``, which the interpreter
  treats as the script's own exit (its normal shutdown, threads and ``atexit`` included,
  follows).  ``python -m`` needs none of this: the module is imported, through the hook.

Nothing here may stop the interpreter from starting: a bad option, an unreadable
configuration or an internal error prints one warning line and the program runs
normally, uninstrumented.  Calling ``activate()`` twice is harmless (``racewatch.pth``
may be read twice, through a ``lib64`` symlink).
"""

from __future__ import annotations

import os
import sys

ENV = "RACEWATCH"
_FALSE = {"", "0", "false", "no", "off"}
_state = {"activated": False}


def enabled(environ=os.environ) -> bool:
    return environ.get(ENV, "").strip().lower() not in _FALSE


def activate() -> None:
    """Called by ``racewatch.pth`` when ``RACEWATCH`` is in the environment.  Never raises."""
    if _state["activated"] or not enabled():
        return
    _state["activated"] = True
    try:
        _activate()
    except Exception as exc:  # noqa: BLE001 -- see the module docstring
        _warn(f"not started: {exc}" if _is_option_error(exc)
              else f"not started (internal error: {type(exc).__name__}: {exc})")


def _warn(message: str) -> None:
    try:
        sys.stderr.write(f"racewatch: warning: {message}; the program runs unwatched\n")
        sys.stderr.flush()
    except Exception:  # noqa: BLE001 -- no stderr: nothing to tell, nothing to stop
        pass


def _is_option_error(exc: Exception) -> bool:
    from .config import OptionError

    return isinstance(exc, OptionError)


def _launched_by_racewatch() -> bool:
    """``racewatch run`` and ``pytest --racewatch`` start their own detector."""
    argv = list(getattr(sys, "orig_argv", None) or sys.argv)
    args = argv[1:]
    if args[:2] == ["-m", "racewatch"]:
        return True
    script = os.path.basename(sys.argv[0]) if sys.argv else ""
    return script in ("racewatch", "racewatch.exe") or \
        (("pytest" in script or args[:2] == ["-m", "pytest"]) and "--racewatch" in args)


def _activate() -> None:
    if _launched_by_racewatch():
        return
    from . import session
    from .config import resolve_options

    options = resolve_options()
    script = _main_script()
    roots = [os.getcwd()]
    if script is not None:
        roots.append(os.path.dirname(os.path.realpath(script)))
    command = list(getattr(sys, "orig_argv", None) or sys.argv)[1:]
    active = session.start(options, roots=roots, command=command, mode="staging")
    # Children (subprocesses, multiprocessing spawn) inherit RACEWATCH and so are watched
    # too; this tells them they are children (see session.Session.write_reports).
    os.environ.setdefault(session.PARENT_ENV, str(active.pid))
    if script is not None:
        sys.addaudithook(_RunMainScript(script))


def _main_script() -> str | None:
    """The script ``python SCRIPT`` is about to run, if that is how it was started."""
    argv = list(getattr(sys, "orig_argv", None) or [])
    if not sys.argv or not sys.argv[0] or sys.argv[0] in ("-c", "-m", "-"):
        return None
    path = sys.argv[0]
    if len(argv) > 1 and argv[-len(sys.argv):] != sys.argv:  # an interpreter argument?
        return None
    if not os.path.isfile(path) or _is_zip(path):  # a zip app is run by its __main__ module
        return None
    return path


def _is_zip(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"PK\x03\x04"
    except OSError:
        return True


class _RunMainScript:
    """The audit hook that runs the main script instrumented (see the module docstring).

    It is called for every audited event of the process, so it does one comparison and
    returns, except once.
    """

    def __init__(self, script: str):
        self.script = os.path.realpath(script)
        self.done = False

    def __call__(self, event: str, args: tuple) -> None:
        if event != "cpython.run_file" or self.done:
            return
        self.done = True
        if os.path.realpath(str(args[0])) != self.script:
            return
        from . import runner

        failure = None
        try:
            runner.run_script(sys.argv[0], sys.argv[1:], keep_process=True)
        except BaseException as exc:  # the program's own failure, reported as Python would
            failure = exc
        raise SystemExit(runner.exit_status(failure)) from None
