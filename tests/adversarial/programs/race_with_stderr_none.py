"""The program sets ``sys.stderr = None`` (as pythonw and some daemons have it), then races.

racewatch reports to the stderr it found at start-up; the racing ``d["j"] = v`` must go
through as under plain python.
"""
# races: 1
import sys
import threading

sys.stderr = None
d = {}
done = []


def work(v):
    d["j"] = v
    done.append(v)


threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sorted(done), sorted(d.items()) in ([("j", 0)], [("j", 1)]))
