"""The rewrite itself, in process: which calls it wraps, where the new nodes sit, what it
compiles to.

Each snippet marks the lines the rewrite must change with ``# -> KIND ...`` (``track``
for a tracked container, ``public_type`` for a rewritten ``type(x)``, ``reading`` for the
argument of ``set(x)``, once per call on that line); every unmarked line must come out
as written.  A name the program binds itself is left alone: the snippets are the scope
corner cases where Python's rules are easy to get wrong.  They are about dicts (only dicts
are rewritten for them) unless they say they are about lists and sets.
"""

import ast
import dis
import re
import sys
import textwrap
from collections import defaultdict

import pytest

from racewatch.instrument.transform import HELPER, HELPER_MODULE, compile_instrumented, rewrite

MARK = re.compile(r"#\s*->\s*(.*?)\s*$")


def helper_calls(tree: ast.AST) -> list[ast.Call]:
    return [node for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name) and node.func.value.id == HELPER]


def rewritten_lines(source: str, kinds) -> dict[int, list[str]]:
    """The helper calls on each line; the module's first statement, the same in every
    module (``track_globals``), is looked at by its own tests."""
    found = defaultdict(list)
    for call in helper_calls(rewrite(ast.parse(source), kinds)):
        if call.func.attr != "track_globals":
            found[call.lineno].append(call.func.attr)
    return {line: sorted(kinds) for line, kinds in found.items()}


def marked_lines(source: str) -> dict[int, list[str]]:
    marks = {}
    for number, line in enumerate(source.splitlines(), 1):
        match = MARK.search(line)
        if match:
            marks[number] = sorted(match.group(1).split())
    return marks


def check(snippet: str, kinds=("dict",)) -> None:
    source = textwrap.dedent(snippet)
    assert rewritten_lines(source, kinds) == marked_lines(source)


# -- what is wrapped -------------------------------------------------------------------------


def test_displays_calls_and_type():
    check("""\
        import collections
        import collections as c
        from collections import OrderedDict, defaultdict
        from collections import defaultdict as dd
        a = {}                                      # -> track
        b = {k: k for k in "ab"}                    # -> track
        e = dict(a=1)                               # -> track
        f = dict.fromkeys("ab")                     # -> track
        g = defaultdict(int)                        # -> track
        h = collections.defaultdict(list)           # -> track
        i = dd(int)                                 # -> track
        j = c.defaultdict(set)                      # -> track
        k = OrderedDict(a=1)
        m = [dict() for _ in range(2)]              # -> track
        n = {"outer": {"inner": 1}}                 # -> track track
        o = f"{ {'x': 1} }"                         # -> track
        p = {**a, "q": dict(**b)}                   # -> track track
        s = {1, 2}, [1], (1,), set(), frozenset()
        t = a.fromkeys("x"), collections.OrderedDict()
        """)


def test_only_one_argument_calls_of_type():
    check("""\
        a = type(1)                                 # -> public_type
        b = type(1, )                               # -> public_type
        c = type(type(a))                           # -> public_type public_type
        d = type("C", (), {})                       # -> track
        e = type(*args)
        f = type(**kwargs)
        g = type(x=1)
        h = type
        i = [type(v) is dict for v in a]            # -> public_type
        """)


# -- lists and sets --------------------------------------------------------------------------

ALL = ("dict", "list", "set")


def test_list_and_set_displays_comprehensions_and_calls():
    check("""\
        a = []                                      # -> track
        b = [1, 2, *a]                              # -> track
        c = [x for x in a]                          # -> track
        d = {1, 2}                                  # -> track
        e = {x for x in a}                          # -> track
        f = list(a), sorted(a)                      # -> track track
        g = set()                                   # -> track
        h = set(a)                                  # -> reading track
        i = frozenset(a)                            # -> reading
        j = set([1, 2]), set(x for x in a)          # -> track track
        k = list
        [m, n] = a
        o = a.copy()
        """, ALL)


def test_lists_and_sets_that_cannot_escape_are_not_tracked():
    """Iterated, searched or unpacked in place, or handed to a builtin that only consumes
    them: no other thread can ever reach them."""
    check("""\
        for x in [a, b]:
            pass
        for y in {a, b}:
            pass
        found = x in [a, b] or y not in {a, b}
        squares = [v * v for v in [1, 2, 3]]        # -> track
        f(*[a, b], *{c})
        p, q = [a, b]
        total = sum([v for v in a]) + len({v for v in a}) + max([a, b])
        text = ", ".join([str(v) for v in a])
        pairs = dict([(1, 2)]), tuple([a]), sorted([b, a])  # -> track track
        kept = g([a, b])                            # -> track
        """, ALL)


