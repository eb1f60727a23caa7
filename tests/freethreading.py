"""What the tests need to know of a free-threaded interpreter (3.13t: ``--disable-gil``)."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig

FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))

# PYTHON_GIL=0 (or -X gil=0) keeps the GIL off even when a module that has not declared
# itself free-threading-safe is imported; without it such an import turns the GIL on.
GIL_FORCED_OFF = FREE_THREADED and getattr(sys.flags, "gil", None) == 0


def gil_enabled() -> bool:
    return FREE_THREADED and sys._is_gil_enabled()


def enables_the_gil(module: str) -> bool:
    """Whether importing ``module`` turns the GIL on, in a fresh interpreter without
    PYTHON_GIL (False on GIL builds, and for a module that cannot be imported)."""
    if not FREE_THREADED:
        return False
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_GIL"}
    code = (f"import sys\ntry:\n    import {module}\nexcept ImportError:\n    sys.exit(0)\n"
            "sys.exit(3 if sys._is_gil_enabled() else 0)")
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         timeout=120)
    return run.returncode == 3
