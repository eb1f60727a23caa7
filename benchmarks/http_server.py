"""A threaded HTTP service, plain and under ``RACEWATCH=1``: requests per second.

    python benchmarks/http_server.py                        # 9 rounds of 1,000 requests
    python benchmarks/http_server.py --requests 200 --rounds 1 --core python

The service is ``http.server.ThreadingHTTPServer`` (a thread per request) whose handler
counts hits per path in a dict under a lock and answers with a small JSON body: a correct
program, so racewatch reports no race.  Each round starts it once plain and once with
``RACEWATCH=1`` (staging: racewatch starts with the interpreter), alternating, and drives
it with ``--clients`` threads that each make their share of the requests on new
connections; the figure is the requests completed per second of that, the median of the
rounds, and how many times slower racewatch was, the median of the rounds' ratios.  Then the service
is stopped with SIGTERM, as a service manager would, and its race log read.  These
machines are shared and noisy: compare the two columns of one run, never runs.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

SERVICE = textwrap.dedent("""\
    import json
    import sys
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    hits = {}
    lock = threading.Lock()


    class Handler(BaseHTTPRequestHandler):
        disable_nagle_algorithm = True  # headers and body leave at once, no 40 ms stall

        def do_GET(self):
            with lock:
                hits[self.path] = hits.get(self.path, 0) + 1
                count = hits[self.path]
            body = json.dumps({"path": self.path, "count": count}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass


    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    print("ready", flush=True)
    server.serve_forever()
    """)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def drive(port: int, requests: int, clients: int) -> tuple[float, int]:
    """(requests per second, failed requests) of ``clients`` threads making ``requests``."""
    failures = []

    def client(n: int, index: int) -> None:
        for i in range(n):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                conn.request("GET", f"/item/{(index + i) % 20}")
                response = conn.getresponse()
                if response.status != 200 or not json.loads(response.read())["count"]:
                    failures.append(response.status)
            except (OSError, ValueError) as exc:
                failures.append(exc)
            finally:
                conn.close()

    share = [requests // clients + (i < requests % clients) for i in range(clients)]
    threads = [threading.Thread(target=client, args=(n, i)) for i, n in enumerate(share)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return requests / (time.perf_counter() - start), len(failures)


def serve_and_drive(directory: Path, env: dict[str, str], requests: int,
                    clients: int) -> tuple[float, int, int]:
    """(requests per second, failed requests, exit status) of one service run."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "service.py", str(port)], cwd=directory, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        if proc.stdout.readline().strip() != "ready":
            raise SystemExit(f"the service did not start: {proc.communicate()[1]}")
        rate, failed = drive(port, requests, clients)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    if err.strip():
        raise SystemExit(f"the service wrote to stderr:\n{err}")
    return rate, failed, proc.returncode


def races_in(log_dir: Path) -> int:
    races = 0
    for log in log_dir.glob("races.*.log"):
        races += sum(1 for line in log.read_text().splitlines() if '"kind"' in line)
    return races


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="requests per run")
    parser.add_argument("--clients", type=int, default=8, help="client threads")
    parser.add_argument("--rounds", type=int, default=9, help="runs of each kind")
    parser.add_argument("--core", choices=("auto", "c", "python"), default="auto",
                        help="the core racewatch runs with (RACEWATCH_CORE)")
    args = parser.parse_args(argv)
    plain_env = {k: v for k, v in os.environ.items() if not k.startswith("RACEWATCH")}
    plain, watched, failed = [], [], 0
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        (directory / "service.py").write_text(SERVICE)
        watched_env = {**plain_env, "RACEWATCH": "1", "RACEWATCH_CORE": args.core,
                       "RACEWATCH_OPTIONS": f"log_path={directory}/races.%p.log"}
        for _ in range(args.rounds):
            for env, rates in ((plain_env, plain), (watched_env, watched)):
                rate, failures, status = serve_and_drive(directory, env, args.requests,
                                                         args.clients)
                if status != -signal.SIGTERM:
                    raise SystemExit(f"the service exited with status {status}, not by "
                                     "SIGTERM")
                rates.append(rate)
                failed += failures
        races = races_in(directory)
    # Each round's two runs saw about the same machine: the median of the rounds' ratios
    # moves less with the load of a shared machine than a ratio of medians.
    slower = statistics.median(p / w for p, w in zip(plain, watched, strict=True))
    print(f"python {sys.version.split()[0]}, {args.rounds} rounds of {args.requests} requests "
          f"from {args.clients} clients, RACEWATCH_CORE={args.core}")
    print(f"plain:     {statistics.median(plain):8.0f} requests/s")
    print(f"racewatch: {statistics.median(watched):8.0f} requests/s ({slower:.2f}x slower)")
    print(f"failed requests: {failed}; races reported: {races}")
    return 1 if failed or races else 0


if __name__ == "__main__":
    sys.exit(main())
