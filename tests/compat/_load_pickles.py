"""Loads the pickles that pickling.py wrote, in a process that must not import racewatch."""

import os
import pickle
import sys


class Record:  # pickling.py pickles instances of its own __main__.Record
    pass


directory = sys.argv[1]
for name in sorted(os.listdir(directory)):
    with open(os.path.join(directory, name), "rb") as f:
        obj = pickle.load(f)
    if isinstance(obj, Record):
        obj = obj.meta
    print(name, type(obj), getattr(obj, "default_factory", "-"), len(obj),
          sorted(type(v).__name__ for v in obj.values()))
print("racewatch imported:", any(m.split(".")[0] == "racewatch" for m in sys.modules))
