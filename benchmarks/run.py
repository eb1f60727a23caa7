"""The benchmark runner: each workload plain and under racewatch, side by side, repeated.

    python benchmarks/run.py                 # every workload, 5 rounds
    python benchmarks/run.py --rounds 1      # a quick pass (what CI runs)
    python benchmarks/run.py index_build     # some workloads only
    python benchmarks/run.py --core both     # the compiled and the pure-Python core side by side
    python benchmarks/run.py scaling         # 1, 2 and 4 threads, side by side
    python benchmarks/run.py --baseline ../base   # this checkout against another one

Besides the scripts in ``workloads/``, each ``suite:NAME`` runs a real pure-Python
library's own test suite (boltons, cachetools, pyee, janus; pinned, each sdist fetched once
with pip into ``benchmarks/.cache``) under plain ``pytest`` and under ``pytest
--racewatch``, with the library instrumented, and checks that both report the same
outcome.  The suites of cachetools, pyee and janus start threads; pyee's and janus's need
pytest-asyncio (``pip install -e ".[benchmarks]"``).

``scaling`` runs with 1, 2 and 4 threads splitting the same work: each round runs every
thread count, plain and under racewatch, so that all see the same load.  It prints both
times at each count, and each one's speed-up from 1 to 2 threads; racewatch's, as a
fraction of plain Python's, says whether the detector lets threads run in parallel that
plain Python runs in parallel (on a free-threaded build: with the GIL, neither scales).

Each round runs the workload once with plain ``python`` and once under ``racewatch run``
with each core asked for, alternating, so that all see the same machine load.  Printed per
workload and per core: the median time ratio, the ratio of peak resident memory (each
process's own peak, from ``wait4``: the runs are started by a small process of their own,
``_spawner.py``, since a child's peak counts its parent's), and tracked accesses per second
under racewatch (from its JSON summary).  These machines are shared and noisy: quote
ratios from one run, never absolute times across runs.

``--baseline DIR`` measures a change: DIR is another checkout of racewatch (a git worktree
of the commit before it, say) with its compiled core built in place (``python setup.py
build_ext --inplace``).  Each round then also runs racewatch from DIR, with each core, in
the same alternation, and the columns marked ``base`` give its ratios beside this
checkout's.

Before the first round the runner writes the bytecode of racewatch's modules, this
checkout's and the baseline's, for the python it runs with: a run that must compile them
(a fresh worktree, a machine with ``PYTHONDONTWRITEBYTECODE`` set, a module changed since
its bytecode was written) starts about 0.13 s later, which a workload of a quarter of a
second counts as racewatch's.
"""

from __future__ import annotations

import argparse
import json
import marshal
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
# workloads run once per thread count (their first argument)
THREAD_COUNTS = {"scaling": (1, 2, 4)}
# --baseline: the other checkout that the runs labelled "CORE base" import racewatch from
BASELINE: Path | None = None


def run_env(env: dict[str, str], run: str) -> dict[str, str]:
    """The environment of a racewatch run labelled ``run``: a core ("c", "python"), and
    " base" when it is the baseline checkout's."""
    core, _, base = run.partition(" ")
    env = dict(env, RACEWATCH_CORE=core)
    if base:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(BASELINE),
                                                          env.get("PYTHONPATH")]))
    return env


@dataclass
class Sample:
    seconds: float
    peak_mb: float
    accesses: int = 0


@dataclass
class Result:
    name: str
    plain: list[Sample] = field(default_factory=list)
    watched: dict[str, list[Sample]] = field(default_factory=dict)  # per core
    races: dict[str, int] = field(default_factory=dict)

    def ratio(self, core: str, attr: str) -> float:
        plain = statistics.median(getattr(s, attr) for s in self.plain)
        watched = statistics.median(getattr(s, attr) for s in self.watched[core])
        return watched / plain if plain else float("nan")

    def accesses_per_second(self, core: str) -> float:
        s = min(self.watched[core], key=lambda s: s.seconds)
        return s.accesses / s.seconds if s.seconds else 0.0

    def median_seconds(self, core: str | None) -> float:
        """The median time of the plain runs (``core`` None) or of one core's."""
        samples = self.plain if core is None else self.watched[core]
        return statistics.median(s.seconds for s in samples)


class Spawner:
    """The process that starts the workloads' runs (benchmarks/_spawner.py says why): one
    for the whole run, started with nothing imported."""

    def __init__(self):
        self.proc = None

    def run(self, cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, int, int]:
        if self.proc is None or self.proc.poll() is not None:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-S", str(Path(__file__).with_name("_spawner.py"))],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        marshal.dump(([str(a) for a in cmd], str(cwd), dict(env)), self.proc.stdin)
        self.proc.stdin.flush()
        try:
            return marshal.load(self.proc.stdout)
        except EOFError:
            raise SystemExit("benchmarks/run.py: the process that starts the runs "
                             "ended") from None

    def close(self) -> None:
        if self.proc is not None:
            self.proc.stdin.close()
            self.proc.wait()
            self.proc = None


