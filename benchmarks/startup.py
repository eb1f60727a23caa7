"""Start-up cost of having racewatch installed: ``python -c pass`` in an environment with
racewatch against one without, alternating, the median of many runs.

    python benchmarks/startup.py --with .venv/bin/python --without /tmp/bare/bin/python

With ``RACEWATCH`` unset (the default here) racewatch's start-up hook must not import
racewatch and must cost nothing measurable; ``--watched`` sets ``RACEWATCH=1`` in the
environment with racewatch, to see what turning it on costs.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--with", dest="with_racewatch", required=True, metavar="PYTHON",
                        help="an interpreter with racewatch installed")
    parser.add_argument("--without", required=True, metavar="PYTHON",
                        help="the same Python without racewatch")
    parser.add_argument("--runs", type=int, default=300, help="runs of each (default 300)")
    parser.add_argument("--watched", action="store_true",
                        help="set RACEWATCH=1 for the interpreter with racewatch")
    args = parser.parse_args(argv)
    plain_env = {"PATH": "/usr/bin:/bin"}
    watched_env = dict(plain_env, RACEWATCH="1") if args.watched else plain_env
    times: dict[str, list[float]] = {"without": [], "with": []}
    for _ in range(args.runs):
        for name, exe, env in (("without", args.without, plain_env),
                               ("with", args.with_racewatch, watched_env)):
            start = time.perf_counter()
            subprocess.run([exe, "-c", "pass"], env=env, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            times[name].append(time.perf_counter() - start)
    without, with_ = (statistics.median(times[k]) * 1000 for k in ("without", "with"))
    state = "RACEWATCH=1" if args.watched else "RACEWATCH unset"
    print(f"python -c pass, median of {args.runs} alternating runs: without racewatch "
          f"{without:.2f} ms, with racewatch installed ({state}) {with_:.2f} ms, "
          f"difference {with_ - without:+.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
