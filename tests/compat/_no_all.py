"""A helper without __all__, with a dict: ``from _no_all import *`` takes its public names."""

PUBLIC = {"p": 1}
