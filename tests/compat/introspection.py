"""What introspection shows of a dict and its methods."""

import gc
import inspect
import re
from collections import defaultdict


def show(x):
    return re.sub(r" at 0x[0-9a-f]+", "", repr(x))


for d, base in (({"a": 1}, dict), (defaultdict(int), defaultdict)):
    print(dir(d) == dir(base), sorted(set(dir(d)) - set(dir(base))))
    print(hasattr(d, "__slots__"), hasattr(d, "__copy__"), hasattr(d, "__deepcopy__"))
    print(show(d.get), type(d.get).__name__, d.get.__doc__ == base.get.__doc__)
    print(show(d.__getitem__), type(d.items).__name__, d.update.__qualname__)
    try:
        print(inspect.signature(d.get))
    except ValueError as exc:
        print("signature:", exc)
    print(gc.is_tracked(d) == gc.is_tracked(base()), d.__reduce_ex__(2)[0].__name__)
