"""type(d) is dict when a name the program binds holds the builtin type at run time."""

import builtins

d = {"a": 1}


def default_parameter(x, type=type):  # the classic speed-up idiom
    return type(x) is dict


def local_alias(x):
    type_ = builtins.type
    type = type_
    return type(x) is dict


def conditional(x, replace=False):
    if replace:
        type = repr
    else:
        type = builtins.type
    return type(x) is dict


try:
    from _no_such_module import type
except ImportError:
    pass

print("default parameter", default_parameter(d))
print("local alias", local_alias(d))
print("conditional", conditional(d))
print("guarded import", type(d) is dict, type(d).__name__)
