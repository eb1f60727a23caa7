"""What a location is called in every report, for each kind of container."""

import json

import pytest

from racewatch.reports import html, text
from racewatch.reports.model import AccessInfo, Container, Frame, Race, ThreadRef


def _race(container: Container, location: str, key, value) -> Race:
    here = [Frame("/app/app.py", 12, "work")]
    t1, t2 = ThreadRef("Thread-1", 1, here), ThreadRef("Thread-2", 2, here)
    write = AccessInfo("store", True, t1, [], here)
    read = AccessInfo("load", False, t2, [], here)
    return Race("write/read", container, key, read, write, location=location, value=value)


@pytest.mark.parametrize("container, location, key, value, field, words", [
    (Container("list", [Frame("/app/app.py", 9, "<module>")]), "item", "0", 0,
     ("index", 0), "item 0 of a list created at"),
    (Container("object", [Frame("/app/app.py", 3, "__init__")], "Stats"), "attribute",
     "'hits'", "hits", ("attribute", "hits"),
     "attribute 'hits' of a Stats object first watched at"),
    (Container("module", [Frame("/app/app.py", 1, "<module>")], "app"), "global", "'total'",
     "total", ("name", "total"), "global 'total' of module app created at"),
    (Container("set", [Frame("/app/app.py", 5, "<module>")]), "element", "'x'", "'x'",
     ("element", "'x'"), "element 'x' of a set created at"),
])
def test_each_kind_names_its_location(container, location, key, value, field, words):
    race = _race(container, location, key, value)
    printed = text.format_race(race)
    assert f"Location is {words}:" in printed
    assert f"Read of {location} {key} (load)" in printed
    data = race.to_json()
    assert data[field[0]] == field[1] and data["key"] == key
    assert data["location"] == location
    again = Race.from_json(json.loads(json.dumps(data)))
    assert again.value == value and again.container == container
    assert not again.whole
    assert f"read of {location} {key}" in html.describe(again, again.current)


def test_a_dict_race_has_no_extra_field():
    race = _race(Container("dict", []), "key", "'k'", None)
    data = race.to_json()
    assert not {"index", "attribute", "name", "element"} & set(data)
    assert "Location is key 'k' of a dict created at:" in text.format_race(race)


def test_the_whole_location_of_a_list():
    race = _race(Container("list", []), "items", None, None)
    race.current = AccessInfo("len", False, race.current.thread, [], race.current.stack)
    assert race.whole
    assert "Read of the items of the list (len)" in text.format_race(race)
    assert "index" not in race.to_json()
