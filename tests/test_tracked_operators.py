"""A tracked dict gives a dict subclass's reflected methods priority, as a dict does.

Found by boltons' test suite: ``d == omd`` with ``omd`` an OrderedMultiDict (a dict
subclass with its own ``__eq__``) calls ``OrderedMultiDict.__eq__`` first.
"""

from collections import defaultdict

import pytest

from racewatch.runtime.tracked import TrackedDefaultDict, TrackedDict


class Loose(dict):
    """Equal to any mapping with the same keys; says so for every comparison."""

    calls = []

    def __eq__(self, other):
        Loose.calls.append("eq")
        return set(self) == set(other)

    def __ne__(self, other):
        Loose.calls.append("ne")
        return set(self) != set(other)

    def __ror__(self, other):
        Loose.calls.append("ror")
        return "loose-or"


class Declines(dict):
    def __eq__(self, other):
        return NotImplemented


@pytest.fixture(params=[dict, TrackedDict], ids=["dict", "tracked"])
def left(request):
    return request.param({"a": 1, "b": 2})


def test_subclass_eq_and_ne_go_first(left):
    Loose.calls.clear()
    right = Loose(a=100, b=200)
    assert (left == right) is True
    assert (left != right) is False
    assert (left | right) == "loose-or"
    assert Loose.calls == ["eq", "ne", "ror"]


def test_declining_subclass_falls_back_to_dict_equality(left):
    assert (left == Declines(a=1, b=2)) is True
    assert (left == Declines(a=1)) is False


def test_plain_subclass_without_override_compares_as_dict(left):
    class Quiet(dict):
        pass

    assert left == Quiet(a=1, b=2)
    assert left | Quiet(c=3) == {"a": 1, "b": 2, "c": 3}


def test_defaultdict_subclass_on_the_right():
    class LooseDD(defaultdict):
        def __eq__(self, other):
            return True

    for left in (defaultdict(int, a=1), TrackedDefaultDict(int, a=1)):
        assert (left == LooseDD(int, z=9)) is True