SPAWNER = Spawner()


def measure(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, int]:
    """(wall seconds, peak RSS in MiB, exit status) of one child process, started by the
    spawner: its peak is its own, not at least the runner's."""
    seconds, peak_kib, status = SPAWNER.run(cmd, cwd, env)
    return seconds, peak_kib / 1024, os.waitstatus_to_exitcode(status)


def run_workload(name: str, rounds: int, env: dict[str, str], cores: list[str]) -> Result:
    return run_rounds(name, [()], rounds, env, cores)[0]


def run_rounds(name: str, variants: list[tuple[str, ...]], rounds: int, env: dict[str, str],
               cores: list[str]) -> list[Result]:
    """One Result per variant (the workload's arguments); each round runs every variant,
    plain then under racewatch with each core."""
    script = WORKLOADS / f"{name}.py"
    results = [Result(" ".join((name, *args)), watched={core: [] for core in cores})
               for args in variants]
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        for _ in range(rounds):
            for args, result in zip(variants, results, strict=True):
                plain_cmd = [sys.executable, str(script), *args]
                watched_cmd = [sys.executable, "-m", "racewatch", "run", "--exitcode", "0",
                               "--json", str(report), str(script), *args]
                seconds, peak, status = measure(plain_cmd, WORKLOADS, env)
                if status:
                    raise SystemExit(f"{result.name}: plain run failed with status {status}")
                result.plain.append(Sample(seconds, peak))
                for core in cores:
                    seconds, peak, status = measure(watched_cmd, WORKLOADS,
                                                    run_env(env, core))
                    if status:
                        raise SystemExit(f"{result.name}: racewatch run ({core} core) "
                                         f"failed with status {status}")
                    data = json.loads(report.read_text())
                    result.watched[core].append(
                        Sample(seconds, peak, data["summary"]["accesses"]))
                    result.races[core] = data["summary"]["races"]
    return results


def print_scaling(counts: tuple[int, ...], results: list[Result], core: str) -> None:
    """Plain and racewatch times at each thread count, and their speed-ups from 1 thread."""
    print(f"  {core} core: {'threads':>7} {'plain':>8} {'racewatch':>10} "
          f"{'speed-up plain':>15} {'speed-up racewatch':>19}")
    base = results[0]
    for n, r in zip(counts, results, strict=True):
        plain, watched = r.median_seconds(None), r.median_seconds(core)
        print(f"  {'':>{len(core) + 6}} {n:>7} {plain:>7.2f}s {watched:>9.2f}s "
              f"{base.median_seconds(None) / plain:>14.2f}x "
              f"{base.median_seconds(core) / watched:>18.2f}x")
    if len(counts) > 1 and counts[0] == 1:
        plain_up = base.median_seconds(None) / results[1].median_seconds(None)
        watched_up = base.median_seconds(core) / results[1].median_seconds(core)
        print(f"  1 -> {counts[1]} threads: racewatch's speed-up ({core} core) is "
              f"{watched_up / plain_up:.0%} of plain Python's", flush=True)


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


def run_suite(name: str, rounds: int, env: dict[str, str], cores: list[str]) -> Result:
    source = fetch_suite(name)
    _, tests, extra = SUITES[name]
    result = Result(f"suite:{name}", watched={core: [] for core in cores})
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
        runs = [(None, base, env)] + [
            (core, base + ["--racewatch", "--racewatch-json", str(report)],
             run_env(env, core)) for core in cores]
        for _ in range(rounds):
            for core, cmd, proc_env in runs:
                # (started from here: pytest's peak, run or not, is above the runner's)
                start = time.perf_counter()
                proc = subprocess.Popen(cmd, cwd=source, env=proc_env, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, text=True)
                out = proc.stdout.read()
                _, _, usage = os.wait4(proc.pid, 0)
                seconds = time.perf_counter() - start
                summary = [line for line in out.splitlines() if " passed" in line
                           or " failed" in line][-1:]
                outcomes.add(summary[0].split(" in ")[0] if summary else "?")
                if core is None:
                    result.plain.append(Sample(seconds, usage.ru_maxrss / 1024))
                    continue
                data = json.loads(report.read_text())
                result.races[core] = data["summary"]["races"]
                result.watched[core].append(Sample(seconds, usage.ru_maxrss / 1024,
                                                   data["summary"]["accesses"]))
    if len(outcomes) != 1:
        raise SystemExit(f"suite:{name}: outcomes differ under racewatch: {sorted(outcomes)}")
    return result


