"""Fails on purpose: an unhashable key in a dict display inside a comprehension."""

rows = [("a", 1), (["b"], 2)]
table = [
    {key: value}
    for key, value in rows
]
