"""Functions rebuilt from their code object with new globals, and what their code names."""

import types


def make():
    return {"made": True}


def make_with_type(x):
    return type(x).__name__


print(make.__code__.co_names, make_with_type.__code__.co_names)
fresh = {"__builtins__": __builtins__}
clone = types.FunctionType(make.__code__, fresh)
print(clone())
clone2 = types.FunctionType(make_with_type.__code__, fresh)
print(clone2(1))
