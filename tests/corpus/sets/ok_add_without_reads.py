"""Two threads add their own elements to one set and nobody reads it until they are
joined: not a race.  Each add is atomic; adding a new element is an *update* of the set's
members, and updates do not race with each other."""
import threading

tags = set()


def tag(prefix):
    for n in range(3):
        tags.add(f"{prefix}-{n}")


threads = [threading.Thread(target=tag, args=(p,)) for p in ("a", "b")]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sorted(tags))
