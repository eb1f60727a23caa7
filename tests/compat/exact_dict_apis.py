"""Standard library functions that accept a dict: marshal, str.maketrans, xmlrpc, ..."""

import marshal
import xmlrpc.client


def attempt(label, f):
    try:
        result = f()
    except Exception as exc:
        print(f"{label}: {type(exc).__name__}: {exc}")
    else:
        print(f"{label}: {result!r}")


attempt("marshal", lambda: marshal.loads(marshal.dumps({"a": 1, "b": [2]})))
attempt("marshal nested", lambda: marshal.loads(marshal.dumps([{"a": {}}])))
attempt("str.maketrans", lambda: "abc".translate(str.maketrans({"a": "A", "b": None})))
attempt("xmlrpc", lambda: xmlrpc.client.loads(xmlrpc.client.dumps(({"a": 1},)))[0])


def sqlite_adapter():
    import json
    import sqlite3

    sqlite3.register_adapter(dict, json.dumps)
    con = sqlite3.connect(":memory:")
    con.execute("create table t (v text)")
    con.execute("insert into t values (?)", ({"a": 1},))
    con.execute("insert into t values (:v)", {"v": "named parameters"})
    return con.execute("select v from t").fetchall()


attempt("sqlite3 adapter registered for dict", sqlite_adapter)