def test_rebound_list_set_and_sorted_are_left_alone():
    check("""\
        from mylib import *
        a = list(x), set(x), sorted(x), frozenset(x)

        def f(list, set):
            return list(x), set(x), [1]             # -> track
        """, ALL)


def test_only_the_watched_kinds_are_rewritten():
    source = "a = {}\nb = []\nc = {1}\nd = set(c)\n"
    assert rewritten_lines(source, ALL) == {1: ["track"], 2: ["track"], 3: ["track"],
                                           4: ["reading", "track"]}
    assert rewritten_lines(source, ("list",)) == {2: ["track"]}
    assert rewritten_lines(source, ("set",)) == {3: ["track"], 4: ["reading", "track"]}
    assert rewritten_lines(source, ("dict",)) == {1: ["track"]}


# -- class scopes ----------------------------------------------------------------------------


def test_class_body_names_are_not_seen_by_its_functions_and_comprehensions():
    check("""\
        from collections import OrderedDict

        class C:
            dict = OrderedDict
            type = staticmethod(repr)
            a = dict(x=1)
            b = type(1)
            c = [dict() for _ in range(1)]          # -> track
            d = [type(v) for v in (1,)]             # -> public_type
            e = [v for v in dict(q=1)]
            f = {k: dict() for k in dict()}         # -> track track
            g = lambda: dict()                      # -> track

            def method(self, x=dict(), t=type(1)):
                return dict(), type(x)              # -> track public_type

        def after():
            return dict(), type(1)                  # -> track public_type
        """)


def test_class_body_sees_the_enclosing_function():
    check("""\
        from collections import OrderedDict

        def outer():
            dict = OrderedDict

            class Inner:
                made = dict()
                listed = [dict() for _ in range(1)]

                def method(self):
                    return dict()

            return Inner

        def other():
            return dict()                           # -> track
        """)


# -- functions, lambdas, decorators, defaults and annotations ----------------------------


def test_parameters_and_lambdas():
    check("""\
        def f(dict, *, type=None):
            return dict(), type(1)

        def g(*dict, **type):
            return dict(), type(1)

        def h(a, /, defaultdict):
            return defaultdict(int)

        k = lambda dict: dict()
        m = lambda: dict()                          # -> track
        n = lambda x=dict(): x                      # -> track
        o = lambda type=type: type(1)
        """)


def test_decorators_bases_and_defaults_are_evaluated_outside():
    check("""\
        def deco(x):
            return x

        @deco({})                                   # -> track
        def f(dict=dict()):                         # -> track
            return dict()

        class K(deco(dict()), metaclass=type(object)):  # -> track public_type
            pass
        """)


def test_annotations_are_left_as_written():
    check("""\
        x: dict(a=1) = {}                           # -> track
        y: {"k": int}

        def f(a: dict() = dict(), *b: {}, **c: type(1)) -> type(1):  # -> track
            z: {"l": 1} = type(a)                   # -> public_type
            return z
        """)


# -- comprehensions and walrus ---------------------------------------------------------------


def test_comprehension_targets_and_first_iterable():
    check("""\
        def f(items):
            a = [type(x) for type in items for x in items]
            b = [dict() for dict in items]
            c = [[dict() for _ in dict()] for dict in items]
            d = [type(x) for x in items]            # -> public_type
            e = {x: {} for x in items}              # -> track track
            g = [x for x in type(items)]            # -> public_type
            h = [x for dict in items for x in dict()]
            i = (dict() for _ in items)             # -> track
            j = {dict() for _ in items}             # -> track
        """)


def test_walrus_in_a_comprehension_binds_in_the_function():
    check("""\
        from collections import OrderedDict

        def f(items):
            [(dict := OrderedDict) for _ in items]
            return dict()

        def g(items):
            if (type := items[0]):
                return type(1)

        def h():
            return dict(), type(1)                  # -> track public_type
        """)


def test_walrus_in_a_module_level_comprehension_binds_in_the_module():
    check("""\
        from collections import OrderedDict

        [(dict := OrderedDict) for _ in range(1)]
        x = dict()

        def f():
            return dict(), type(1)                  # -> public_type
        """)


# -- global, nonlocal, del -------------------------------------------------------------------


