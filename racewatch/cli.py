"""``racewatch run`` (and, later, ``racewatch report``): the command line of SPEC section 3."""

from __future__ import annotations

import argparse
import os
import sys

from . import __version__

USAGE_ERROR = 2

# Options of SPEC section 5 that ``run`` accepts as flags: (flag, option name, help).
_RUN_OPTIONS = [
    ("--include", "include", "GLOBS",
     "module-name globs to instrument as well (comma-separated)"),
    ("--exclude", "exclude", "GLOBS", "module-name globs never to instrument (comma-separated)"),
    ("--json", "json", "PATH", "write the JSON report to PATH"),
    ("--html", "html", "PATH", "write the HTML report to PATH"),
    ("--sarif", "sarif", "PATH", "write a SARIF 2.1.0 file to PATH (for code scanning)"),
    ("--exitcode", "exitcode", "N",
     "exit status when the program exits 0 but races were found (default 66)"),
    ("--log-path", "log_path", "PATH", "append each race to PATH as a JSON line (%%p: the pid)"),
    ("--suppressions", "suppressions", "FILE", "a ThreadSanitizer-style suppressions file"),
    ("--strip-path-prefix", "strip_path_prefix", "PREFIX",
     "leave this prefix out of reported paths"),
    ("--stack-depth", "stack_depth", "N", "frames recorded per stack (default 32)"),
    ("--max-memory-mb", "max_memory_mb", "MB",
     "past this resident memory, stop tracking new dicts and keys (default: no budget)"),
    ("--watch", "watch", "KINDS",
     "what is tracked, comma-separated: dict,attr,global,list,set (default: all)"),
]


def _columns() -> int:
    """The terminal's width as shutil.get_terminal_size() gives it (COLUMNS, then the
    terminal of standard output, then 80)."""
    try:
        columns = int(os.environ.get("COLUMNS", 0))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class _Formatter(argparse.HelpFormatter):
    """argparse's help formatter, as wide as argparse makes it, without importing shutil
    for the width: argparse makes one for every argument added, and shutil's import (with
    the compression modules it imports) was a fifteenth of every run's start-up."""

    def __init__(self, prog, indent_increment=2, max_help_position=24, width=None, **kwargs):
        if width is None:
            width = _columns() - 2
        super().__init__(prog, indent_increment, max_help_position, width, **kwargs)


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message):
        sys.stderr.write(f"racewatch: error: {message} (see '{self.prog} --help')\n")
        sys.exit(USAGE_ERROR)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="racewatch", description="A data-race detector for Python threads.")
    parser.add_argument("--version", action="version", version=f"racewatch {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    run = commands.add_parser(
        "run", help="run a program with race detection",
        usage="racewatch run [options] SCRIPT [ARGS...]\n"
              "       racewatch run [options] -m MODULE [ARGS...]",
        description="Run SCRIPT (or -m MODULE) as plain python would, instrumented; report "
                    "each race on stderr as it is found. The program's exit status is kept, "
                    "except that a program that exits 0 after races exits 66.")
    for flag, name, metavar, text in _RUN_OPTIONS:
        run.add_argument(flag, dest=name, metavar=metavar, help=text)
    run.add_argument("--halt-on-error", dest="halt_on_error", action="store_const", const="1",
                     help="stop the program at the first race")
    run.add_argument("--report-key-order", dest="report_key_order", action="store_const",
                     const="1", help="report two threads inserting or deleting different keys "
                                     "of a dict (the order of its keys) as a race")
    run.add_argument("-m", dest="module", nargs=argparse.REMAINDER, metavar="MODULE ...",
                     help="run a library module as a script")
    run.add_argument("program", nargs=argparse.REMAINDER, metavar="SCRIPT [ARGS...]")

    report = commands.add_parser(
        "report", help="merge and render the logs (or JSON reports) of earlier runs",
        usage="racewatch report LOG... [--json PATH] [--html PATH] [--sarif PATH]",
        description="Read racewatch logs (log_path) and JSON reports, merge them (the same "
                    "race from several processes is shown once, with its counts), print "
                    "the races and write the reports asked for. Exits 66 when there are "
                    "races, 0 when there are none.")
    report.add_argument("logs", nargs="+", metavar="LOG", help="log or JSON report files")
    report.add_argument("--json", metavar="PATH", help="write the merged JSON report there")
    report.add_argument("--html", metavar="PATH", help="write the HTML report there")
    report.add_argument("--sarif", metavar="PATH", help="write a SARIF 2.1.0 file there")
    report.add_argument("--exitcode", type=int, default=66, metavar="N",
                        help="exit status when there are races (default 66)")
    report.add_argument("--strip-path-prefix", default="", metavar="P",
                        help="leave this prefix out of reported paths")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.command == "run":
        return _run(parser, args)
    if args.command == "report":
        return _report(args)
    parser.print_help(sys.stderr)
    return USAGE_ERROR


