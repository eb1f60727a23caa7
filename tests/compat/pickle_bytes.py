"""The bytes pickle.dumps gives for dicts, defaultdicts, lists and sets, with every protocol."""

import pickle
import pickletools
from collections import defaultdict

values = {"dict": {"a": 1}, "empty": {}, "nested": {"n": {"m": 2}},
          "defaultdict": defaultdict(int, {"b": 2}), "in a list": [{"c": 3}], "list": [1, [2]],
          "set": {3}}
for name, value in values.items():
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        data = pickle.dumps(value, protocol)
        print(name, protocol, len(data), data.hex())
print(pickle.dumps({"x": 1}) == pickle.dumps(dict(x=1)), len(pickle.dumps({"x": 1})))
pickletools.dis(pickle.dumps({"a": 1}, 2))
