"""Functions loaded before racewatch started, rewritten in place at the bytecode level.

The import hook rewrites source as modules are imported; the ast serves that best, with
every name and scope in view.  A program that calls ``racewatch.start()`` itself has
imported its modules, and defined its script's functions, already.  Their source is
compiled; what is left to rewrite is their code objects, and for that the ``bytecode``
library is the right tool: it rebuilds a code object from instructions and recomputes
what CPython needs (stack depth, line and exception tables, which change across 3.10-3.13).

After each dict display and dict comprehension (``BUILD_MAP``, ``BUILD_CONST_KEY_MAP``),
list display and comprehension (``BUILD_LIST``: ``[1, 2, 3]`` is ``BUILD_LIST 0`` then a
``LIST_EXTEND`` of a constant tuple, and 3.12 inlines comprehensions) and set display and
comprehension (``BUILD_SET``) comes a call of ``tracked.track``, so that the containers
these functions create from now on are tracked: ``self.cache = {}`` in an ``__init__``
that runs after ``start()``.  A list built only to become a tuple (``f(*a, *b)``,
``(*a, b)``: ``LIST_TO_TUPLE``) is left alone when the pattern is plain to see.  What such
a module made before (a module-level ``cache = {}``) exists already and is not tracked;
``dict(...)``, ``list(...)`` and ``sorted(...)`` calls and ``type()`` need the names only
the ast sees.  ``stop()`` puts every original code object back.  The classes such a module
defined are watched (``track_class``), and its code counts as instrumented code; its
globals are not (that takes the source's ``global`` statements).

What no rewrite can reach is code already running: a frame keeps the code object it
started with.  ``running_untracked`` finds the frames, below a ``start()``, whose code goes
on to build dicts (a script's module level, above all), so that ``racewatch.start()`` can
say so.
"""

from __future__ import annotations

import os
import sys
import types
from collections.abc import Iterable, Iterator

from .policy import Policy
from .transform import HELPER, REWRITTEN_KINDS

# The instructions that build a container of each kind.
_BUILDS = {"dict": ("BUILD_MAP", "BUILD_CONST_KEY_MAP"), "list": ("BUILD_LIST",),
           "set": ("BUILD_SET",)}
_INTRINSIC_LIST_TO_TUPLE = 6  # CALL_INTRINSIC_1's argument (3.12+)


def _becomes_a_tuple(items: list, start: int) -> bool:
    """Whether the list built at ``items[start]`` only gathers what it is given to become a
    tuple: loads, each appended or extended into it, then ``LIST_TO_TUPLE``."""
    from bytecode import Instr

    for item in items[start + 1:]:
        if not isinstance(item, Instr):
            return False
        name = item.name
        if name == "LIST_TO_TUPLE" or (name == "CALL_INTRINSIC_1"
                                       and item.arg == _INTRINSIC_LIST_TO_TUPLE):
            return True
        if not (name.startswith("LOAD_")
                or (name in ("LIST_EXTEND", "LIST_APPEND") and item.arg == 1)):
            return False
    return False


def _call_track(track, location) -> list:
    """Instructions that replace the dict on top of the stack by ``track(dict)``."""
    from bytecode import Instr

    def instr(name, arg=None):
        return Instr(name, arg, location=location) if arg is not None \
            else Instr(name, location=location)

    v = sys.version_info
    if v < (3, 11):
        return [instr("LOAD_CONST", track), instr("ROT_TWO"), instr("CALL_FUNCTION", 1)]
    if v < (3, 13):  # the stack of CALL: NULL, the callable, the arguments
        calls = [instr("PRECALL", 1), instr("CALL", 1)] if v < (3, 12) else [instr("CALL", 1)]
        return [instr("PUSH_NULL"), instr("SWAP", 2), instr("LOAD_CONST", track),
                instr("SWAP", 2), *calls]
    # 3.13: the callable, NULL, the arguments
    return [instr("LOAD_CONST", track), instr("SWAP", 2), instr("PUSH_NULL"),
            instr("SWAP", 2), instr("CALL", 1)]


def rewrite_code(code: types.CodeType, track, done: dict, kinds=REWRITTEN_KINDS,
                 ) -> types.CodeType:
    """``code`` (and the code objects nested in it) with every container of ``kinds`` that
    it builds tracked."""
    cached = done.get(code)
    if cached is not None:
        return cached
    if HELPER in code.co_names or any(c is track for c in code.co_consts):
        done[code] = code  # instrumented already, from source or by an earlier start()
        return code
    from bytecode import Bytecode, Instr

    builds = {name for kind in kinds for name in _BUILDS[kind]}
    bc = Bytecode.from_code(code)
    original = list(bc)
    items = []
    changed = False
    for index, item in enumerate(original):
        if isinstance(item, Instr):
            if isinstance(item.arg, types.CodeType):
                nested = rewrite_code(item.arg, track, done, kinds)
                if nested is not item.arg:
                    item = Instr(item.name, nested, location=item.location)
                    changed = True
            items.append(item)
            if item.name in builds and not (item.name == "BUILD_LIST"
                                            and _becomes_a_tuple(original, index)):
                items.extend(_call_track(track, item.location))
                changed = True
        else:
            items.append(item)
    if changed:
        bc[:] = items  # a Bytecode is a list: its other attributes stay as they were
        result = bc.to_code()
    else:
        result = code
    done[code] = result
    return result


_DICT_NAMES = ("dict", "defaultdict")


def _instrumented(code: types.CodeType) -> bool:
    from ..runtime.tracked import track

    return HELPER in code.co_names or any(c is track for c in code.co_consts)


