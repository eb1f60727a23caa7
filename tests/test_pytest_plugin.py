"""pytest --racewatch on small projects, each run in a fresh pytest process."""

import json
import re
import textwrap

import pytest

pytest_plugins = ["pytester"]

SHARED_MODULE = """\
    import threading

    stock = {"apple": 10, "pear": 5}
    lock = threading.Lock()


    def reserve_unsafe(item):
        if stock.get(item, 0) > 0:
            stock[item] -= 1


    def reserve(item):
        with lock:
            if stock.get(item, 0) > 0:
                stock[item] -= 1


    def in_threads(fn, n=2):
        threads = [threading.Thread(target=fn) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    """

TESTS = """\
    import shop


    def test_locked():
        shop.in_threads(lambda: shop.reserve("apple"))


    def test_racy():
        shop.in_threads(lambda: shop.reserve_unsafe("pear"))


    def test_single_thread():
        shop.reserve_unsafe("apple")
    """


@pytest.fixture
def project(pytester, monkeypatch):
    # The inner pytest must not think it is an xdist worker of the outer run.
    for var in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID",
                "RACEWATCH_OPTIONS", "PYTEST_ADDOPTS"):
        monkeypatch.delenv(var, raising=False)
    pytester.makepyfile(shop=textwrap.dedent(SHARED_MODULE))
    pytester.makepyfile(test_shop=textwrap.dedent(TESTS))
    return pytester


def run(pytester, *args):
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)


def line_of(pytester, filename, text):
    lines = (pytester.path / filename).read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


def test_racy_test_fails_with_both_lines_and_neighbours_pass(project):
    result = run(project, "--racewatch")
    result.assert_outcomes(passed=2, failed=1)
    out = result.stdout.str()
    assert "FAILED test_shop.py::test_racy - racewatch: " in out
    read = line_of(project, "shop.py", 'if stock.get(item, 0) > 0:')
    write = line_of(project, "shop.py", 'stock[item] -= 1')
    assert f"#0 reserve_unsafe {project.path / 'shop.py'}:{read}" in out
    assert f"#0 reserve_unsafe {project.path / 'shop.py'}:{write}" in out
    assert "Read of key 'pear' (get)" in out
    assert "racewatch: 2 races found" in out
    assert "test_shop.py::test_racy" in out.split("racewatch =")[-1]
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_without_the_flag_nothing_changes(project):
    project.makepyfile(test_untouched="""
        import sys, threading, _thread

        def test_nothing_patched():
            assert "racewatch.session" not in sys.modules
            lock = threading.Lock()
            assert type(lock).__module__ == "_thread"
            assert type({}) is dict
        """)
    result = run(project)
    result.assert_outcomes(passed=4)
    mentions = [line for line in result.stdout.lines if "racewatch" in line]
    assert all(line.startswith("plugins:") for line in mentions), mentions


def test_race_in_fixture_setup_and_teardown_are_errors(project):
    project.makeconftest("""
        import pytest, shop

        @pytest.fixture
        def racy_setup():
            shop.in_threads(lambda: shop.reserve_unsafe("pear"))
            yield

        @pytest.fixture
        def racy_teardown():
            yield
            shop.in_threads(lambda: shop.reserve_unsafe("pear"))
        """)
    project.makepyfile(test_fixtures="""
        def test_uses_setup(racy_setup):
            pass

        def test_uses_teardown(racy_teardown):
            pass
        """)
    result = run(project, "--racewatch", "test_fixtures.py")
    # test_uses_teardown's call passed; each test has one error.
    result.assert_outcomes(passed=1, errors=2)
    out = result.stdout.str()
    assert "ERROR at setup of test_uses_setup" in out
    assert "ERROR at teardown of test_uses_teardown" in out
    # reserve_unsafe checks the stock, then decrements it: a check-then-act, and where the
    # threads interleave in the decrement, a lost update too.
    assert re.search(r"racewatch: 2 data races \((check-then-act|lost update)(, (check-then-act"
                     r"|lost update))?\) during the setup of this test", out), out
    assert "  Pattern: check-then-act: reserve_unsafe checks key 'pear' at shop.py:8 (get)" \
        in out


def test_race_after_the_last_test_fails_the_session(project):
    project.makepyfile(test_late="""
        import threading, time, shop

        def test_leaves_threads_behind():
            def later():
                time.sleep(0.3)
                shop.reserve_unsafe("pear")
            for _ in range(2):
                threading.Thread(target=later).start()
        """)
    result = run(project, "--racewatch", "test_late.py")
    result.assert_outcomes(passed=1)
    out = result.stdout.str()
    assert "outside any test" in out
    assert "WARNING: racewatch: data race" in out
    assert result.ret == 66


def test_race_during_collection_is_outside_any_test(project):
    project.makepyfile(test_collect="""
        import shop
        shop.in_threads(lambda: shop.reserve_unsafe("pear"))

        def test_fine():
            pass
        """)
    result = run(project, "--racewatch", "test_collect.py")
    result.assert_outcomes(passed=1)
    assert "outside any test" in result.stdout.str()
    assert result.ret == 66


def test_marker_exempts_a_test(project):
    project.makepyfile(test_marked="""
        import pytest, shop

        @pytest.mark.racewatch(ignore=True)
        def test_known_racy():
            shop.in_threads(lambda: shop.reserve_unsafe("pear"))
        """)
    result = run(project, "--racewatch", "test_marked.py", "--racewatch-json", "r.json")
    result.assert_outcomes(passed=1)
    assert result.ret == 0
    assert json.loads((project.path / "r.json").read_text())["races"] == []


