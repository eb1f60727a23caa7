"""Real libraries that look closely at what they are handed behave as without racewatch.

Each program runs as ``python prog.py`` and as ``racewatch run prog.py`` (under the core of
this session): same output, same exit status, no race.  A library that is not installed
skips its test, with the reason.
"""

import importlib.util
import textwrap

import pytest
from corpus_tools import run_plain, run_racewatch


def needs(module: str):
    return pytest.mark.skipif(importlib.util.find_spec(module) is None,
                              reason=f"{module} is not installed")


def assert_same_run(tmp_path, source: str, *args: str) -> str:
    program = tmp_path / "program.py"
    program.write_text(textwrap.dedent(source))
    plain = run_plain(program, *args)
    assert plain.status == 0, plain.stderr
    watched = run_racewatch(tmp_path, program, *args)
    assert watched.stdout == plain.stdout, watched.stderr
    assert watched.status == 0, watched.stderr
    assert watched.report is not None and watched.report["races"] == [], watched.stderr
    return plain.stdout


# -- locks ---------------------------------------------------------------------------------


@needs("trio")
def test_trio_runs_as_without_racewatch(tmp_path):
    """trio asserts ``lock.__class__.__module__ == "_thread"`` of the RLock of its entry
    queue (it needs the signal-safe C RLock): a lock that did not pass for one made
    ``trio.run`` raise TrioInternalError."""
    out = assert_same_run(tmp_path, """\
        import threading

        import trio

        results = {}


        def blocking(n):
            with threading.Lock():
                return n * n


        async def worker(n):
            results[n] = await trio.to_thread.run_sync(blocking, n)


        async def main():
            async with trio.open_nursery() as nursery:
                for n in range(4):
                    nursery.start_soon(worker, n)
            trio.lowlevel.current_trio_token().run_sync_soon(print, "from the entry queue")
            await trio.sleep(0.01)
            print(sorted(results.items()))


        trio.run(main)
        """)
    assert out == "from the entry queue\n[(0, 0), (1, 1), (2, 4), (3, 9)]\n"
