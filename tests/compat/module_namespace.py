"""The names a module's namespace holds: globals(), vars(), dir(), and a star import."""

import _no_all
from _no_all import *  # noqa: F403

table = {"a": 1}
print(sorted(vars()))
print(sorted(globals()) == sorted(vars()), sorted(dir()) == sorted(vars()))
print([name for name in globals() if not name.startswith("__")])
print(sorted(name for name in dir(_no_all) if not name.startswith("__")))
print(sorted(name for name in vars(_no_all) if not name.startswith("_")))
