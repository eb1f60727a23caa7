"""The standard library's serializers give the same bytes for the dicts a program makes."""

import collections
import json
import marshal
import pickle
import plistlib
import xmlrpc.client


def attempt(label, f):
    try:
        result = f()
    except Exception as exc:
        print(f"{label}: {type(exc).__name__}: {exc}")
    else:
        print(f"{label}: {result!r}")


def data():
    shared = {"b": [1, 2.5, None, True], "a": {"nested": "x"}}
    return {"z": 1, "y": shared, "list": [shared, {"k": "v"}], "empty": {}, "é": "ü"}


looped = {"name": "loop"}
looped["self"] = looped
counts = collections.defaultdict(list, {"a": [1]})

attempt("json", lambda: json.dumps(data()))
attempt("json sorted", lambda: json.dumps(data(), sort_keys=True, indent=2, ensure_ascii=False))
attempt("json pure", lambda: json.encoder.JSONEncoder(sort_keys=True).encode(data()))
attempt("json keys", lambda: json.dumps({1: {}, 2.5: {}, None: {}, False: {}}))
attempt("json loop", lambda: json.dumps(looped))
attempt("json defaultdict", lambda: json.dumps(counts))
for version in range(marshal.version + 1):
    attempt(f"marshal {version}", lambda v=version: marshal.dumps(data(), v))
attempt("marshal loop", lambda: marshal.dumps(looped))
attempt("marshal defaultdict", lambda: marshal.dumps(counts))
plist = {"a": {"b": 1, "c": [{"d": True}]}, "e": "f"}
attempt("plist xml", lambda: plistlib.dumps(plist))
attempt("plist binary", lambda: plistlib.dumps(plist, fmt=plistlib.FMT_BINARY))
attempt("plist unsorted", lambda: plistlib.dumps(plist, sort_keys=False))
attempt("plist keys", lambda: plistlib.dumps({1: {}}))
attempt("xmlrpc", lambda: xmlrpc.client.dumps(({"a": {"b": [1, {"c": 2}]}},)))
attempt("xmlrpc keys", lambda: xmlrpc.client.dumps(({1: {}},)))
for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
    attempt(f"pickle {protocol} loads the same",
            lambda p=protocol: pickle.loads(pickle.dumps(data(), p)) == data())
