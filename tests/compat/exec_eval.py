"""exec and eval with a dict display as globals (and locals), and functions defined there."""

import traceback

g = {}
exec("x = 1\ny = x + 1", g)
print(sorted(k for k in g if k != "__builtins__"), g["y"], "__builtins__" in g)

g = {"x": 1}
exec("""
def double(n):
    return n * 2 + x

def uses_builtin():
    return len([1, 2, 3]), sorted({3, 1, 2})

def calls_sibling():
    return double(10)

class Defined:
    attr = {"inside": "exec"}

    def method(self):
        return double(self.attr["inside"] and 1)

counter = 0

def bump():
    global counter
    counter += 1
    return counter
""", g)
print(g["double"](3), g["uses_builtin"](), g["calls_sibling"](), g["Defined"]().method())
print(g["bump"](), g["bump"](), g["counter"], g["double"].__globals__ is g, g["Defined"].attr)
g["x"] = 100
print(g["double"](1))

print(eval("x + 1", {"x": 1}), eval("a * b", {}, {"a": 2, "b": 3}), eval("{'k': 1}"))
print(eval("len(d)", {"d": {"a": 1}}), eval("[n for n in range(3)]", {}))
print(eval("z", {"z": 1}, {"z": 2}), eval("__builtins__ is not None", {}))

loc = {}
exec("a = 1\nb = a + 1\ndef f(): return a", {"a": 0}, loc)
print(sorted(loc), loc["b"], loc["f"]())

code = compile("result = {k: v * 2 for k, v in data.items()}", "<generated>", "exec")
ns = {"data": {"p": 1, "q": 2}}
exec(code, ns)
print(ns["result"])

for source, namespace in (("undefined_name", {}), ("1 / 0", {"x": 1}),
                          ("def f():\n    return missing\nf()", {})):
    try:
        exec(source, namespace)
    except Exception:
        print(traceback.format_exc().replace(__file__, "THIS_FILE"))

try:
    eval("d['missing']", {"d": {}})
except KeyError as exc:
    print("eval KeyError:", repr(exc))
