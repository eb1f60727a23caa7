"""Instrumented programs behave exactly as under plain python: the compatibility promise.

The issue's words: same output, same exceptions and traceback line numbers, ``type(d) is
dict`` and ``type(d).__name__`` unchanged as seen from instrumented code, pickling and
``copy``/``deepcopy`` give what they gave, ``pprint`` and ``json`` print the same,
``exec``/``eval`` with a dict literal as globals still work, and rewritten code is cached.

Each program in ``tests/compat/`` (helpers start with ``_``) runs as ``python prog.py`` and
as ``racewatch run prog.py``, from a copy of the directory in ``tmp_path`` so that the
rewrite cache lands there and not in the repository.  stdout and the exit status must be
the same, and stderr must be plain python's followed by racewatch's closing line: the
tracebacks of the programs that fail on purpose (``fail_*.py``) are compared as text.
The programs are single-threaded, so no race may be reported.

A program named after one behaviour (``update_edge_cases.py``, ``type_star_import.py``...)
pins one difference at a time, so that a failure says which promise broke.
"""

import marshal
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from corpus_tools import (
    TIMEOUT,
    Run,
    active_core,
    clean_env,
    racewatch_command,
    run_plain,
    run_racewatch,
)

COMPAT = Path(__file__).parent / "compat"
CLOSING = "racewatch: no races found\n"
PROGRAMS = sorted(p.name for p in COMPAT.glob("*.py") if not p.name.startswith("_"))
PURE = active_core() == "python"
TYPE_BY_NAME = ("type(d) is dict holds where instrumented code calls type(...) by that "
                "name; reached any other way, type() shows the tracked type")

# The differences racewatch knows of and documents (README, "Compatibility"), with when
# they hold.  Each stays a strict expected failure: when one goes away (or only changes
# its condition), the test says so.
KNOWN = {
    "pickle_bytes.py": (True, "a pickled dict, list or set loads the same, from other "
                              "bytes (a reduce of the builtin): the pickler's opcodes for "
                              "them are for the exact types only"),
    "submodule_attributes.py": (True, "racewatch imports threading, json and "
                                      "collections.abc itself"),
    "type_aliased.py": (True, TYPE_BY_NAME),
    "type_rebound_to_builtin.py": (True, TYPE_BY_NAME),
    "exec_type_check.py": (True, TYPE_BY_NAME),
    "function_globals.py": (True, "code that makes a dict or calls type() names the "
                                  "racewatch helper in its co_names"),
    "stack_depth.py": (True, "racewatch run runs the script from frames of its own: "
                             "inspect.stack(), warnings' stacklevel and the recursion "
                             "limit see them"),
    "recursion_headroom.py": (PURE, "the pure-Python core's methods are frames"),
    "deep_nesting.py": (PURE and sys.version_info < (3, 13),
                        "the pure-Python core's __repr__ and __eq__ are frames"),
    "introspection.py": (PURE, "the pure-Python core's methods are Python functions"),
    "method_signatures.py": (PURE, "the pure-Python core's methods word their errors as "
                                   "Python functions do"),
    "user_hooks_calls.py": (True, "dict(d) and {**d} look every key up again for a tracked "
                                  "d, as for any dict subclass that overrides iteration "
                                  "(and the pure-Python core hashes a key again in more "
                                  "places)"),
    "lock_factory.py": (True, "threading.Lock is racewatch's lock type: _thread.allocate_lock, "
                              "which the import system calls, is left alone"),
    "set_hash_calls.py": (PURE, "the pure-Python core looks an element up once more in "
                                "the set methods that add or remove it"),
    "caught_list_set_tracebacks.py": (PURE and sys.version_info < (3, 11),
                                      "3.10 keeps the pure-Python core's frame in the "
                                      "traceback of an exception a program catches"),
    "collector_order.py": (PURE, "the pure-Python core's tracked container is made after "
                                 "its items, and comes after them in the garbage "
                                 "collector's list"),
    "caught_tracebacks.py": (PURE and sys.version_info < (3, 11),
                             "3.10 keeps the pure-Python core's frame in the traceback of "
                             "an exception a program catches (and formats itself)"),
}


