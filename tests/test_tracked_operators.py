"""A tracked dict (list, set) gives a subclass's reflected methods priority, as the builtin
does.

Found by boltons' test suite: ``d == omd`` with ``omd`` an OrderedMultiDict (a dict
subclass with its own ``__eq__``) calls ``OrderedMultiDict.__eq__`` first.
"""

from collections import defaultdict

import pytest

from racewatch.runtime.tracked import TrackedDefaultDict, TrackedDict, TrackedList, TrackedSet


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


# -- lists and sets ---------------------------------------------------------------------------

class Greedy(list):
    """Claims to be greater than any list, and says when it was asked."""

    calls = []

    def __gt__(self, other):
        Greedy.calls.append("gt")
        return True

    def __lt__(self, other):
        Greedy.calls.append("lt")
        return False


class Joins(set):
    def __ror__(self, other):
        return "joins-ror"

    def __rsub__(self, other):
        return NotImplemented


@pytest.mark.parametrize("kind", [list, TrackedList], ids=["list", "tracked"])
def test_list_subclass_reflected_comparison_goes_first(kind):
    Greedy.calls.clear()
    left = kind([1, 2])
    assert (left < Greedy([0])) is True       # Greedy.__gt__, not list's own comparison
    assert (left > Greedy([9])) is False      # Greedy.__lt__
    assert Greedy.calls == ["gt", "lt"]
    assert (left == [1, 2]) is True and (left != Greedy([1, 2])) is False


@pytest.mark.parametrize("kind", [set, TrackedSet], ids=["set", "tracked"])
def test_set_subclass_reflected_operators_go_first(kind):
    left = kind({1, 2})
    assert left | Joins({3}) == "joins-ror"
    assert left - Joins({2}) == {1}           # declined: set's own difference
    assert left & Joins({2}) == {2} and left ^ Joins({2}) == {1}
    assert type(left - Joins({2})) is set
