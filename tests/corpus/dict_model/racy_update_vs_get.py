"""update() and |= write each key they set.

PATTERN: unsynchronized-handoff
"""
import threading

settings = {"debug": False}


def load():
    settings.update(debug=True, level=3)  # RACE


def check(out):
    out.append(settings.get("level") in (None, 3))  # RACE


out = []
threads = [threading.Thread(target=load), threading.Thread(target=check, args=(out,))]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(out)