def test_assertion_rewriting_still_explains(project):
    project.makepyfile(test_assert="""
        def test_compare():
            data = {"a": 1, "b": [1, 2]}
            assert data == {"a": 1, "b": [1, 3]}
        """)
    result = run(project, "--racewatch", "test_assert.py")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "Differing items:" in out
    assert "{'b': [1, 2]} != {'b': [1, 3]}" in out


def test_modules_that_open_with_a_comment_are_collected_and_instrumented(project):
    """A conftest or test module whose first statement is not on line 1 (a coding line,
    a licence header): pytest's rewrite puts its imports first, and ours goes after."""
    project.makeconftest("""
        # -*- coding: utf-8 -*-

        import threading

        collect_ignore = []
        """)
    project.makepyfile(test_header="""
        # A header comment.

        import shop


        def test_racy():
            shop.in_threads(lambda: shop.reserve_unsafe("pear"))


        def test_compare():
            assert {"a": 1} == {"a": 2}
        """)
    result = run(project, "--racewatch", "test_header.py")
    result.assert_outcomes(failed=2)
    out = result.stdout.str()
    assert "FAILED test_header.py::test_racy - racewatch: " in out
    assert "{'a': 1} != {'a': 2}" in out
    assert "runs uninstrumented" not in out + result.stderr.str()


def test_test_modules_are_instrumented_and_the_cache_is_not_shared(project):
    project.makepyfile(test_tracked="""
        import racewatch

        def test_tracked(request):
            tracked = racewatch.is_tracked({})
            assert tracked == request.config.getoption("racewatch")
        """)
    # --racewatch first: pytest caches rewritten test modules; a plain run afterwards
    # must not pick up the instrumented code.
    run(project, "--racewatch", "test_tracked.py").assert_outcomes(passed=1)
    run(project, "test_tracked.py").assert_outcomes(passed=1)
    run(project, "--racewatch", "test_tracked.py").assert_outcomes(passed=1)


def test_json_report_carries_test_node_ids(project):
    result = run(project, "--racewatch", "--racewatch-json", "out/report.json")
    result.assert_outcomes(passed=2, failed=1)
    report = json.loads((project.path / "out" / "report.json").read_text())
    assert {tuple(r["tests"]) for r in report["races"]} == {("test_shop.py::test_racy",)}
    assert "racewatch: report written to out/report.json" in result.stdout.str()


def test_exclude_and_include(project, tmp_path_factory):
    result = run(project, "--racewatch", "--racewatch-exclude", "shop")
    result.assert_outcomes(passed=3)
    # A module outside the rootdir is instrumented only when named.
    outside = tmp_path_factory.mktemp("installed")
    (outside / "extlib.py").write_text(textwrap.dedent(SHARED_MODULE))
    project.makeconftest(f"""
        import sys
        sys.path.insert(0, {str(outside)!r})
        """)
    project.makepyfile(test_ext="""
        import extlib

        def test_ext():
            extlib.in_threads(lambda: extlib.reserve_unsafe("pear"))
        """)
    run(project, "--racewatch", "test_ext.py").assert_outcomes(passed=1)
    result = run(project, "--racewatch", "--racewatch-include", "extlib", "test_ext.py")
    result.assert_outcomes(failed=1)


def test_ini_and_pyproject_options(project):
    project.makeini("""
        [pytest]
        racewatch_exclude = shop
        """)
    run(project, "--racewatch").assert_outcomes(passed=3)
    project.makeini("[pytest]\n")
    project.makepyprojecttoml("""
        [tool.racewatch]
        exclude = ["shop"]
        """)
    run(project, "--racewatch").assert_outcomes(passed=3)


def test_bad_option_is_a_usage_error(project):
    project.makepyprojecttoml("""
        [tool.racewatch]
        stack_depth = "deep"
        """)
    result = run(project, "--racewatch")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "racewatch: option 'stack_depth'" in result.stderr.str()


def test_xdist_workers_report_and_merge(project):
    pytest.importorskip("xdist")
    project.makepyfile(test_more="""
        import shop

        def test_racy_too():
            shop.in_threads(lambda: shop.reserve_unsafe("apple"))
        """)
    result = run(project, "--racewatch", "-n", "2", "--racewatch-json", "r.json")
    result.assert_outcomes(passed=2, failed=2)
    report = json.loads((project.path / "r.json").read_text())
    tests = {t for r in report["races"] for t in r["tests"]}
    assert tests == {"test_shop.py::test_racy", "test_more.py::test_racy_too"}
    assert "in 2 tests:" in result.stdout.str()


def test_run_parallel_reports_shared_module_state(project):
    pytest.importorskip("pytest_run_parallel")
    project.makepyfile(test_parallel="""
        import shop

        def test_correct_alone():
            shop.reserve_unsafe("pear")
        """)
    run(project, "--racewatch", "test_parallel.py").assert_outcomes(passed=1)
    result = run(project, "--racewatch", "--parallel-threads=4", "test_parallel.py")
    # pytest-run-parallel files a failed parallel call under its own "error" status.
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) + outcomes.get("error", 0) + outcomes.get("errors", 0) == 1
    assert "passed" not in outcomes
    out = result.stdout.str()
    # Four threads in one statement: when a third thread's write falls between a thread's
    # read and its write, the location no longer holds that read (the third write replaced
    # the reads), and the thread's memory of its last read still makes the write's race
    # with another write the read-modify-write it is.
    assert re.search(r"racewatch: 2 data races \((check-then-act|lost update)(, (check-then-act"
                     r"|lost update))?\) during the call of this test", out), out
    assert "reserve_unsafe" in out


def test_suppressions_file_hides_the_race_and_the_summary_counts_it(project):
    (project.path / "supp.txt").write_text("race_top:reserve_unsafe\n")
    result = run(project, "--racewatch", "--racewatch-suppressions", "supp.txt")
    result.assert_outcomes(passed=3)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["racewatch: no races found, 2 suppressed"])