def program_params():
    for name in PROGRAMS:
        known, reason = KNOWN.get(name, (False, ""))
        marks = [pytest.mark.xfail(reason=reason, strict=True)] if known else []
        yield pytest.param(name, marks=marks, id=name[:-3])


@pytest.fixture
def work(tmp_path) -> Path:
    """A private copy of tests/compat: caches and pickles are written there."""
    copy = tmp_path / "compat"
    shutil.copytree(COMPAT, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def run_both(work: Path, name: str, *args: str) -> tuple[Run, Run]:
    program = work / name
    plain = run_plain(program, *args, cwd=work)
    watched = run_racewatch(work.parent, program, *args, cwd=work)
    return plain, watched


def assert_same(plain: Run, watched: Run) -> None:
    """What a user would compare: stdout, stderr before the closing line, exit status."""
    assert watched.stdout == plain.stdout
    assert watched.stderr.endswith(CLOSING), watched.stderr
    assert watched.stderr[: -len(CLOSING)] == plain.stderr
    assert watched.status == plain.status
    assert watched.report is not None and watched.report["races"] == [], watched.stderr


def python(*args: str, cwd: Path, env: dict | None = None) -> Run:
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True,
                          cwd=cwd, env=env or clean_env(), timeout=TIMEOUT)
    return Run(proc.returncode, proc.stdout, proc.stderr, None)


def racewatch(*args: str, cwd: Path, flags: tuple = (), env: dict | None = None) -> Run:
    """``python FLAGS -m racewatch run ARGS`` (flags such as -O go to the interpreter)."""
    command = racewatch_command("run", *args)
    proc = subprocess.run([command[0], *flags, *command[1:]], capture_output=True,
                          text=True, cwd=cwd, env=env or clean_env(), timeout=TIMEOUT)
    return Run(proc.returncode, proc.stdout, proc.stderr, None)


# -- every program: same stdout, stderr and status ----------------------------------------


def test_the_programs_are_sane(work):
    """Programs that fail on purpose say so in their name; the others exit 0, quietly."""
    assert len(PROGRAMS) >= 30
    for name in PROGRAMS:
        run = run_plain(work / name, cwd=work)
        if name.startswith("fail_"):
            assert run.status != 0, name
        else:
            assert run.status == 0, f"{name}:\n{run.stderr}"
            assert run.stderr == "" or name == "stack_depth.py", f"{name}:\n{run.stderr}"


@pytest.mark.parametrize("name", list(program_params()))
def test_program_behaves_as_under_plain_python(work, name):
    plain, watched = run_both(work, name)
    assert_same(plain, watched)


# -- tracebacks the program formats itself -------------------------------------------------


_TRACKED_FRAME = re.compile(
    r'  File "[^"]*racewatch[/\\]runtime[/\\]tracked\.py", line \d+, in \w+\n(    .*\n)?')


@pytest.mark.skipif(sys.version_info >= (3, 11) or not PURE,
                    reason="the pure-Python core on 3.10 only; 3.11+ drops the frame")
def test_caught_tracebacks_on_310_differ_only_by_tracked_frames(work):
    """Python 3.10 re-raises with the traceback saved at the ``except``, so an exception
    raised inside a tracked method keeps that method's frame (tracked.py says so): one
    frame, or two for a defaultdict whose factory fails (``__getitem__``, ``__missing__``).
    Uncaught exceptions are cleaned before they are printed (test_program_behaves_as_...
    [fail_*]); tracebacks the program formats itself are not.  This pins what differs on
    3.10; ``test_program_behaves_as_under_plain_python[caught_tracebacks]`` fails there.
    """
    plain, watched = run_both(work, "caught_tracebacks.py")
    frames = _TRACKED_FRAME.findall(watched.stdout)
    assert len(frames) == 11, watched.stdout
    assert _TRACKED_FRAME.sub("", watched.stdout) == plain.stdout


# -- pickles load without racewatch --------------------------------------------------------


