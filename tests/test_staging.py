"""RACEWATCH=1: racewatch on in any Python process, through racewatch.pth (real processes)."""

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest
from corpus_tools import clean_env, racewatch_command

RACY = """\
    import threading

    counts = {}


    def work():
        for _ in range(3):
            counts["hits"] = counts.get("hits", 0) + 1


    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("done", sorted(counts))
    """

CORRECT = """\
    import threading

    counts = {"hits": 0}
    lock = threading.Lock()


    def work():
        for _ in range(3):
            with lock:
                counts["hits"] += 1


    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("done", counts)
    """


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


def python(*args, cwd, env=None, **extra):
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env or clean_env(),
                          capture_output=True, text=True, timeout=120, **extra)


def staged(options: str = "", **more) -> dict:
    env = clean_env(RACEWATCH="1", **more)
    if options:
        env["RACEWATCH_OPTIONS"] = options
    return env


def log_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def races_in(path: Path) -> list[dict]:
    return [line for line in log_lines(path) if "kind" in line]


# -- activation ------------------------------------------------------------------------------


def test_unset_variable_imports_nothing(tmp_path):
    run = python("-X", "importtime", "-c", "pass", cwd=tmp_path)
    assert run.returncode == 0
    imported = [line.rsplit("|", 1)[-1].strip() for line in run.stderr.splitlines()]
    assert imported and not [m for m in imported if m.split(".")[0] == "racewatch"]
    run = python("-c", "import sys; print(sorted(m for m in sys.modules "
                       "if m.split('.')[0] == 'racewatch'))", cwd=tmp_path)
    assert run.stdout.strip() == "[]"


