"""Fails on purpose: a KeyError from a tracked dict, raised three calls deep."""

settings = {"host": "localhost", "port": 8080}


def lookup(mapping, key):
    return mapping[key]


def configure(name):
    value = lookup(
        settings,
        name,
    )
    return value


print("host is", configure("host"))
print("user is", configure("user"))
