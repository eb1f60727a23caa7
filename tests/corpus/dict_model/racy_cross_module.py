"""A dict created in one module (registry.py) and raced on from this one.

PATTERN: unsynchronized-handoff
"""
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "racy_cross_module"))
import registry  # noqa: E402


def plugin():
    registry.register("json", len)


def lookup(out):
    out.append(registry.handlers.get("json") in (None, len))  # RACE


out = []
threads = [threading.Thread(target=plugin), threading.Thread(target=lookup, args=(out,))]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(out)
