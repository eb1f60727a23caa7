"""A module that owns a registry dict; other modules mutate it."""

handlers = {}


def register(name, fn):
    handlers[name] = fn  # RACE
