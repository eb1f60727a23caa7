"""Another module's global, read as ``module.x`` while that module's function rebinds it.

PATTERN: unsynchronized-handoff
"""
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "racy_cross_module"))
import config  # noqa: E402


def reader(out):
    out.append(config.mode)  # RACE


out = []
threads = [threading.Thread(target=config.switch), threading.Thread(target=reader, args=(out,))]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(out))
