import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from freethreading import FREE_THREADED, GIL_FORCED_OFF, gil_enabled  # noqa: E402


def pytest_report_header(config):
    if FREE_THREADED:
        forced = " (forced off: PYTHON_GIL=0)" if GIL_FORCED_OFF else ""
        return f"free-threaded build, GIL {'on' if gil_enabled() else 'off'}{forced}"
    return None


if FREE_THREADED:

    @pytest.fixture(autouse=True)
    def _the_gil_stays_off():
        """On a free-threaded build every test runs without the GIL: a module imported
        that turned it on (one that has not declared itself safe without it) fails the
        test that imported it, and every later one."""
        assert not gil_enabled(), "the GIL is on: a module imported earlier turned it on"
        yield
        assert not gil_enabled(), "a module this test imported turned the GIL on"
