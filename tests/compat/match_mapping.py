"""match statements with mapping patterns, class patterns and guards over dicts."""

from collections import OrderedDict, defaultdict


def classify(event):
    match event:
        case {"type": "click", "pos": {"x": x, "y": y}} if x == y:
            return f"diagonal click at {x}"
        case {"type": "click", "pos": {"x": int(x), "y": int(y)}}:
            return f"click at {x},{y}"
        case {"type": "key", "key": str(key), **rest} if not rest:
            return f"bare key {key}"
        case {"type": "key", "key": key, **rest}:
            return f"key {key} with {rest} ({type(rest).__name__}, {type(rest) is dict})"
        case {"type": ("a" | "b") as kind}:
            return f"alternative {kind}"
        case {"values": [first, *others]}:
            return f"values from {first} and {len(others)} more"
        case {}:
            return f"some other mapping of {len(event)}"
        case dict():
            return "unreachable"
        case _:
            return f"not a mapping: {event!r}"


events = [
    {"type": "click", "pos": {"x": 3, "y": 3}},
    {"type": "click", "pos": {"x": 1, "y": 2}, "extra": True},
    {"type": "key", "key": "q"},
    {"type": "key", "key": "w", "mods": ["ctrl"], "repeat": 2},
    {"type": "b"},
    {"values": [1, 2, 3]},
    {"unrelated": 1},
    {},
    dict(type="key", key="k"),
    defaultdict(int, {"type": "key", "key": "dd"}),
    OrderedDict(type="a"),
    [("type", "click")],
    "type",
]
for event in events:
    print(classify(event))

counts = defaultdict(int)
match counts:
    case {"missing": value}:
        print("matched a missing key", value)
    case _:
        print("mapping patterns do not call __missing__", dict(counts))

match {"a": 1, "b": 2}:
    case dict(a=1):
        print("class pattern with keywords matches attributes, not keys")
    case dict() as whole if len(whole) == 2:
        print("class pattern", whole, type(whole) is dict)