def _report(args) -> int:
    from .reports import text
    from .reports.files import REPORT_FILES, failure, unwritable, write_report
    from .reports.log import LogError, read_logs
    from .reports.merge import merge_reports

    for name in REPORT_FILES:
        path = getattr(args, name)
        reason = unwritable(path) if path else None
        if reason is not None:
            sys.stderr.write(f"racewatch: error: --{name}: cannot write {path!r}: {reason}\n")
            return USAGE_ERROR
    try:
        reports = read_logs(args.logs,
                            warn=lambda message: sys.stderr.write(f"racewatch: warning: "
                                                                  f"{message}\n"))
    except LogError as exc:
        sys.stderr.write(f"racewatch: error: {exc}\n")
        return USAGE_ERROR
    merged = merge_reports(reports, command=["racewatch", "report", *args.logs])
    for race in merged.races:
        sys.stdout.write(text.format_race(race, strip_prefix=args.strip_path_prefix))
    processes = len(reports)
    suppressed = merged.summary.suppressed_races
    found = text.closing_line(len(merged.races), problems=merged.summary.problems)
    sys.stdout.write(f"{found} in {processes} "
                     f"process{'es' if processes != 1 else ''} "
                     f"({merged.summary.occurrences} occurrences)"
                     f"{f', {suppressed} suppressed' if suppressed else ''}\n")
    status = args.exitcode if merged.races else 0
    for name in REPORT_FILES:
        path = getattr(args, name)
        if not path:
            continue
        try:
            write_report(name, merged, path, args.strip_path_prefix)
        except OSError as exc:
            sys.stderr.write(f"racewatch: error: cannot write {REPORT_FILES[name]} to "
                             f"{path}: {failure(exc, path)}\n")
            status = USAGE_ERROR
    return status


# An install without a C compiler falls back to the pure-Python core without a word (the
# build's warning scrolls past in pip's output); the user should hear of it once per run,
# with the way out, unless the pure-Python core is what they asked for.
SLOW_CORE_NOTE = (
    "racewatch: note: the pure-Python core runs: the compiled core, several times faster, "
    "cannot be loaded ({why}); it is built when racewatch is installed, where a C compiler "
    "and the Python headers are available\n"
    "racewatch: note: to get it, install a C compiler and the Python headers (Debian, "
    "Ubuntu: apt-get install gcc python3-dev), then reinstall racewatch with "
    "pip install --force-reinstall --no-cache-dir; RACEWATCH_CORE=python chooses the "
    "pure-Python core without this note\n")


def _note_the_core() -> None:
    from .runtime import core

    if core.NAME != "python" or core.choice() != "auto":
        return
    from importlib.util import find_spec

    spec = find_spec("racewatch._core")
    if spec is None:
        why = "racewatch._core is not installed"
    elif spec.origin is None:  # its C sources' directory, seen as a namespace package
        why = "racewatch._core is not built"
    else:
        try:
            from . import _core  # noqa: F401

            why = "racewatch._core is not a build of this racewatch"
        except ImportError as exc:
            why = str(exc)
    sys.stderr.write(SLOW_CORE_NOTE.format(why=why))
    sys.stderr.flush()


def _run(parser, args) -> int:
    from .config import OptionError, resolve_options

    try:
        from . import runner, session  # chooses the core (RACEWATCH_CORE) as it imports
    except OptionError as exc:
        sys.stderr.write(f"racewatch: error: {exc}\n")
        return USAGE_ERROR
    _note_the_core()

    if args.module is not None:
        if not args.module:
            parser.error("argument -m: expected a module name")
        module, program_args = args.module[0], args.module[1:]
        script = None
    elif args.program:
        script, program_args = args.program[0], args.program[1:]
        module = None
    else:
        parser.error("nothing to run: give a SCRIPT or -m MODULE")

    cli = {name: getattr(args, name) for _, name, _, _ in _RUN_OPTIONS}
    cli["halt_on_error"] = args.halt_on_error
    cli["report_key_order"] = args.report_key_order
    try:
        options = resolve_options(cli)
    except OptionError as exc:
        sys.stderr.write(f"racewatch: error: {exc}\n")
        return USAGE_ERROR

    if script is not None:
        try:
            target = runner.locate_script(script)
        except runner.ProgramError as exc:
            sys.stderr.write(f"racewatch: error: {exc}\n")
            return exc.status
        roots = [os.getcwd(), os.path.dirname(os.path.realpath(target))]
        command = [script, *program_args]
    else:
        roots = [os.getcwd()]
        command = ["-m", module, *program_args]

    try:
        active = session.start(options, roots=roots, command=command, mode="run")
    except OptionError as exc:
        sys.stderr.write(f"racewatch: error: {exc}\n")
        return USAGE_ERROR
    failure = None
    try:
        if script is not None:
            runner.run_script(script, program_args)
        else:
            runner.run_module(module, program_args)
    except runner.ProgramError as exc:
        session.stop()
        sys.stderr.write(f"racewatch: error: {exc}\n")
        return exc.status
    except BaseException as exc:  # the program's own failure: reported as Python would
        failure = exc
    status = runner.exit_status(failure)
    interrupted = type(failure) is KeyboardInterrupt
    failure = None
    runner.shut_down()  # racewatch's own atexit handler ends the session and reports
    report = active.finished or session.stop(closing_line=True)
    if interrupted:
        runner.exit_by_sigint()
    if status == 0 and report is not None and report.races:
        status = options.exitcode
    return status