def test_pickles_load_in_a_process_without_racewatch(work):
    """Pickles made by instrumented code load, as plain dicts and defaultdicts, where
    racewatch cannot even be imported (-S: no site-packages; -E: no PYTHONPATH)."""
    made_plain, made_watched = work / "plain", work / "watched"
    made_plain.mkdir()
    made_watched.mkdir()
    plain = run_plain(work / "pickling.py", str(made_plain), cwd=work)
    watched = run_racewatch(work.parent, work / "pickling.py", str(made_watched), cwd=work)
    assert watched.status == plain.status == 0, watched.stderr
    assert watched.stdout == plain.stdout
    assert sorted(os.listdir(made_watched)) == sorted(os.listdir(made_plain))
    cannot_import = python("-S", "-E", "-c", "import racewatch", cwd=work.parent)
    assert cannot_import.status != 0 and "ModuleNotFoundError" in cannot_import.stderr

    loaded = {}
    for made in (made_plain, made_watched):
        run = python("-S", "-E", str(work / "_load_pickles.py"), str(made), cwd=work.parent)
        assert run.status == 0, run.stderr
        loaded[made.name] = run.stdout
    assert loaded["watched"] == loaded["plain"]
    assert loaded["watched"].endswith("racewatch imported: False\n")
    assert "<class 'dict'>" in loaded["watched"]
    assert "<class 'collections.defaultdict'>" in loaded["watched"]


def test_a_source_file_in_latin1(work):
    source = '# -*- coding: latin-1 -*-\nwords = {"café": "été"}\nprint(ascii(words))\n'
    (work / "latin1.py").write_bytes(source.encode("latin-1"))
    plain, watched = run_both(work, "latin1.py")
    assert plain.stdout == "{'caf\\xe9': '\\xe9t\\xe9'}\n"
    assert_same(plain, watched)


# -- SyntaxError, in the script and in a module it imports ---------------------------------

SYNTAX_ERRORS = {
    # Found by the parser.
    "unclosed paren": "x = {}\nprint((1,\n",
    "bad indentation": "x = {}\nif x:\nprint(x)\n",
    "invalid syntax": "x = {}\nx = = 1\n",
    # Found only when the tree is compiled (symbol table, compiler).
    "return outside function": "x = {}\nreturn x\n",
    "break outside loop": "x = {}\nbreak\n",
    "duplicate argument": "x = {}\ndef f(a, a):\n    return {}\n",
    "nonlocal at module level": "x = {}\nnonlocal x\n",
}


@pytest.mark.parametrize("where", ["script", "module"])
@pytest.mark.parametrize("error", SYNTAX_ERRORS)
def test_syntax_error_prints_as_plain_python(tmp_path, error, where):
    source = SYNTAX_ERRORS[error]
    if where == "script":
        (tmp_path / "main.py").write_text(source)
    else:
        (tmp_path / "main.py").write_text("print({'before': 'import'})\nimport broken\n")
        (tmp_path / "broken.py").write_text(source)
    plain = run_plain(tmp_path / "main.py", cwd=tmp_path)
    watched = run_racewatch(tmp_path, tmp_path / "main.py", cwd=tmp_path)
    assert "SyntaxError" in plain.stderr or "IndentationError" in plain.stderr
    assert watched.stdout == plain.stdout
    assert watched.status == plain.status == 1
    assert watched.stderr == plain.stderr + CLOSING


# -- the rewrite cache ---------------------------------------------------------------------


def cache_files(directory: Path) -> list[Path]:
    return sorted((directory / "__pycache__").glob("*racewatch*.pyc"))


def test_rewritten_modules_are_cached_and_reused_but_not_the_script(work):
    """A module's rewrite is cached; the script's is not (Python does not cache it)."""
    plain, first = run_both(work, "docstrings.py")
    assert_same(plain, first)
    cached = cache_files(work)
    assert [p.name.split(".")[0] for p in cached] == ["_documented"]
    assert all(sys.implementation.cache_tag in p.name for p in cached)
    before = {p: (p.stat().st_mtime_ns, p.stat().st_ino, p.read_bytes()) for p in cached}

    _, second = run_both(work, "docstrings.py")
    assert_same(plain, second)
    assert cache_files(work) == cached
    assert {p: (p.stat().st_mtime_ns, p.stat().st_ino, p.read_bytes()) for p in cached} == before


