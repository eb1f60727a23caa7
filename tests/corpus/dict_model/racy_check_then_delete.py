"""Check-then-act on a delete: `if k in d: del d[k]` in two threads.  Both can find the key
there, and the second delete then fails; ``d.pop(k, None)`` checks and deletes in one step.

PATTERN: check-then-act
"""
import threading

sessions = {"s1": "alice"}


def expire(sid):
    if sid in sessions:  # RACE
        try:
            del sessions[sid]  # RACE
        except KeyError:  # the other thread deleted it between the check and the delete
            pass


threads = [threading.Thread(target=expire, args=("s1",)) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sorted(sessions))
