"""An approximate hit counter whose races are accepted: racewatch.ignore() silences them."""
import threading

import racewatch

hits = {"/": 0}


def serve():
    for _ in range(10):
        with racewatch.ignore():
            hits["/"] += 1


threads = [threading.Thread(target=serve) for _ in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(hits["/"] > 0)
