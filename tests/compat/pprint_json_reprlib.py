"""pprint, json and reprlib print a dict the way they always did."""

import json
import pprint
import re
import reprlib
from collections import OrderedDict, defaultdict

small = {"b": 2, "a": 1}
wide = {f"key{i:02d}": {"values": list(range(i, i + 5)), "name": "x" * i} for i in range(12)}
nested = {"level1": {"level2": {"level3": {"level4": [1, {"deep": True}]}}}, "z": [small]}
recursive = {"name": "loop"}
recursive["me"] = recursive
dd = defaultdict(list, {"k": [1, 2], "j": []})
dd_wide = defaultdict(dict, {f"entry{i}": {"n": i, "s": "y" * 20} for i in range(6)})
mixed = [small, (small, {"t": ()}), {1: "one", 2.5: None, (1, 2): {}}, OrderedDict(o=small)]

pprint.pprint(small)
pprint.pprint(small, sort_dicts=False)
pprint.pprint(wide)
pprint.pprint(wide, width=40, sort_dicts=False)
pprint.pprint(nested, depth=2)
pprint.pprint(nested, indent=4, compact=True)
print(re.sub(r"id=\d+", "id=...", pprint.pformat(recursive)))
pprint.pprint(dd)
pprint.pprint(dd_wide)
pprint.pprint(mixed, width=30)
pprint.pprint({10**9: 10**10}, underscore_numbers=True)
# saferepr names a recursive dict by its id, which changes from run to run.
saferepr = re.sub(r"id=\d+", "id=...", pprint.saferepr(recursive))
print(pprint.pformat(wide)[:200], saferepr, pprint.isreadable(small),
      pprint.isrecursive(recursive), pprint.isreadable(recursive))
printer = pprint.PrettyPrinter(width=20)
printer.pprint(small)
print(printer.pformat({"nested": small}))

print(json.dumps(small), json.dumps(small, sort_keys=True), json.dumps(small, indent=2))
print(json.dumps(nested, indent=4, sort_keys=True), json.dumps(dd))
print(json.dumps(mixed[:2], default=str))
print(json.dumps(wide, separators=(",", ":"))[:120], json.dumps({"é": "ü"}, ensure_ascii=False))
print(json.dumps({1: 1, 2.5: 2, None: 3, True: 4}), json.dumps(small, indent="\t"))  # noqa: F601
try:
    json.dumps(recursive)
except ValueError as exc:
    print("recursive:", exc)
try:
    json.dumps({(1, 2): "tuple key"})
except TypeError as exc:
    print("tuple key:", exc)
print(json.dumps({(1, 2): "skipped", "kept": 1}, skipkeys=True))
loaded = json.loads(json.dumps(nested))
loaded["level1"]["new"] = {}
print(loaded, loaded == nested, type(loaded) is dict)
print(json.loads('{"a": {"b": []}}', object_pairs_hook=dict), json.loads("{}", object_hook=dict))
encoder = json.JSONEncoder(indent=1, sort_keys=True)
print(encoder.encode(small), list(encoder.iterencode({"x": [1]})))

print(reprlib.repr(wide), reprlib.repr(small), reprlib.repr(dd), reprlib.repr(recursive))
short = reprlib.Repr()
short.maxdict = 2
short.maxlevel = 1
print(short.repr(wide), short.repr(nested))


class Node:
    def __init__(self):
        self.children = {}

    @reprlib.recursive_repr()
    def __repr__(self):
        return f"Node({self.children})"


n = Node()
n.children["self"] = n
print(repr(n), str(small), repr(small), ascii({"ä": "ö"}), format(small, ""))
