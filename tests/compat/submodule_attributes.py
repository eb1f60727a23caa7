"""A package's submodules are its attributes only once something imported them."""

import collections
import concurrent
import sys

print(hasattr(collections, "abc"), hasattr(concurrent, "futures"))
print("threading" in sys.modules, "json" in sys.modules, "concurrent.futures" in sys.modules)
try:
    print(collections.abc.Mapping)
except AttributeError as exc:
    print("AttributeError:", exc)