def test_global_declarations():
    check("""\
        from collections import OrderedDict

        def rebind():
            global dict
            dict = OrderedDict                      # -> gwrite

        def use():
            return dict()                           # -> gread

        def only_declares():
            global type
            return type(1)                          # -> public_type

        def outer():
            type = repr

            def inner():
                global type
                return type(1)                      # -> public_type

            return inner
        """)


def test_nonlocal_declarations():
    check("""\
        from collections import OrderedDict

        def outer():
            dict = OrderedDict

            def inner():
                nonlocal dict
                return dict()

            def sibling():
                return dict()

            return inner, sibling

        def free():
            return dict()                           # -> track
        """)


def test_del_binds_the_name():
    check("""\
        def f():
            type = repr
            del type
            return dict(), type(1)                  # -> track
        """)
    check("""\
        from collections import OrderedDict

        dict = OrderedDict
        del dict
        x = dict()

        def f():
            return dict()
        """)


# -- imports ---------------------------------------------------------------------------------


def test_imports_inside_functions():
    check("""\
        def a():
            from collections import defaultdict
            return defaultdict(int)                 # -> track

        def b():
            import collections
            return collections.defaultdict(int)     # -> track

        def c():
            import collections as co
            return co.defaultdict(int)              # -> track

        def d():
            return defaultdict(int)

        def e():
            from collections import defaultdict as dd
            return dd(int)                          # -> track

        def f():
            from mylib import defaultdict
            return defaultdict(int)

        def g():
            import collections.abc
            return collections.defaultdict(int)     # -> track

        def h():
            from . import collections
            return collections.defaultdict(int)

        def i():
            import mylib as collections
            return collections.defaultdict(int)

        def j():
            from collections import defaultdict
            defaultdict = None
            return defaultdict(int)
        """)


def test_star_import_from_collections():
    check("""\
        from collections import *
        a = defaultdict(int)                        # -> track

        def f():
            return defaultdict(list)                # -> track
        """)


# -- conditional and other bindings ----------------------------------------------------------


def test_conditional_rebinding_leaves_every_use_alone():
    check("""\
        from collections import OrderedDict

        x = dict()
        if flag:
            dict = OrderedDict
        y = dict()

        try:
            from fastcollections import defaultdict
        except ImportError:
            from collections import defaultdict
        z = defaultdict(int)
        """)


def test_handlers_match_captures_loops_and_with():
    check("""\
        def f(m):
            match m:
                case {"k": dict}:
                    return dict()
            return type(m)                          # -> public_type

        def g():
            try:
                pass
            except Exception as type:
                return type(1)
            return dict()                           # -> track

        def h(items):
            for dict in items:
                return dict()

        def i(ctx):
            with ctx as type:
                return type(1)
        """)


@pytest.mark.skipif(sys.version_info < (3, 12), reason="type parameters are 3.12+")
def test_type_parameters():
    check("""\
        def f[dict](x):
            return dict()

        class K[type]:
            x = type(1)

        def g():
            return dict()                           # -> track
        """)


# -- where the new nodes go ------------------------------------------------------------------


def test_a_module_without_containers_gets_only_its_first_statements():
    """Every module declares the helper's name global and says it is instrumented
    (``track_globals``); nothing else changes in one with no container to track and no
    global to watch."""
    source = "import os\nx = (1,)\nprint(os.sep, x, len([1]), 1 in {2})\n"
    tree = rewrite(ast.parse(source))
    assert ast.unparse(tree.body.pop(0)) == "global @racewatch"
    assert ast.unparse(tree.body.pop(0)) == "@racewatch.track_globals(())"
    assert ast.dump(tree) == ast.dump(ast.parse(source))
    lists = "import os\nx = [1]\nprint(os.sep, x)\n"
    tree = rewrite(ast.parse(lists), ("dict",))
    del tree.body[:2]
    assert ast.dump(tree) == ast.dump(ast.parse(lists))


def test_top_level_code_finds_the_helper_as_a_function_does():
    """A script's top-level loop calls the helper at every access it checks: the name is
    declared global, so that it is loaded with LOAD_GLOBAL (one specialized lookup), not
    LOAD_NAME (the namespace twice, then builtins)."""
    source = "seen = {}\nfor i in range(3):\n    seen[i] = [i]\n"
    code = compile_instrumented(source, "<m>")
    loads = {(i.opname, i.argval) for i in dis.get_instructions(code) if i.argval == HELPER}
    assert loads == {("LOAD_GLOBAL", HELPER)}
    namespace = {}
    exec(code, namespace)
    assert namespace["seen"] == {0: [0], 1: [1], 2: [2]} and HELPER not in namespace


