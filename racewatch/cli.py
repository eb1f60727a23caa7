"""``racewatch run`` (and, later, ``racewatch report``): the command line of SPEC section 3."""

from __future__ import annotations

import argparse
import os
import sys

from . import __version__

USAGE_ERROR = 2

# Options of SPEC section 5 that ``run`` accepts as flags: (flag, option name, help).
_RUN_OPTIONS = [
    ("--include", "include", "module-name globs to instrument as well (comma-separated)"),
    ("--exclude", "exclude", "module-name globs never to instrument (comma-separated)"),
    ("--json", "json", "write the JSON report to PATH"),
    ("--exitcode", "exitcode", "exit status when the program exits 0 but races were found "
                               "(default 66)"),
    ("--log-path", "log_path", "append each race to PATH as a JSON line (%%p: the pid)"),
    ("--suppressions", "suppressions", "a ThreadSanitizer-style suppressions file"),
    ("--strip-path-prefix", "strip_path_prefix", "leave this prefix out of reported paths"),
    ("--stack-depth", "stack_depth", "frames recorded per stack (default 32)"),
]


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        sys.stderr.write(f"racewatch: error: {message} (see '{self.prog} --help')\n")
        sys.exit(USAGE_ERROR)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="racewatch", description="A data-race detector for Python dicts.")
    parser.add_argument("--version", action="version", version=f"racewatch {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    run = commands.add_parser(
        "run", help="run a program with race detection",
        usage="racewatch run [options] SCRIPT [ARGS...]\n"
              "       racewatch run [options] -m MODULE [ARGS...]",
        description="Run SCRIPT (or -m MODULE) as plain python would, instrumented; report "
                    "each race on stderr as it is found. The program's exit status is kept, "
                    "except that a program that exits 0 after races exits 66.")
    for flag, name, text in _RUN_OPTIONS:
        run.add_argument(flag, dest=name, metavar=name.upper().replace("_", "-")
                         if name not in ("json",) else "PATH", help=text)
    run.add_argument("--halt-on-error", dest="halt_on_error", action="store_const", const="1",
                     help="stop the program at the first race")
    run.add_argument("-m", dest="module", nargs=argparse.REMAINDER, metavar="MODULE ...",
                     help="run a library module as a script")
    run.add_argument("program", nargs=argparse.REMAINDER, metavar="SCRIPT [ARGS...]")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.command == "run":
        return _run(parser, args)
    parser.print_help(sys.stderr)
    return USAGE_ERROR


def _run(parser, args) -> int:
    from . import runner, session
    from .config import OptionError, resolve_options

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

    cli = {name: getattr(args, name) for _, name, _ in _RUN_OPTIONS}
    cli["halt_on_error"] = args.halt_on_error
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

    active = session.start(options, roots=roots, command=command)
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
    failure = None
    runner.shut_down()  # racewatch's own atexit handler ends the session and reports
    report = active.finished or session.stop(closing_line=True)
    if status == 0 and report is not None and report.races:
        status = options.exitcode
    return status
