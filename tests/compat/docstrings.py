"""A module whose docstring must survive the rewrite.

It has dicts, so the rewrite adds its import: after this docstring, not before it.
"""

import _documented

CONFIG = {"a": 1}


def helper():
    """The function's own docstring."""
    return {}


class Holder:
    """The class's docstring."""

    table = {"t": 1}


print(repr(__doc__))
print(helper.__doc__, Holder.__doc__, helper(), Holder.table, CONFIG)
print(repr(_documented.__doc__), _documented.lookup("one"), _documented.lookup.__doc__)
print(_documented.lookup.__annotations__, _documented.__name__)
