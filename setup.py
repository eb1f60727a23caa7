"""What pyproject.toml cannot say: the compiled core, and ``racewatch.pth`` at the root of
site-packages.

The compiled core (``racewatch._core``, from racewatch/_core/*.c) is an optional extension,
as coverage.py builds its C tracer: where it cannot be compiled (no compiler, no Python
headers) setuptools says so and the install goes on with the pure-Python core
(racewatch/runtime/core.py chooses at import).

The .pth line is the staging start-up hook (racewatch/startup.py): with ``RACEWATCH``
unset it costs one dictionary lookup and imports nothing.  Regular installs get it through
build_py (the top of the build is the wheel's root); editable installs through the
editable wheel's strategy, which setuptools calls with the wheel being written.
"""

import os
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_py import build_py

PTH = "racewatch.pth"

CORE = Extension(
    "racewatch._core",
    sources=[f"racewatch/_core/{name}.c"
             for name in ("module", "threadstate", "stacks", "shadow", "tracked", "sync",
                          "sink")],
    depends=["racewatch/_core/core.h"],
    optional=True,  # no compiler: the pure-Python core, never a failed install
)


class BuildPyWithPth(build_py):
    """build_py that also puts racewatch.pth at the top of the build (the wheel's root)."""

    def run(self):
        super().run()
        self.copy_file(PTH, os.path.join(self.build_lib, PTH), preserve_mode=False)

    def get_outputs(self, include_bytecode=True):
        return [*super().get_outputs(include_bytecode), os.path.join(self.build_lib, PTH)]


commands = {"build_py": BuildPyWithPth}

try:
    from setuptools.command.editable_wheel import editable_wheel
except ImportError:  # a setuptools without PEP 660 support: no editable installs at all
    editable_wheel = None

if editable_wheel is not None and hasattr(editable_wheel, "_select_strategy"):

    class _StrategyWithPth:
        """Wraps setuptools' editable strategy: the same wheel, plus racewatch.pth."""

        def __init__(self, strategy):
            self.strategy = strategy

        def __enter__(self):
            self.strategy.__enter__()
            return self

        def __exit__(self, *exc_info):
            return self.strategy.__exit__(*exc_info)

        def __call__(self, wheel, files, mapping):
            self.strategy(wheel, files, mapping)
            wheel.writestr(PTH, Path(PTH).read_bytes())

    class EditableWheelWithPth(editable_wheel):
        def _select_strategy(self, *args, **kwargs):
            return _StrategyWithPth(super()._select_strategy(*args, **kwargs))

    commands["editable_wheel"] = EditableWheelWithPth

setup(
    cmdclass=commands,
    ext_modules=[CORE],
    # Its sources are in the sdist (MANIFEST.in), not in the wheel beside the module.
    exclude_package_data={"racewatch._core": ["*.c", "*.h"]},
)
