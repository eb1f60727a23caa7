"""The benchmark runner: each workload plain and under racewatch, side by side, repeated.

    python benchmarks/run.py                 # every workload, 5 rounds
    python benchmarks/run.py --rounds 1      # a quick pass (what CI runs)
    python benchmarks/run.py index_build     # some workloads only

Besides the scripts in ``workloads/``, each ``suite:NAME`` runs a real pure-Python
library's own test suite (boltons, cachetools, pyee, janus; pinned, each sdist fetched once
with pip into ``benchmarks/.cache``) under plain ``pytest`` and under ``pytest
--racewatch``, with the library instrumented, and checks that both report the same
outcome.  The suites of cachetools, pyee and janus start threads; pyee's and janus's need
pytest-asyncio (``pip install -e ".[benchmarks]"``).

Each round runs the workload once with plain ``python`` and once under ``racewatch run``,
alternating, so that both see the same machine load.  Printed per workload: the median
time ratio, the ratio of peak resident memory (each process's own peak, from ``wait4``),
and tracked accesses per second under racewatch (from its JSON summary).  These machines
are shared and noisy: quote ratios from one run, never absolute times across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).parent
WORKLOADS = HERE / "workloads"
CACHE = HERE / ".cache"
# name -> (requirement, test directory inside the sdist, extra pytest arguments)
SUITES = {
    "boltons": ("boltons==26.2.0", "tests", []),
    "cachetools": ("cachetools==8.0.0", "tests", []),
    # the trio and twisted backends' tests need those frameworks
    "pyee": ("pyee==13.0.1", "tests", ["--ignore", "tests/test_trio.py",
                                       "--ignore", "tests/test_twisted.py"]),
    # addopts asks for pytest-cov; test_benchmarks.py for pytest-codspeed.  Two tests poll
    # a private counter the queue's worker threads update under its lock
    # (``while q._sync_not_empty_waiting != 4: await asyncio.sleep(...)``): a real race
    # in the tests, which racewatch reports, so they would fail only under it.
    "janus": ("janus==2.0.0", "tests", [
        "-o", "addopts=", "--ignore", "tests/test_benchmarks.py",
        "--deselect", "tests/test_mixed.py::TestMixedMode::test_put_notifies_sync_not_empty",
        "--deselect", "tests/test_mixed.py::TestMixedMode::test_get_notifies_sync_not_full"]),
}


@dataclass
class Sample:
    seconds: float
    peak_mb: float
    accesses: int = 0


@dataclass
class Result:
    name: str
    plain: list[Sample] = field(default_factory=list)
    watched: list[Sample] = field(default_factory=list)
    races: int = 0

    def ratio(self, attr: str) -> float:
        plain = statistics.median(getattr(s, attr) for s in self.plain)
        watched = statistics.median(getattr(s, attr) for s in self.watched)
        return watched / plain if plain else float("nan")

    def accesses_per_second(self) -> float:
        s = min(self.watched, key=lambda s: s.seconds)
        return s.accesses / s.seconds if s.seconds else 0.0


def measure(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, int]:
    """(wall seconds, peak RSS in MiB, exit status) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return seconds, usage.ru_maxrss / 1024, proc.returncode


def run_workload(name: str, rounds: int, env: dict[str, str]) -> Result:
    script = WORKLOADS / f"{name}.py"
    result = Result(name)
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        plain_cmd = [sys.executable, str(script)]
        watched_cmd = [sys.executable, "-m", "racewatch", "run", "--exitcode", "0",
                       "--json", str(report), str(script)]
        for _ in range(rounds):
            seconds, peak, status = measure(plain_cmd, WORKLOADS, env)
            if status:
                raise SystemExit(f"{name}: plain run failed with status {status}")
            result.plain.append(Sample(seconds, peak))
            seconds, peak, status = measure(watched_cmd, WORKLOADS, env)
            if status:
                raise SystemExit(f"{name}: racewatch run failed with status {status}")
            data = json.loads(report.read_text())
            result.watched.append(Sample(seconds, peak, data["summary"]["accesses"]))
            result.races = data["summary"]["races"]
    return result


