"""No frame of racewatch or of a library it runs on in anything a user sees.

wrapt's wrappers, around every patched primitive, are C types where wrapt's compiled part
loads, and Python classes where it does not (there is no wheel of it for free-threaded
builds; ``WRAPT_DISABLE_EXTENSIONS=1`` forces the Python ones anywhere): either way the
stacks, creation sites and timeline events of a report, and the traceback of an error
raised through a patched primitive, show the program's frames only.
"""

import subprocess
import sys
import textwrap

import pytest
from corpus_tools import clean_env, run_plain, run_racewatch

PROGRAM = textwrap.dedent("""\
    import threading
    shared = {}
    gate = threading.Lock()
    def work():
        with gate:
            pass
        shared["k"] = 1
    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    threading.BoundedSemaphore(1).release()
    """)
STARTS, RACE = 10, 7   # lines of PROGRAM


def wrapt_compiled(env: dict) -> bool:
    """Whether wrapt's wrappers are its compiled ones in a process with ``env``."""
    out = subprocess.run([sys.executable, "-c", "import wrapt.__wrapt__ as w; "
                          "print(w._using_c_extension)"], env=env, capture_output=True,
                         text=True, check=True, timeout=60).stdout
    return out.strip() == "True"


def frames_in(value):
    """Every frame anywhere in a JSON report."""
    if isinstance(value, dict):
        if set(value) == {"file", "line", "function"}:
            yield value
        else:
            for v in value.values():
                yield from frames_in(v)
    elif isinstance(value, list):
        for v in value:
            yield from frames_in(v)


@pytest.mark.parametrize("wrappers", ["compiled", "python"])
def test_reports_and_tracebacks_show_the_programs_frames_only(tmp_path, wrappers):
    env = clean_env(WRAPT_DISABLE_EXTENSIONS="1") if wrappers == "python" else clean_env()
    if wrapt_compiled(env) != (wrappers == "compiled"):
        if wrappers == "compiled":
            pytest.skip("wrapt's compiled part does not load on this interpreter")
        pytest.fail("WRAPT_DISABLE_EXTENSIONS=1 no longer gives wrapt's Python wrappers")
    script = tmp_path / "program.py"
    script.write_text(PROGRAM)
    plain = run_plain(script)
    run = run_racewatch(tmp_path, script, env=env)
    # The error's traceback is plain Python's, line for line.
    assert run.status == plain.status == 1
    assert "ValueError: Semaphore released too many times" in plain.stderr
    assert plain.stderr in run.stderr, run.stderr
    (race,) = run.report["races"]
    frames = list(frames_in(run.report))
    assert {f["file"] for f in frames} == {str(script)}, frames
    assert race["current"]["stack"][0]["line"] == race["previous"]["stack"][0]["line"] == RACE
    assert race["current"]["thread"]["created_at"][0]["line"] == STARTS
    events = race["timeline"]["previous_events"] + race["timeline"]["current_events"]
    assert {e["frame"]["line"] for e in events if e["kind"] in ("acquire", "release")} == {5}
