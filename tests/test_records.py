"""racewatch.records: the record classes of the reports and the options behave as the
dataclasses they replace (for the parts racewatch uses)."""

import copy
import pickle

import pytest

from racewatch.config import Options
from racewatch.records import FrozenInstanceError, asdict, field, fields, record, replace
from racewatch.reports.model import Frame, Summary, ThreadRef


@record
class Box:
    name: str
    size: int = 1
    tags: list = field(default_factory=list)
    note: str = field(default="", compare=False)


@record(frozen=True)
class Point:
    x: int
    y: int = 0


def test_init_takes_fields_in_order_with_defaults_and_a_fresh_factory_value():
    a, b = Box("a"), Box(name="b", size=3, tags=["t"])
    assert (a.name, a.size, a.tags, a.note) == ("a", 1, [], "")
    assert (b.name, b.size, b.tags) == ("b", 3, ["t"])
    a.tags.append("x")
    assert Box("c").tags == []       # each instance its own list
    assert "tags" not in vars(Box)   # a factory's field has no class attribute
    assert Box.size == 1


@pytest.mark.parametrize("args, kwargs, message", [
    ((), {}, "missing required argument: 'name'"),
    (("a", 1, [], "", 5), {}, "takes 5 positional arguments but 6 were given"),
    (("a",), {"name": "b"}, "got multiple values for argument 'name'"),
    (("a",), {"colour": "red"}, "unexpected keyword argument 'colour'"),
])
def test_bad_arguments_raise_as_a_dataclass_does(args, kwargs, message):
    with pytest.raises(TypeError, match=message):
        Box(*args, **kwargs)


def test_repr_and_equality_over_the_compared_fields():
    assert repr(Box("a", 2)) == "Box(name='a', size=2, tags=[], note='')"
    assert Box("a", note="one") == Box("a", note="two")
    assert Box("a") != Box("b")
    assert Box("a") != ("a", 1, [], "")
    with pytest.raises(TypeError, match="unhashable"):
        hash(Box("a"))


def test_a_frozen_record_refuses_changes_and_hashes():
    p = Point(1, 2)
    with pytest.raises(FrozenInstanceError):
        p.x = 3
    with pytest.raises(FrozenInstanceError):
        del p.y
    assert hash(p) == hash(Point(1, 2))
    assert {p, Point(1, 2)} == {p}


def test_fields_replace_and_asdict():
    assert [f.name for f in fields(Box)] == ["name", "size", "tags", "note"]
    p = replace(Point(1, 2), y=5)
    assert p == Point(1, 5)
    nested = ThreadRef("T", 1, [Frame("f.py", 3, "g")])
    as_dict = asdict(nested)
    assert as_dict == {"name": "T", "id": 1,
                       "created_at": [{"file": "f.py", "line": 3, "function": "g"}]}
    as_dict["created_at"].clear()
    assert nested.created_at          # a copy, not the record's own list


def test_options_and_the_summary_survive_pickling_and_copying():
    options = Options().merged({"exitcode": 3}, "test")
    assert options.sources == ("test",)
    assert options == Options(exitcode=3)   # sources are not compared
    for copied in (pickle.loads(pickle.dumps(options)), copy.deepcopy(options)):
        assert copied == options and copied.sources == ("test",)
    summary = Summary.from_json(Summary(races=2, pid=7).to_json())
    assert summary == Summary(races=2, pid=7)