def test_the_rewrite_adds_one_statement_and_no_module_global():
    """The helper is reached through builtins: the module keeps its statements (the
    docstring and ``from __future__`` imports first) and its namespace; its own code
    starts by declaring the helper's name global (no bytecode) and saying it is
    instrumented, with the globals it rebinds."""
    source = textwrap.dedent('''\
        """Docstring."""
        from __future__ import annotations
        import os
        x = {}

        def bump():
            global x, y
            x = y = 1
        ''')
    tree = rewrite(ast.parse(source))
    assert [type(n).__name__ for n in tree.body] == [
        "Expr", "ImportFrom", "Global", "Expr", "Import", "Assign", "Expr", "FunctionDef"]
    assert ast.unparse(tree.body[2]) == "global @racewatch"
    assert ast.unparse(tree.body[3]) == "@racewatch.track_globals(('x', 'y'))"
    assert ast.unparse(tree.body[6]) == "@racewatch.gwrite('x')"
    assert ast.get_docstring(tree) == "Docstring."
    namespace = {}
    exec(compile_instrumented(source, "<m>"), namespace)
    assert HELPER not in namespace
    import builtins

    assert builtins.__dict__[HELPER].__name__ == HELPER_MODULE


def test_new_nodes_take_the_location_of_what_they_wrap():
    source = textwrap.dedent("""\
        a = {
            "k": [1,
                  2],
        }
        b = dict(x=1) if a else type(a)
        """)
    tree = rewrite(ast.parse(source))
    calls = [c for c in helper_calls(tree) if c.func.attr != "track_globals"]
    assert len(calls) == 4   # the dict, the list in it, dict(x=1), type(a)
    for call in calls:
        wrapped = call.args[0] if call.func.attr == "track" else call
        where = (call.lineno, call.col_offset, call.end_lineno, call.end_col_offset)
        assert where == (wrapped.lineno, wrapped.col_offset, wrapped.end_lineno,
                         wrapped.end_col_offset)
        assert call.func.lineno == call.lineno
    compile(tree, "<test>", "exec")


# -- compile_instrumented --------------------------------------------------------------------

PARSER_ERRORS = ["x = {}\nprint((1,\n", "x = {}\nif x:\nprint(x)\n", "x = = 1\n"]
COMPILER_ERRORS = ["x = {}\nreturn x\n", "x = {}\nbreak\n", "def f(a, a):\n    return {}\n",
                   "x = {}\nnonlocal x\n", "x = {}\nawait x\n",
                   "def f():\n    x = {}\n    global x\n"]


@pytest.mark.parametrize("source", PARSER_ERRORS + COMPILER_ERRORS)
def test_bad_code_raises_the_syntax_error_python_raises(source, capsys):
    with pytest.raises(SyntaxError) as plain:
        compile(source, "bad.py", "exec", dont_inherit=True)
    with pytest.raises(SyntaxError) as rewritten:
        compile_instrumented(source, "bad.py")
    assert type(rewritten.value) is type(plain.value)
    assert rewritten.value.args == plain.value.args
    assert rewritten.value.__context__ is None
    assert capsys.readouterr().err == ""


def test_rewritten_code_computes_what_the_original_computes():
    """Run both codes in this process (the detector is off here, so ``track`` hands dicts
    back untouched) and compare everything the snippet leaves in its namespace."""
    source = textwrap.dedent("""\
        import collections
        from collections import OrderedDict, defaultdict

        class C:
            dict = OrderedDict
            made = dict(a=1)
            listed = [dict(b=2) for _ in range(1)]
            typed = [type(x) for x in ({}, [])]

        def scopes(items, type=type):
            [(found := x) for x in items]
            counts = defaultdict(int)
            for item in items:
                counts[item] += 1
            return found, type(counts), dict(counts), collections.defaultdict(list)

        result = (C.made, C.listed, C.typed, scopes("abca"), {k: {} for k in "xy"},
                  dict.fromkeys("ab"), type({}) is dict, type(defaultdict(int)).__name__)
        """)
    plain, rewritten = {}, {}
    exec(compile(source, "<snippet>", "exec"), plain)
    exec(compile_instrumented(source, "<snippet>"), rewritten)
    assert repr(rewritten["result"]) == repr(plain["result"])


