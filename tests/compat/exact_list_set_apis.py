"""Standard library functions that accept an exact list or set: marshal, xmlrpc, sqlite3."""

import marshal
import xmlrpc.client


def attempt(label, f):
    try:
        result = f()
    except Exception as exc:
        print(f"{label}: {type(exc).__name__}: {exc}")
    else:
        print(f"{label}: {result!r}")


attempt("marshal list", lambda: marshal.loads(marshal.dumps([1, [2, {3}]])))
attempt("marshal set", lambda: sorted(marshal.loads(marshal.dumps({1, 2}))))
attempt("marshal nested", lambda: marshal.loads(marshal.dumps(({"k": [1]}, [{"s": [2]}]))))
attempt("xmlrpc list", lambda: xmlrpc.client.loads(xmlrpc.client.dumps(([1, [2]],)))[0])
attempt("xmlrpc set", lambda: xmlrpc.client.dumps(({1},)))


def sqlite_adapter():
    import json
    import sqlite3

    sqlite3.register_adapter(list, json.dumps)
    sqlite3.register_adapter(set, lambda s: json.dumps(sorted(s)))
    con = sqlite3.connect(":memory:")
    con.execute("create table t (v text)")
    con.execute("insert into t values (?)", ([1, 2],))
    con.execute("insert into t values (?)", ({3, 4},))
    con.executemany("insert into t values (?)", [[5], [6]])
    return con.execute("select v from t").fetchall()


attempt("sqlite3 adapters registered for list and set", sqlite_adapter)
