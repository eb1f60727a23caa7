"""Racing on keys whose ``__repr__`` raises, or recurses without end."""
# races: 2
import threading


class Raises:
    def __repr__(self):
        raise RuntimeError("no repr for you")

    def __hash__(self):
        return 1


class Recurses:
    def __repr__(self):
        return repr(self)

    def __hash__(self):
        return 2


d = {}
raises, recurses = Raises(), Recurses()


def work(v):
    d[raises] = v
    d[recurses] = v


threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(d))