# -- classes and module globals ---------------------------------------------------------------


def test_every_class_gets_track_class_outermost():
    source = textwrap.dedent("""\
        import dataclasses

        @dataclasses.dataclass(frozen=True)
        class Point:
            x: int

        class Plain:
            class Nested:
                pass
        """)
    tree = rewrite(ast.parse(source))
    classes = [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]
    for cls in classes:
        assert ast.unparse(cls.decorator_list[0]) == "@racewatch.track_class"
    point = classes[0]
    assert ast.unparse(point.decorator_list[1]) == "dataclasses.dataclass(frozen=True)"
    # In the first decorator's place: the class's first line (co_firstlineno) stays.
    assert point.decorator_list[0].lineno == 3


def test_slots_get_a_weakref_only_through_plain_bases():
    source = textwrap.dedent("""\
        class A:
            __slots__ = ("a",)

        class B(A, mod.Base):
            __slots__ = ["b"]

        class C(make_base()):
            __slots__ = ("c",)
        """)
    tree = rewrite(ast.parse(source))
    a, b, c = (n for n in tree.body if isinstance(n, ast.ClassDef))
    assert ast.unparse(a.body[0]) == "__slots__ = @racewatch.weakref_slots(('a',), ())"
    assert ast.unparse(b.body[0]) == "__slots__ = @racewatch.weakref_slots(['b'], (A, mod.Base))"
    assert ast.unparse(c.body[0]) == "__slots__ = ('c',)"  # the base would be made again


def test_rebound_globals_are_read_and_written_through_the_helpers():
    check("""\
        total = 0                                   # -> gwrite
        seen = []
        mode = "x"                                  # -> gwrite

        def add(n):
            global total
            total += n                              # -> gupdate
            return total                            # -> gread

        def swap(a):
            global mode
            old, mode = mode, a                     # -> gread gwrite
            for mode in a:                          # -> gwrite
                print(mode, seen)                   # -> gread
            with open(a) as mode:                   # -> gwrite
                pass
            if (mode := a):                         # -> gstore
                del mode                            # -> gdelete

        print([mode for _ in seen])                 # -> gread
        """)


def test_globals_only_read_or_rebound_nowhere_cost_nothing():
    check("""\
        LIMIT = 10

        def use():
            return LIMIT

        def declares():
            global never_bound
            return never_bound
        """)


def test_module_level_rebound_name_in_a_class_body_or_a_lambda():
    check("""\
        counter = 0                                 # -> gwrite

        def bump():
            global counter
            counter = counter + 1                   # -> gread gwrite

        class K:
            start = counter                         # -> gread
            key = lambda self: counter              # -> gread
        """)


def test_a_name_the_module_binds_twice_is_watched():
    """A script's own top-level code can rebind a global while its threads run."""
    check("""\
        stopping = False                            # -> gwrite
        retries = 3

        def worker():
            while not stopping:                     # -> gread
                print(retries)

        stopping = True                             # -> gwrite
        """)


def test_a_name_only_the_top_level_code_uses_is_not_watched():
    """A script's loop variables: bound again and again, read by no function, lambda, class
    body or comprehension of the module, so only the one thread that runs the top-level
    code ever touches them.  A function's own local of the same name is not a read."""
    check("""\
        total = 0
        for word in ["a", "b"]:
            total += len(word)
        previous = None
        previous = word

        def helper(word):
            previous = word
            return previous

        seen = [w for w in (word, total)]
        print(total)
        """)


def test_class_attributes_rebound_through_the_class():
    check("""\
        class Stats:
            created = 0
            label = "stats"

            @classmethod
            def make(cls):
                cls.created += 1                    # -> class_update
                return cls()

        def reset():
            Stats.created = 0                       # -> class_write
            return Stats.created, Stats.label       # -> class_read
        """)
def test_the_cache_tag_says_which_kinds_were_rewritten(monkeypatch):
    """A module rewritten under ``watch=dict`` must not be run from the cache by a run that
    watches lists too (nor the other way round)."""
    from racewatch.instrument import cache
    from racewatch.runtime.settings import SETTINGS, watch_mask

    everything = cache._tag()
    monkeypatch.setattr(SETTINGS, "watch", watch_mask(("dict", "attr", "global")))
    dicts_only = cache._tag()
    monkeypatch.setattr(SETTINGS, "watch", watch_mask(("dict", "list", "set")))
    assert cache._tag() == everything != dicts_only
    assert dicts_only.endswith("-dict")
