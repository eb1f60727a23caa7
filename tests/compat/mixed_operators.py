"""| and == between dicts, defaultdicts and OrderedDicts, made here or by the library."""

import json
from collections import OrderedDict, defaultdict

made_here = {"a": 1}
dd_here = defaultdict(int, {"b": 2})
from_library = json.loads('{"a": 1}')  # a dict the instrumented code did not create
od = OrderedDict(c=3)

operands = [("dict", made_here), ("defaultdict", dd_here), ("library dict", from_library),
            ("OrderedDict", od)]
for left_name, left in operands:
    for right_name, right in operands:
        result = left | right
        print(f"{left_name} | {right_name} -> {type(result).__name__}: {result}",
              getattr(result, "default_factory", "-"), left == right, left != right)
        copy = dict(left)
        copy |= right
        print(f"  {left_name} |= {right_name} -> {type(copy).__name__}: {copy}")
