"""Options: one set of names from pyproject, RACEWATCH_OPTIONS and flags, weakest first."""

import subprocess
import sys
from pathlib import Path

import pytest

from racewatch.config import (
    OptionError,
    Options,
    expand_pid,
    may_hold_table,
    parse_env_options,
    resolve_options,
)

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib


def test_defaults():
    options = resolve_options({}, environ={}, cwd=None)
    assert options.exitcode == 66 and options.stack_depth == 32
    assert options.halt_on_error is False and options.max_memory_mb == 0
    assert options.report_key_order is False
    assert options.watch == ("dict", "attr", "global", "list", "set")


def test_precedence(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.racewatch]\nstack-depth = 8\nexitcode = 3\ninclude = ["a", "b"]\n')
    env = {"RACEWATCH_OPTIONS": "exitcode=4 log_path='races %p.log'"}
    options = resolve_options({"exitcode": "5"}, environ=env, cwd=tmp_path)
    assert options.stack_depth == 8          # pyproject, dashes allowed
    assert options.include == ("a", "b")
    assert options.exitcode == 5             # the command line wins
    assert options.log_path == "races %p.log"
    assert resolve_options({}, environ=env, cwd=tmp_path).exitcode == 4


@pytest.mark.parametrize("text", [
    '[tool]\nracewatch = {exitcode = 7}\n',
    '[tool."racewatch"]\nexitcode = 7\n',
    'tool.racewatch.exitcode = 7\n',
    '[tool.other]\nx = 1\n[tool . racewatch]\nexitcode = 7\n',
])
def test_every_spelling_of_the_table_is_read(tmp_path, text):
    (tmp_path / "pyproject.toml").write_text(text + '[project]\nname = "app"\n')
    assert resolve_options({}, environ={}, cwd=tmp_path).exitcode == 7