def check_baseline(path: Path, cores: list[str]) -> None:
    """Exit with one clear line unless ``path`` is a racewatch checkout that can run with
    each of ``cores``."""
    if not (path / "racewatch" / "__init__.py").is_file():
        raise SystemExit(f"benchmarks/run.py --baseline {path}: not a checkout of racewatch "
                         "(no racewatch/__init__.py)")
    import sysconfig

    built = path / "racewatch" / f"_core{sysconfig.get_config_var('EXT_SUFFIX')}"
    if "c" in cores and not built.is_file():
        raise SystemExit(f"benchmarks/run.py --baseline {path}: its compiled core is not "
                         f"built for this python ({built.name}): run python setup.py "
                         "build_ext --inplace there")


def compile_modules(package: Path) -> None:
    """Write the bytecode of the modules of ``package`` (a racewatch package directory)
    for this python, where it is missing or older than its source (see the docstring)."""
    import compileall

    if not compileall.compile_dir(package, quiet=1):
        raise SystemExit(f"benchmarks/run.py: the modules of {package} do not compile")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workloads", nargs="*", help="workload names (default: all)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per workload")
    parser.add_argument("--core", choices=("auto", "c", "python", "both"), default="auto",
                        help="the core racewatch runs with (RACEWATCH_CORE); both: the "
                             "compiled one and the pure-Python one, side by side")
    parser.add_argument("--baseline", metavar="DIR", type=Path,
                        help="another checkout of racewatch (its compiled core built in "
                             "place), run side by side with this one")
    args = parser.parse_args(argv)
    names = args.workloads or [*sorted(p.stem for p in WORKLOADS.glob("*.py")
                                       if not p.stem.startswith("_")),
                               *(f"suite:{name}" for name in SUITES)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("RACEWATCH")}
    os.environ.pop("RACEWATCH_CORE", None)  # (this process only loads the core to ask)
    from racewatch.runtime import core

    try:
        if args.core == "both":
            core.load("c")  # a clear error here when the compiled core is not built
            cores = ["c", "python"]
        else:
            cores = ["c" if core.load(args.core) is not None else "python"]
    except core.CoreError as exc:
        raise SystemExit(f"benchmarks/run.py --core {args.core}: {exc}") from None
    compile_modules(Path(core.__file__).resolve().parent.parent)
    names_of = {"c": "compiled", "python": "pure-Python"}
    print(f"python {sys.version.split()[0]}, {args.rounds} rounds, "
          f"{' and '.join(names_of[c] for c in cores)} core; ratios are racewatch / plain")
    if args.baseline is not None:
        global BASELINE
        BASELINE = args.baseline.resolve()
        check_baseline(BASELINE, cores)
        compile_modules(BASELINE / "racewatch")
        print(f"base: racewatch from {BASELINE}")
        cores = [run for c in cores for run in (c, f"{c} base")]
    # One column per figure and core, each as wide as its heading.
    columns = []
    for c in cores:
        suffix = f" ({c})" if len(cores) > 1 else ""
        columns += [(f"time{suffix}", c, lambda r, c: f"{r.ratio(c, 'seconds'):.2f}x"),
                    (f"memory{suffix}", c, lambda r, c: f"{r.ratio(c, 'peak_mb'):.2f}x"),
                    (f"accesses/s{suffix}", c,
                     lambda r, c: f"{r.accesses_per_second(c):,.0f}")]
    width = {heading: max(len(heading), 10) for heading, _, _ in columns}
    print(f"{'workload':<22}", *(f"{h:>{width[h]}}" for h, _, _ in columns), f"{'races':>6}")
    try:
        print_results(names, args.rounds, env, cores, columns, width)
    finally:
        SPAWNER.close()
    return 0


def print_results(names: list[str], rounds: int, env: dict[str, str], cores: list[str],
                  columns: list, width: dict[str, int]) -> None:
    for name in names:
        if name.startswith("suite:"):
            results = [run_suite(name.split(":", 1)[1], rounds, env, cores)]
        elif name in THREAD_COUNTS:
            variants = [(str(n),) for n in THREAD_COUNTS[name]]
            results = run_rounds(name, variants, rounds, env, cores)
        else:
            results = [run_workload(name, rounds, env, cores)]
        for r in results:
            races = "/".join(str(r.races[c]) for c in cores)
            print(f"{r.name:<22}", *(f"{cell(r, c):>{width[h]}}" for h, c, cell in columns),
                  f"{races:>6}", flush=True)
        if name in THREAD_COUNTS:
            for c in cores:
                print_scaling(THREAD_COUNTS[name], results, c)


if __name__ == "__main__":
    sys.exit(main())