def _builds_dicts(code: types.CodeType, after: int = -1) -> bool:
    """True when the instructions of ``code`` after offset ``after`` build a dict (a display,
    a comprehension, a ``dict``/``defaultdict`` call), or make a function or class whose code
    does.  A backward jump from there into earlier code (a loop) brings that code in too."""
    import dis  # here, not at start-up: most starts have nothing loaded to rewrite (1.7 ms)

    instructions = list(dis.get_instructions(code))
    jumps = set(dis.hasjrel) | set(dis.hasjabs)
    start = min([after + 1] + [ins.argval for ins in instructions
                               if ins.offset > after and ins.opcode in jumps
                               and isinstance(ins.argval, int) and ins.argval <= after])
    for ins in instructions:
        if ins.offset < start:
            continue
        if ins.opname in _BUILDS["dict"] or (
                ins.opname in ("LOAD_NAME", "LOAD_GLOBAL", "LOAD_ATTR", "LOAD_METHOD")
                and ins.argval in _DICT_NAMES):
            return True
        if isinstance(ins.argval, types.CodeType) and _builds_dicts(ins.argval):
            return True
    return False


def running_untracked(frame, policy: Policy) -> list:
    """The frames from ``frame`` down the stack that run code racewatch would instrument,
    uninstrumented, and that go on to build dicts: no rewrite reaches a running frame."""
    found = []
    while frame is not None:
        code = frame.f_code
        name = frame.f_globals.get("__name__")
        filename = code.co_filename
        if filename.startswith("<") or not os.path.isfile(filename):  # -c, exec(), a REPL
            wanted = False
        elif name == "__main__":
            wanted = policy.should_instrument_file(filename)
        else:
            wanted = isinstance(name, str) and policy.should_instrument(name, filename)
        if wanted and not _instrumented(code) and _builds_dicts(code, frame.f_lasti):
            found.append(frame)
        frame = frame.f_back
    return found


def _functions(module: types.ModuleType) -> Iterator[types.FunctionType]:
    """The functions a module defined: its own, its classes' methods, nested classes."""
    filename = getattr(module, "__file__", None)

    def own(f) -> bool:
        return isinstance(f, types.FunctionType) and f.__code__.co_filename == filename

    def from_class(cls, seen) -> Iterator[types.FunctionType]:
        if cls in seen:
            return
        seen.add(cls)
        for value in vars(cls).values():
            if isinstance(value, (staticmethod, classmethod)):
                value = value.__func__
            if isinstance(value, property):
                yield from (f for f in (value.fget, value.fset, value.fdel) if own(f))
            elif own(value):
                yield value
            elif isinstance(value, type) and value.__module__ == module.__name__:
                yield from from_class(value, seen)

    seen: set = set()
    for value in list(vars(module).values()):
        if own(value):
            yield value
        elif isinstance(value, type) and value.__module__ == module.__name__:
            yield from from_class(value, seen)


def _classes(module: types.ModuleType) -> Iterator[type]:
    """The classes a module defined, nested ones included."""
    name = module.__name__
    todo = [v for v in list(vars(module).values())
            if isinstance(v, type) and v.__module__ == name]
    seen: set = set()
    while todo:
        cls = todo.pop()
        if cls in seen:
            continue
        seen.add(cls)
        yield cls
        todo.extend(v for v in list(vars(cls).values())
                    if isinstance(v, type) and v.__module__ == name)


def _bytecode_available() -> bool:
    try:
        import bytecode  # noqa: F401
    except ImportError:
        return False
    return True


class LoadedCode:
    """Rewrites the functions of modules already loaded; ``restore`` undoes it exactly."""

    def __init__(self):
        self._replaced: list[tuple[types.FunctionType, types.CodeType]] = []

    def instrument(self, policy: Policy, modules: Iterable[types.ModuleType] | None = None,
                   ) -> int:
        """Rewrite what the policy instruments; the number of functions rewritten."""
        from ..runtime.tracked import track, track_class, track_globals_of
        from .transform import watched_kinds

        kinds = watched_kinds()
        done: dict = {}
        for module in list(sys.modules.values() if modules is None else modules):
            if not self._wanted(policy, module):
                continue
            # Its code's attribute accesses are checked from now on, on the instances of the
            # classes it defined (its globals are not: that takes the source's ``global``s).
            track_globals_of(vars(module), ())
            for cls in _classes(module):
                track_class(cls)
            functions = list(_functions(module))
            # bytecode is imported only now (about 4 ms): most starts have nothing to rewrite.
            if functions and not _bytecode_available():
                return 0  # an install without it: nothing loaded is rewritten
            for function in functions:
                code = function.__code__
                try:
                    new = rewrite_code(code, track, done, kinds)
                except Exception:  # noqa: BLE001 -- code the library cannot rebuild: left as is
                    continue
                if new is not code:
                    function.__code__ = new
                    self._replaced.append((function, code))
        return len(self._replaced)

    @staticmethod
    def _wanted(policy: Policy, module) -> bool:
        if not isinstance(module, types.ModuleType):
            return False
        filename = getattr(module, "__file__", None)
        name = getattr(module, "__name__", "")
        if not isinstance(filename, str) or not filename.endswith(".py"):
            return False
        spec = getattr(module, "__spec__", None)
        loader = getattr(spec, "loader", None)
        if type(loader).__name__ == "RewritingLoader":  # instrumented at import already
            return False
        if name == "__main__":
            return policy.should_instrument_file(filename)
        return policy.should_instrument(name, filename)

    def restore(self) -> None:
        while self._replaced:
            function, code = self._replaced.pop()
            function.__code__ = code
