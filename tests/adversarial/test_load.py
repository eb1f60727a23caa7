"""Load: a threaded HTTP service under RACEWATCH=1, driven by many clients.

(The 10,000 short-lived threads are a program of their own, ``ten_thousand_threads.py``.)
The service and its client are ``benchmarks/http_server.py``, which also measures the
requests per second with and without racewatch (see the README); here it runs one short
round: every request must be answered, the service must die of SIGTERM as it does
without racewatch, and racewatch must report no race in that correct service.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from corpus_tools import active_core, clean_env

BENCHMARK = Path(__file__).parents[2] / "benchmarks" / "http_server.py"


@pytest.mark.slow
def test_a_threaded_http_service_under_staging(tmp_path):
    run = subprocess.run([sys.executable, str(BENCHMARK), "--requests", "300", "--rounds",
                          "1", "--core", active_core()], cwd=tmp_path, env=clean_env(),
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(r"^plain: +\d+ requests/s$", run.stdout, re.M), run.stdout
    assert re.search(r"^racewatch: +\d+ requests/s \([\d.]+x slower\)$", run.stdout, re.M)
    assert "failed requests: 0; races reported: 0" in run.stdout
    print(run.stdout)
