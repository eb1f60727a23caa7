"""type(d) is dict in code compiled at run time by exec and eval."""

d = {"a": 1}
g = {"d": d}
exec("same = type(d) is dict\nname = type(d).__name__\nglob = type(globals()) is dict", g)
print(g["same"], g["name"], g["glob"])
print(eval("type(d) is dict", {"d": d}), eval("type(d) is dict", {}, {"d": d}))
print(eval("type(globals()) is dict", {}))