def fetch_suite(name: str) -> Path:
    """The unpacked sdist of a suite's library (fetched with pip on first use)."""
    requirement, _, _ = SUITES[name]
    CACHE.mkdir(exist_ok=True)
    unpacked = [p for p in CACHE.glob(f"{name}-*") if p.is_dir()]
    if unpacked:
        return unpacked[0]
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                    "--no-binary", ":all:", "--dest", str(CACHE), requirement], check=True)
    archive = next(CACHE.glob(f"{name}-*.tar.gz"))
    import tarfile

    with tarfile.open(archive) as tar:
        tar.extractall(CACHE, filter="data") if sys.version_info >= (3, 12) \
            else tar.extractall(CACHE)
    return next(p for p in CACHE.glob(f"{name}-*") if p.is_dir())


def run_suite(name: str, rounds: int, env: dict[str, str]) -> Result:
    source = fetch_suite(name)
    _, tests, extra = SUITES[name]
    result = Result(f"suite:{name}")
    base = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p",
            "no:run_parallel", *extra, tests]
    if (source / "src").is_dir():
        # src layout: the library is imported from the sdist, under the rootdir (and so
        # instrumented), never from an installed copy
        env = {**env, "PYTHONPATH": os.pathsep.join(filter(None, [str(source / "src"),
                                                                  env.get("PYTHONPATH")]))}
    outcomes = set()
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        for _ in range(rounds):
            for cmd, samples in ((base, result.plain),
                                 (base + ["--racewatch", "--racewatch-json", str(report)],
                                  result.watched)):
                start = time.perf_counter()
                proc = subprocess.Popen(cmd, cwd=source, env=env, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, text=True)
                out = proc.stdout.read()
                _, _, usage = os.wait4(proc.pid, 0)
                seconds = time.perf_counter() - start
                summary = [line for line in out.splitlines() if " passed" in line
                           or " failed" in line][-1:]
                outcomes.add(summary[0].split(" in ")[0] if summary else "?")
                accesses = 0
                if samples is result.watched:
                    data = json.loads(report.read_text())
                    accesses = data["summary"]["accesses"]
                    result.races = data["summary"]["races"]
                samples.append(Sample(seconds, usage.ru_maxrss / 1024, accesses))
    if len(outcomes) != 1:
        raise SystemExit(f"suite:{name}: outcomes differ under racewatch: {sorted(outcomes)}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workloads", nargs="*", help="workload names (default: all)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per workload")
    parser.add_argument("--core", choices=("auto", "c", "python"), default="auto",
                        help="the core racewatch runs with (RACEWATCH_CORE)")
    args = parser.parse_args(argv)
    names = args.workloads or [*sorted(p.stem for p in WORKLOADS.glob("*.py")
                                       if not p.stem.startswith("_")),
                               *(f"suite:{name}" for name in SUITES)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("RACEWATCH")}
    env["RACEWATCH_CORE"] = args.core
    from racewatch.runtime import core

    os.environ["RACEWATCH_CORE"] = args.core
    print(f"python {sys.version.split()[0]}, {args.rounds} rounds, "
          f"{core.load(args.core) and 'compiled' or 'pure-Python'} core; "
          "ratios are racewatch / plain")
    print(f"{'workload':<22} {'time':>7} {'memory':>7} {'accesses/s':>12} {'races':>6}")
    for name in names:
        if name.startswith("suite:"):
            r = run_suite(name.split(":", 1)[1], args.rounds, env)
        else:
            r = run_workload(name, args.rounds, env)
        print(f"{name:<22} {r.ratio('seconds'):>6.2f}x {r.ratio('peak_mb'):>6.2f}x "
              f"{r.accesses_per_second():>12,.0f} {r.races:>6}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
