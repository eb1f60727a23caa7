"""A helper module that exports its own type() (imported with *)."""


def type(x):
    return f"helper type of {x!r}"