def test_watched_start_up_leaves_out_pathlib_shutil_and_sysconfig(tmp_path):
    # Every RACEWATCH=1 process pays racewatch's imports once.  Run without site (an
    # editable install's finder imports pathlib itself), racewatch and its dependencies on
    # the path, and the start-up hook's activation as the .pth line calls it.  sysconfig
    # would load the build's configuration variables for the library directories, which
    # os and site name already.
    import sysconfig

    paths = [str(Path(__file__).resolve().parent.parent),
             sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    code = (f"import sys; sys.path[:0] = {paths!r}; import racewatch.startup as s; "
            "s.activate(); print([m for m in ('pathlib', 'shutil', 'sysconfig') "
            "if m in sys.modules])")
    run = python("-S", "-c", code, cwd=tmp_path, env=staged())
    assert run.returncode == 0, run.stderr
    assert run.stdout == "[]\n"
    assert "not started" not in run.stderr


def test_library_directories_without_site_s_list_come_from_sysconfig(monkeypatch):
    # Some embedded and virtualenv site modules have no getsitepackages: the policy then
    # takes the install paths sysconfig gives, so installed packages stay uninstrumented.
    import site
    import sysconfig

    from racewatch.instrument import policy

    monkeypatch.delattr(site, "getsitepackages", raising=False)
    stdlib, sites = policy._library_dirs()
    purelib = policy._real(sysconfig.get_paths()["purelib"])
    assert purelib in sites
    assert policy._real(os.path.dirname(os.__file__)) in stdlib


@pytest.mark.parametrize("value", ["0", "false", "off", ""])
def test_false_values_leave_racewatch_off(tmp_path, value):
    write(tmp_path / "app.py", RACY)
    run = python("app.py", cwd=tmp_path, env=clean_env(RACEWATCH=value))
    assert run.returncode == 0
    assert run.stderr == ""


def test_racy_program_is_reported_on_stderr_with_its_own_status(tmp_path):
    script = write(tmp_path / "app.py", RACY)
    plain = python("app.py", cwd=tmp_path)
    run = python("app.py", cwd=tmp_path, env=staged())
    assert run.stdout == plain.stdout
    assert run.returncode == 0  # staging keeps the program's exit status
    assert "WARNING: racewatch: data race" in run.stderr
    assert f"#0 work {script}:8" in run.stderr
    assert run.stderr.rstrip().endswith("racewatch: 1 race found")


def test_correct_program_is_silent(tmp_path):
    write(tmp_path / "app.py", CORRECT)
    run = python("app.py", cwd=tmp_path, env=staged())
    assert run.returncode == 0
    assert run.stderr.strip() == "racewatch: no races found"


def test_main_script_exceptions_and_exit_status_are_plain_pythons(tmp_path):
    write(tmp_path / "fail.py", """\
        import sys
        d = {}
        if len(sys.argv) > 1:
            sys.exit(int(sys.argv[1]))
        d["missing"]
        """)
    plain = python("fail.py", cwd=tmp_path)
    run = python("fail.py", cwd=tmp_path, env=staged())
    assert run.returncode == plain.returncode == 1
    assert run.stderr.replace("racewatch: no races found\n", "") == plain.stderr
    assert python("fail.py", "7", cwd=tmp_path, env=staged()).returncode == 7


def test_dash_m_module_is_watched(tmp_path):
    write(tmp_path / "job.py", RACY)
    run = python("-m", "job", cwd=tmp_path, env=staged())
    assert "WARNING: racewatch: data race" in run.stderr
    assert f"{tmp_path / 'job.py'}:8" in run.stderr


def test_bad_option_warns_once_and_the_program_runs(tmp_path):
    write(tmp_path / "app.py", RACY)
    plain = python("app.py", cwd=tmp_path)
    run = python("app.py", cwd=tmp_path, env=staged("stack_depth=deep"))
    assert run.returncode == 0
    assert run.stdout == plain.stdout
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("racewatch: warning: not started: ")
    assert "stack_depth" in lines[0] and "'deep'" in lines[0]


def test_unreadable_configuration_warns_and_the_program_runs(tmp_path):
    write(tmp_path / "app.py", RACY)
    (tmp_path / "pyproject.toml").write_text("[tool.racewatch\nbroken")
    run = python("app.py", cwd=tmp_path, env=staged())
    assert run.returncode == 0
    assert run.stdout.startswith("done")
    assert run.stderr.count("\n") == 1 and "cannot parse" in run.stderr


def test_activating_twice_is_harmless(tmp_path):
    write(tmp_path / "app.py", """\
        import racewatch.startup, racewatch.session
        first = racewatch.session.current()
        racewatch.startup.activate()
        racewatch.startup._state["activated"] = False
        racewatch.startup.activate()
        print(first is not None and racewatch.session.current() is first)
        """)
    run = python("app.py", cwd=tmp_path, env=staged())
    assert run.stdout.strip() == "True", run.stderr


def test_options_from_pyproject_and_environment(tmp_path):
    write(tmp_path / "app.py", RACY)
    (tmp_path / "pyproject.toml").write_text('[tool.racewatch]\nlog_path = "from-toml.log"\n')
    python("app.py", cwd=tmp_path, env=staged())
    assert races_in(tmp_path / "from-toml.log")
    python("app.py", cwd=tmp_path, env=staged("log_path=from-env.log"))
    assert races_in(tmp_path / "from-env.log")


# -- the log ---------------------------------------------------------------------------------


def test_log_path_gets_one_json_line_per_race_and_nothing_on_stderr(tmp_path):
    write(tmp_path / "app.py", RACY)
    run = python("app.py", cwd=tmp_path, env=staged("log_path=races.%p.log"))
    logs = list(tmp_path.glob("races.*.log"))
    assert len(logs) == 1
    assert logs[0].name == f"races.{log_lines(logs[0])[0]['pid']}.log"
    race = races_in(logs[0])[-1]
    assert race["key"] == "'hits'" and race["kind"] in ("read/write", "write/read",
                                                       "write/write")
    assert "WARNING" not in run.stderr
    summary = [line for line in log_lines(logs[0]) if "summary" in line]
    assert summary and summary[0]["summary"]["races"] >= 1


def test_sigkill_after_a_race_loses_nothing(tmp_path):
    (tmp_path / "killed.py").write_text(textwrap.dedent(RACY).replace(
        'print("done", sorted(counts))',
        "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"))
    run = python("killed.py", cwd=tmp_path, env=staged("log_path=killed.log"))
    assert run.returncode == -signal.SIGKILL
    races = races_in(tmp_path / "killed.log")
    assert races and races[0]["current"]["stack"][0]["line"] == 8


def test_logs_of_several_processes_merge(tmp_path):
    write(tmp_path / "app.py", RACY)
    for _ in range(3):
        python("app.py", cwd=tmp_path, env=staged("log_path=run.%p.log"))
    logs = sorted(str(p) for p in tmp_path.glob("run.*.log"))
    assert len(logs) == 3
    run = subprocess.run(racewatch_command("report", *logs, "--json", "merged.json"),
                         cwd=tmp_path, env=clean_env(), capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 66
    merged = json.loads((tmp_path / "merged.json").read_text())
    per_process = sum(races_in(Path(p))[-1]["count"] for p in logs)
    assert len(merged["races"]) == len({json.dumps(sorted(
        (r["current"]["stack"][0]["line"], r["previous"]["stack"][0]["line"])))
        for p in logs for r in races_in(Path(p))})
    assert sum(r["count"] for r in merged["races"]) >= per_process
    assert "in 3 processes" in run.stdout


def test_report_rejects_what_is_not_a_log(tmp_path):
    (tmp_path / "junk.log").write_text("not json\n")
    run = subprocess.run(racewatch_command("report", "junk.log"), cwd=tmp_path,
                         env=clean_env(), capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert run.stderr.startswith("racewatch: error: junk.log:1: not a racewatch log line")
    run = subprocess.run(racewatch_command("report", "missing.log"), cwd=tmp_path,
                         env=clean_env(), capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "cannot read missing.log" in run.stderr


# -- children ------------------------------------------------------------------------------


def test_forked_child_has_its_own_log_and_no_inherited_races(tmp_path):
    (tmp_path / "forker.py").write_text(textwrap.dedent(RACY) + textwrap.dedent("""\
        import os
        pid = os.fork()
        if pid == 0:
            child = {"k": 0}
            def bump():
                child["k"] += 1
            ts = [threading.Thread(target=bump) for _ in range(2)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            os._exit(0)
        os.waitpid(pid, 0)
        """))
    python("forker.py", cwd=tmp_path, env=staged("log_path=fork.%p.log"))
    logs = {int(p.name.split(".")[1]): races_in(p) for p in tmp_path.glob("fork.*.log")}
    assert len(logs) == 2
    parent_pid = min(logs, key=lambda pid: -len(logs[pid]) if logs[pid] and
                     logs[pid][0]["key"] == "'hits'" else 0)
    child_pid = next(pid for pid in logs if pid != parent_pid)
    assert {r["key"] for r in logs[child_pid]} == {"'k'"}   # its own race, not the parent's
    assert {r["key"] for r in logs[parent_pid]} == {"'hits'"}


@pytest.mark.parametrize("method", ["spawn", "forkserver", "fork"])
def test_multiprocessing_children_are_watched(tmp_path, method):
    write(tmp_path / "mp_app.py", f"""\
        import multiprocessing
        import threading


        def child_job():
            table = {{"n": 0}}

            def bump():
                table["n"] += 1

            ts = [threading.Thread(target=bump) for _ in range(2)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()


        if __name__ == "__main__":
            ctx = multiprocessing.get_context({method!r})
            p = ctx.Process(target=child_job)
            p.start()
            p.join()
            print("exit", p.exitcode)
        """)
    run = python("mp_app.py", cwd=tmp_path, env=staged("log_path=mp.%p.log"))
    assert run.stdout.strip() == "exit 0", run.stderr
    races = [r for p in tmp_path.glob("mp.*.log") for r in races_in(p)]
    assert races, run.stderr
    assert {r["key"] for r in races} == {"'n'"}
    assert {r["pid"] for r in races} != {None}


# -- suppressions, halt_on_error, memory budget -------------------------------------------


def test_suppressions_file_and_ignore_comment(tmp_path):
    write(tmp_path / "app.py", RACY)
    (tmp_path / "supp.txt").write_text("# known race\nrace:work\n")
    run = python("app.py", cwd=tmp_path, env=staged("suppressions=supp.txt log_path=s.log"))
    assert races_in(tmp_path / "s.log") == []
    summary = [line for line in log_lines(tmp_path / "s.log") if "summary" in line][0]
    assert summary["summary"]["suppressed"] >= 1
    (tmp_path / "supp.txt").write_text("race_top:<module>\n")  # matches no innermost frame
    python("app.py", cwd=tmp_path, env=staged("suppressions=supp.txt log_path=t.log"))
    assert races_in(tmp_path / "t.log")
    write(tmp_path / "commented.py", RACY.replace(
        'counts["hits"] = counts.get("hits", 0) + 1',
        'counts["hits"] = counts.get("hits", 0) + 1  # racewatch: ignore'))
    run = python("commented.py", cwd=tmp_path, env=staged())
    assert "WARNING" not in run.stderr and "no races found" in run.stderr


def test_bad_suppressions_file_is_named(tmp_path):
    write(tmp_path / "app.py", RACY)
    (tmp_path / "supp.txt").write_text("called_from_lib:foo\n")
    run = python("app.py", cwd=tmp_path, env=staged("suppressions=supp.txt"))
    assert "racewatch: warning: not started: supp.txt:1: expected race:PATTERN" in run.stderr
    assert run.stdout.startswith("done")


def test_halt_on_error_stops_at_the_first_race(tmp_path):
    write(tmp_path / "app.py", RACY + "print('after the threads')\n")
    run = python("app.py", cwd=tmp_path, env=staged("halt_on_error=1 log_path=h.log"))
    assert run.returncode == 66
    assert "after the threads" not in run.stdout
    assert len(races_in(tmp_path / "h.log")) == 1
    assert "halt_on_error" in run.stderr


def test_memory_budget_cuts_tracking_and_says_so(tmp_path):
    write(tmp_path / "big.py", """\
        import threading
        big = {}
        for i in range(200_000):
            big[i] = i
        shared = {"k": 0}
        def bump():
            shared["k"] += 1
        ts = [threading.Thread(target=bump) for _ in range(2)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        """)
    run = python("big.py", cwd=tmp_path, env=staged("max_memory_mb=1 log_path=m.log"))
    assert run.returncode == 0
    assert "racewatch: warning: tracking cut" in run.stderr
    summary = [line for line in log_lines(tmp_path / "m.log") if "summary" in line][0]
    assert "budget of 1 MB" in summary["summary"]["tracking_cut"]


# -- a long-running service ----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_threaded_http_service_race_survives_sigterm(tmp_path):
    port = free_port()
    write(tmp_path / "service.py", f"""\
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        hits = {{}}


        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                hits[self.path] = hits.get(self.path, 0) + 1
                body = str(hits[self.path]).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass


        ThreadingHTTPServer(("127.0.0.1", {port}), Handler).serve_forever()
        """)
    proc = subprocess.Popen([sys.executable, "service.py"], cwd=tmp_path,
                            env=staged("log_path=service.%p.log"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=1).read()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.05)
        for _ in range(5):
            assert urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGTERM
    log = tmp_path / f"service.{proc.pid}.log"
    races = races_in(log)
    assert races, log.read_text()
    # Racing request threads: on key '/', or on the dict's keys when two requests insert
    # (both on line 8: one report per pair of lines, whichever was found first).
    for race in races:
        assert race["container"]["created_at"][0]["line"] == 3
        assert race["key"] in ("'/'", "'/ready'", None)
        for side in ("current", "previous"):
            assert race[side]["stack"][0]["file"] == str(tmp_path / "service.py")
            assert race[side]["stack"][0]["line"] in (8, 9)
            assert race[side]["thread"]["name"].endswith("(process_request_thread)")