def test_a_pyproject_that_does_not_name_racewatch_is_not_parsed(tmp_path):
    # Another tool's broken table is that tool's business: racewatch has nothing there.
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\n[tool.other\n')
    assert resolve_options({}, environ={}, cwd=tmp_path).exitcode == 66
    (tmp_path / "pyproject.toml").write_text('[tool.racewatch]\nexitcode = 7\n[tool.other\n')
    with pytest.raises(OptionError, match="cannot parse"):
        resolve_options({}, environ={}, cwd=tmp_path)


# Documents that name racewatch where the table is not: a dependency, an entry point, a
# package's data, another tool's key, and headers and keys inside strings, arrays and
# comments, where a scan that lost its place would take them for the table.
ELSEWHERE = [
    '[project]\nname = "racewatch"\n[project.scripts]\nracewatch = "racewatch.cli:main"\n',
    '[project]\ndependencies = [\n  "racewatch>=1",  # racewatch = 1\n]\n'
    '[tool.setuptools.package-data]\nracewatch = ["x"]\n',
    '[tool.other]\nracewatch = 1\n[tool]\nanother = "racewatch"\n',
    'a = { b = "racewatch" }\n',
    '[tool.x]\nv = """\n[tool.racewatch]\n"""\n',
    "[tool.x]\nv = '''\n[tool.racewatch]\n'''\n",
    '[tool.x]\nv = [\n "[tool.racewatch]",\n # [tool.racewatch]\n]\n',
    "[tool.x]\nv = 'a\\' # racewatch\n",
    '[tool.x]\nv = """a\\"""\n[tool.racewatch]\n"""\n',
    '[tool.x]\nv = """ "" """\nracewatch = 1\n',
]
# Documents that hold the table after something a scan could stumble on.
TABLE = [
    '[tool]\nx = [\n  [1, 2],\n  ["a"],\n]\nracewatch.exitcode = 7\n',
    '[tool]\nx = """\n[other]\n"""\nracewatch = {exitcode = 7}\n',
    '[tool]\nx = """a""""\nracewatch = {exitcode = 7}\n',
    "[tool]\nx = '''\n[other]\n'''\nracewatch = {exitcode = 7}\n",
    '[tool]\nx = "a\\"b # [other]"\nracewatch = {exitcode = 7}\n',
    '[tool.x]\nv = "a\\\\" # x\n[tool.racewatch]\nexitcode = 7\n',
    '[[tool.racewatch]]\nexitcode = 7\n',
    '["tool"]\n"racewatch" = {exitcode = 7}\n',
    '[tool] # c\n  racewatch . exitcode = 7\n',
    'tool = {racewatch = {exitcode = 7}}\n',
]


@pytest.mark.parametrize("text", ELSEWHERE + TABLE)
def test_the_scan_of_a_pyproject_finds_every_table_a_parser_finds(text):
    held = "racewatch" in tomllib.loads(text).get("tool", {})
    assert held == (text in TABLE)
    assert may_hold_table(text) == held


@pytest.mark.parametrize("table", [False, True])
def test_a_pyproject_that_names_racewatch_elsewhere_is_not_parsed(tmp_path, table):
    # This project's own pyproject names racewatch as a project, entry points and package
    # data: the TOML parser is imported (a sixth of racewatch's start) only for a table.
    text = (Path(__file__).parent.parent / "pyproject.toml").read_text()
    assert not may_hold_table(text)
    if table:
        text += "[tool.racewatch]\nexitcode = 7\n"
    (tmp_path / "pyproject.toml").write_text(text)
    probe = ("import sys; from racewatch.config import resolve_options; "
             "code = resolve_options({}, environ={}, cwd=sys.argv[1]).exitcode; "
             "print(code, 'tomllib' in sys.modules or 'tomli' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe, str(tmp_path)], capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == (["7", "True"] if table else ["66", "False"])


@pytest.mark.parametrize("values, fragment", [
    ({"stack_dpth": "3"}, "unknown option 'stack_dpth'"),
    ({"stack_depth": "0"}, "out of range"),
    ({"exitcode": "x"}, "expected a whole number, got 'x'"),
    ({"halt_on_error": "sometimes"}, "expected 0 or 1"),
    ({"report_key_order": "2"}, "option 'report_key_order' in test: expected 0 or 1"),
    ({"include": 3}, "expected module patterns"),
    ({"watch": "dict,lists"}, r"option 'watch' in test: unknown kind 'lists' \(expected some "
                              r"of dict,attr,global,list,set\)"),
    ({"watch": ""}, "option 'watch' in test: nothing to watch"),
    ({"watch": 1}, "option 'watch' in test: expected some of dict,attr,global,list,set"),
])
def test_bad_values_are_named(values, fragment):
    with pytest.raises(OptionError, match=fragment):
        Options().merged(values, "test")


def test_env_syntax():
    assert parse_env_options("a=1 b='x y'") == {"a": "1", "b": "x y"}
    with pytest.raises(OptionError, match="expected key=value, got 'novalue'"):
        parse_env_options("novalue")


def test_pid_in_paths():
    assert expand_pid("races.%p.log", pid=42) == "races.42.log"
    assert expand_pid(None) is None


def test_watch_from_each_source(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.racewatch]\nwatch = ["set", "dict"]\n')
    assert resolve_options({}, environ={}, cwd=tmp_path).watch == ("dict", "set")
    env = {"RACEWATCH_OPTIONS": "watch=list,attr"}
    assert resolve_options({}, environ=env, cwd=tmp_path).watch == ("attr", "list")
    cli = resolve_options({"watch": " global , dict "}, environ=env, cwd=tmp_path)
    assert cli.watch == ("dict", "global")


def test_watch_reaches_the_runtime_as_bits():
    from racewatch.runtime.settings import WATCH_ALL, WATCH_BITS, watch_mask

    assert watch_mask(("dict", "list")) == WATCH_BITS["dict"] | WATCH_BITS["list"]
    assert watch_mask(Options().watch) == WATCH_ALL == 31