def module_and_script(work: Path, module_source: str) -> Path:
    (work / "mod.py").write_text(module_source)
    (work / "main.py").write_text("import mod\nprint(mod.table, getattr(mod, 'marker', ''))\n")
    return work / "mod.py"


def test_a_run_with_a_current_cache_does_not_parse_the_module(work):
    """Put other code under the cache's (valid) header: the run executes it, so the source
    was not parsed and rewritten again."""
    module_and_script(work, "table = {'v': 1}\n")
    assert racewatch("main.py", cwd=work).stdout == "{'v': 1} \n"
    cache, = cache_files(work)
    header = cache.read_bytes()[:16]
    code = compile("table = {}\nmarker = 'from the cache'", str(work / "mod.py"), "exec")
    cache.write_bytes(header + marshal.dumps(code))
    assert racewatch("main.py", cwd=work).stdout == "{} from the cache\n"


def test_editing_the_module_invalidates_the_cache(work):
    module = module_and_script(work, "table = {'version': 1}\n")
    assert racewatch("main.py", cwd=work).stdout == "{'version': 1} \n"
    cache, = cache_files(work)
    stamp = cache.stat().st_mtime_ns
    module.write_text("table = {'version': 2, 'longer': True}\n")
    assert racewatch("main.py", cwd=work).stdout == "{'version': 2, 'longer': True} \n"
    assert cache.stat().st_mtime_ns != stamp


def test_an_edit_in_the_same_second_that_keeps_the_size_is_seen(work):
    """The cache is validated by a hash of the source, not by its time and size: an edit
    of the same length within the same second (an editor's save, a test writing a file
    twice) is seen.  os.utime stands in for "within the same second"."""
    module = module_and_script(work, "table = {'version': 1}\n")
    assert racewatch("main.py", cwd=work).stdout == "{'version': 1} \n"
    st = module.stat()
    module.write_text("table = {'version': 2}\n")
    os.utime(module, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert python("main.py", cwd=work).stdout == "{'version': 2} \n"
    assert racewatch("main.py", cwd=work).stdout == "{'version': 2} \n"


@pytest.mark.parametrize("first", [(), ("-O",)], ids=["plain-then-O", "O-then-plain"])
def test_the_cache_does_not_mix_optimization_levels(work, first):
    """python -O strips asserts; the cached rewrite of a run without -O must not be used
    by a run with it, nor the other way round (python keeps .opt-1.pyc apart)."""
    (work / "asserts_mod.py").write_text("table = {}\nassert table, 'empty table'\n")
    (work / "asserts.py").write_text("import asserts_mod\nprint('asserts stripped')\n")
    second = ("-O",) if first == () else ()
    racewatch("asserts.py", cwd=work, flags=first)
    plain = python(*second, "asserts.py", cwd=work)
    watched = racewatch("asserts.py", cwd=work, flags=second)
    assert watched.stdout == plain.stdout
    assert watched.status == plain.status
    assert watched.stderr == plain.stderr + CLOSING


def test_no_cache_is_written_under_dont_write_bytecode(work):
    plain = python("-B", "types_seen.py", cwd=work)
    watched = racewatch("types_seen.py", cwd=work, flags=("-B",))
    assert watched.stdout == plain.stdout
    assert cache_files(work) == []
    env = clean_env(PYTHONDONTWRITEBYTECODE="1")
    assert racewatch("types_seen.py", cwd=work, env=env).stdout == plain.stdout
    assert cache_files(work) == []


def test_a_syntax_warning_is_shown_on_every_run(work):
    """python compiles the script on every run and warns every time; a run from the
    cache compiles nothing, so the warning must not get lost with it."""
    (work / "warns.py").write_text(textwrap.dedent("""\
        table = {"n": 1}
        if table["n"] is 1:
            print("one")
        """))
    plain = python("warns.py", cwd=work)
    assert "SyntaxWarning" in plain.stderr
    for run_number in (1, 2):
        watched = racewatch("warns.py", cwd=work)
        assert watched.stdout == plain.stdout
        assert (run_number, watched.stderr) == (run_number, plain.stderr + CLOSING)
