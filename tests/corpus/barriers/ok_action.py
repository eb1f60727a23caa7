"""The barrier's action runs after every party arrived and before any of them leaves."""
import threading

scores = {n: None for n in range(3)}
summary = {"best": None}


def pick_best():
    summary["best"] = max(scores, key=scores.get)


barrier = threading.Barrier(3, action=pick_best)


def player(n):
    scores[n] = (n * 7) % 5
    barrier.wait()
    if n == 0:
        print("best is", summary["best"])


threads = [threading.Thread(target=player, args=(n,)) for n in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
