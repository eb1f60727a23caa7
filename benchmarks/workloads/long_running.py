"""A long-running service loop over a bounded working set: 2 threads, 300,000 turns each,
of about eight dict operations per turn under one lock (open a session, expire an old one,
touch it, look up ids that are gone or never were), on a session table that never holds
more than 2,000 sessions.  What the program holds stays the same from start to end, and so
should the detector's memory: it prints its peak.  ``long_running.py N`` runs N turns per
thread, to watch that peak stay put over a longer run."""

import resource
import sys
import threading

sessions = {}
lock = threading.Lock()
LIVE = 2_000


def loop(offset, turns):
    for n in range(turns):
        sid = offset + n
        with lock:
            sessions[sid] = {"hits": 0}
            old = sessions.pop(sid - LIVE // 2, None)
            if old is not None:
                old["hits"] += 1
            if (sid * 7) in sessions:
                sessions[sid * 7]["hits"] += 1
            recent = sessions.get(sid - 10)
            if recent is not None:
                recent["hits"] += 1


TURNS = int(sys.argv[1]) if len(sys.argv) > 1 else 300_000  # per thread
threads = [threading.Thread(target=loop, args=(o, TURNS)) for o in (0, 10**9)]
for t in threads:
    t.start()
for t in threads:
    t.join()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
peak_mb = peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024
print(len(sessions), f"peak {peak_mb:.1f} MB")
