"""What introspection shows of a dict, a list, a set and their methods."""

import gc
import inspect
import re
from collections import defaultdict


def show(x):
    return re.sub(r" at 0x[0-9a-f]+", "", repr(x))


for d, base in (({"a": 1}, dict), (defaultdict(int), defaultdict)):
    print(dir(d) == dir(base), sorted(set(dir(d)) - set(dir(base))), show(d.__repr__))
    print(hasattr(d, "__slots__"), hasattr(d, "__copy__"), hasattr(d, "__deepcopy__"))
    print(show(d.get), type(d.get).__name__, d.get.__doc__ == base.get.__doc__)
    print(show(d.__getitem__), type(d.items).__name__, d.update.__qualname__)
    try:
        print(inspect.signature(d.get))
    except ValueError as exc:
        print("signature:", exc)
    print(gc.is_tracked(d) == gc.is_tracked(base()), d.__reduce_ex__(2)[0].__name__)

for x, base in (([1], list), ({1}, set)):
    print(dir(x) == dir(base), sorted(set(dir(x)) - set(dir(base))))
    print(hasattr(x, "__slots__"), hasattr(x, "__copy__"), hasattr(x, "__deepcopy__"))
    print(show(x.pop), type(x.pop).__name__, x.pop.__doc__ == base.pop.__doc__)
    print(show(x.__iter__), show(x.__len__), show(x.__repr__), x.copy.__qualname__)
    print(show(type(x).__len__), type(x).__repr__ is base.__repr__, type(x).__hash__)
    for name in ("copy", "__contains__", "__reduce__", "__reduce_ex__", "__getitem__"):
        method = getattr(x, name, None)
        if method is not None:
            try:
                print(name, inspect.signature(method))
            except ValueError as exc:
                print(name, "signature:", show(str(exc)))
    print(x.__reduce_ex__(2)[0].__name__, x.__sizeof__() > 0)
print(show([].append), show({1}.add), [].append.__self__ == [], type([].sort).__name__)
