"""Lookups of keys that are not there: 2 threads check a small shared table of blocked
request ids for each of a million distinct ids that arrive (almost none is blocked), as a
service checks a cache or a deny list with request ids.  Every lookup is of a key never
seen before, so each one is a new location for the detector."""

import threading

blocked = {f"req-{i}": True for i in range(0, 2_000_000, 100_003)}


def serve(first, count):
    served = 0
    for i in range(first, first + count):
        request_id = f"req-{i}"
        if request_id in blocked:
            continue
        served += len(request_id) & 1
    return served


results = []
threads = [threading.Thread(target=lambda f=f: results.append(serve(f, 1_000_000)))
           for f in (0, 1_000_000)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sum(results))
