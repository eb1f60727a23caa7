"""A star import that brings in a function called type: calls go to it, not the builtin."""

from _defines_type import *  # noqa: F403

print(type({"a": 1}))  # noqa: F405
print(type(1))  # noqa: F405, UP003
