"""The AST rewrite that makes instrumented code create tracked dicts, lists and sets.

In a module chosen for instrumentation:

* every dict display and dict comprehension ``E`` becomes ``@racewatch.track(E)``;
* every call of the builtin ``dict`` (``dict(...)``, ``dict.fromkeys(...)``) and of
  ``collections.defaultdict`` (however it was imported: ``collections.defaultdict``,
  ``from collections import defaultdict``, an alias) is wrapped the same way;
* so are list and set displays and comprehensions, and calls of the builtins ``list``,
  ``set`` and ``sorted``, except where the new list or set cannot escape (below);
* the argument ``x`` of ``set(x)`` and ``frozenset(x)`` becomes ``@racewatch.reading(x)``:
  they copy a set from its table, past any method, so the read of a tracked set is
  recorded there;
* every one-argument call of the builtin ``type`` becomes ``@racewatch.public_type(x)``,
  so that ``type(d) is dict`` still holds for a tracked dict;
* every class statement gets ``@racewatch.track_class`` as its outermost decorator, so that
  the attributes of its instances are watched (objects.py); a ``__slots__`` without
  ``__weakref__`` gets one (the objects are found again through weak references), and the
  class's ``__slots__`` is given back its own value once the class exists;
* every module starts with ``global @racewatch`` (its top-level code then loads the
  helper as a function does) and ``@racewatch.track_globals(names)``: it is instrumented
  (only instrumented code's attribute accesses are checked), and the module globals that
  some function of the module rebinds (``global x``), or that its top-level code binds
  more than once and a function of the module reads, are watched (module_globals.py): each
  read of such a name ``x`` becomes ``@racewatch.gread("x", x)``, and each statement that
  binds one is followed by ``@racewatch.gwrite("x")`` (``gupdate`` for ``x += ...``,
  ``gdelete`` for ``del x``; a ``for``/``with`` target is recorded first thing in the
  body, a walrus through ``gstore``).

What the ``watch`` option leaves out is not rewritten (the cache tag says which).  A list
or set that only the expression using it ever sees is not tracked: no other thread can
reach it, and lists are made everywhere.  That is a display or comprehension iterated
in place (``for x in [a, b]``, a comprehension's ``for``), searched in place (``x in [a,
b]``: CPython makes those tuples and frozensets itself), unpacked (``f(*[...])``,
``a, b = [...]``) or handed to a builtin that only consumes it (``len``, ``sum``, ``min``,
``max``, ``any``, ``all``, ``tuple``, ``list``, ``set``, ``frozenset``, ``sorted``,
``dict``, ``enumerate``, ``zip``, ``map``, ``filter``, ``reversed``, ``iter``, and
``"sep".join``).

A name the module rebinds (a local ``dict``, a parameter called ``type``) is left alone:
a small scope analysis resolves each name the way Python does (function scopes, class
bodies, comprehensions, ``global``/``nonlocal``, walrus targets).  ``@racewatch`` cannot
clash with user code (``@`` is not an identifier character; pytest's assertion rewriter
uses the same trick); racewatch puts it in builtins (``install_helper``).  Every new node
takes the location of the node it wraps, so tracebacks and line numbers are those of the
original source.  Annotations are left as
written: ``from __future__ import annotations`` turns them into strings.
"""

from __future__ import annotations

import ast

HELPER = "@racewatch"
HELPER_MODULE = "racewatch.runtime.tracked"
# Bump when the rewrite changes: it is part of the cache tag (cache.py).
TRANSFORM_VERSION = 6
# The ``watch`` kinds that change the rewrite (the others are left to the runtime).
REWRITTEN_KINDS = ("dict", "list", "set")
# Builtins that only consume the iterable they are given: a display passed to one of them
# cannot escape.
_CONSUMERS = frozenset({"len", "sum", "min", "max", "any", "all", "tuple", "list", "set",
                        "frozenset", "sorted", "dict", "enumerate", "zip", "map", "filter",
                        "reversed", "iter"})
_DISPLAYS = (ast.List, ast.Set, ast.ListComp, ast.SetComp)


def install_helper() -> None:
    """Make ``@racewatch`` resolvable from any instrumented code (idempotent).

    Never taken out again: code instrumented once may run after the detector stopped
    (``track`` then hands dicts back untouched).
    """
    import builtins
    import importlib

    builtins.__dict__.setdefault(HELPER, importlib.import_module(HELPER_MODULE))

_SCOPE_NODES = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef,
                ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


class _Scope:
    __slots__ = ("node", "parent", "bound", "imports", "other", "declared_global", "loaded")

    def __init__(self, node, parent):
        self.node = node
        self.parent = parent
        self.bound: set[str] = set()
        self.imports: dict[str, str] = {}   # name -> "defaultdict" | "collections"
        self.other: set[str] = set()        # names also bound some other way
        self.declared_global: set[str] = set()
        self.loaded: set[str] = set()       # names read here

    @property
    def is_function(self) -> bool:
        return isinstance(self.node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
                          + _COMPREHENSIONS)

    def bind(self, name: str, kind: str | None = None) -> None:
        if name in self.declared_global and self.parent is not None:
            self.module().bind(name, kind)
            return
        previous = self.imports.get(name)
        if name in self.bound and (kind is None or previous != kind):
            self.other.add(name)
        elif kind is None:
            self.other.add(name)
        self.bound.add(name)
        if kind is not None:
            self.imports[name] = kind

    def module(self) -> _Scope:
        scope = self
        while scope.parent is not None:
            scope = scope.parent
        return scope


class _Binder(ast.NodeVisitor):
    """Finds each scope's bindings, the way the compiler's symbol table does."""

    def __init__(self):
        self.scopes: dict[ast.AST, _Scope] = {}
        self.scope: _Scope | None = None

    def _enter(self, node) -> _Scope:
        scope = _Scope(node, self.scope)
        self.scopes[node] = scope
        return scope

    def _in(self, scope: _Scope, nodes) -> None:
        saved, self.scope = self.scope, scope
        for n in nodes:
            if n is not None:
                self.visit(n)
        self.scope = saved

    def visit_Module(self, node):
        self.scope = self._enter(node)
        self.generic_visit(node)

    def _function(self, node):
        self.scope.bind(node.name)
        args = node.args
        self._in(self.scope, node.decorator_list + args.defaults
                 + [d for d in args.kw_defaults if d is not None] + [node.returns])
        scope = self._enter(node)
        self._bind_arguments(scope, args)
        for param in getattr(node, "type_params", ()):
            scope.bind(param.name)
        self._in(scope, node.body)

    visit_FunctionDef = visit_AsyncFunctionDef = _function

    def visit_Lambda(self, node):
        args = node.args
        self._in(self.scope, args.defaults + [d for d in args.kw_defaults if d is not None])
        scope = self._enter(node)
        self._bind_arguments(scope, args)
        self._in(scope, [node.body])

    def _bind_arguments(self, scope, args):
        for a in args.posonlyargs + args.args + args.kwonlyargs + [args.vararg, args.kwarg]:
            if a is not None:
                scope.bind(a.arg)
                self._in(self.scope, [a.annotation])

    def visit_ClassDef(self, node):
        self.scope.bind(node.name)
        self._in(self.scope, node.decorator_list + node.bases + node.keywords)
        scope = self._enter(node)
        for param in getattr(node, "type_params", ()):
            scope.bind(param.name)
        self._in(scope, node.body)

    def _comprehension(self, node):
        generators = node.generators
        # The first iterable is evaluated in the enclosing scope.
        self._in(self.scope, [generators[0].iter])
        scope = self._enter(node)
        saved, self.scope = self.scope, scope
        for i, gen in enumerate(generators):
            self.visit(gen.target)
            if i:
                self.visit(gen.iter)
            for cond in gen.ifs:
                self.visit(cond)
        if isinstance(node, ast.DictComp):
            self.visit(node.key)
            self.visit(node.value)
        else:
            self.visit(node.elt)
        self.scope = saved

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _comprehension

    def visit_Name(self, node):
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            self.scope.bind(node.id)
        else:
            self.scope.loaded.add(node.id)

    def visit_NamedExpr(self, node):
        # A walrus in a comprehension binds in the enclosing function or module.
        scope = self.scope
        while isinstance(scope.node, _COMPREHENSIONS):
            scope = scope.parent
        scope.bind(node.target.id)
        self.visit(node.value)

    def visit_Global(self, node):
        self.scope.declared_global.update(node.names)

    def visit_Nonlocal(self, node):
        # The name lives in an enclosing function; here it is simply not a builtin.
        for name in node.names:
            self.scope.bind(name)

    def visit_Import(self, node):
        for alias in node.names:
            if alias.asname:
                kind = "collections" if alias.name == "collections" else None
                self.scope.bind(alias.asname, kind)
            else:
                top = alias.name.partition(".")[0]
                self.scope.bind(top, "collections" if top == "collections" else None)

    def visit_ImportFrom(self, node):
        from_collections = node.module == "collections" and not node.level
        for alias in node.names:
            if alias.name == "*":
                if from_collections:
                    self.scope.bind("defaultdict", "defaultdict")
                else:  # it may bring its own dict or type: not the builtins any more
                    for name in ("dict", "type", "list", "set", "frozenset", "sorted"):
                        self.scope.bind(name)
                continue
            kind = "defaultdict" if from_collections and alias.name == "defaultdict" else None
            self.scope.bind(alias.asname or alias.name, kind)

    def visit_ExceptHandler(self, node):
        if node.name:
            self.scope.bind(node.name)
        self.generic_visit(node)

    def visit_MatchAs(self, node):
        if node.name:
            self.scope.bind(node.name)
        self.generic_visit(node)

    def visit_MatchStar(self, node):
        if node.name:
            self.scope.bind(node.name)

    def visit_MatchMapping(self, node):
        if node.rest:
            self.scope.bind(node.rest)
        self.generic_visit(node)

    def visit_TypeAlias(self, node):  # 3.12+
        self.visit(node.name)


def _resolve(scope: _Scope, name: str) -> _Scope | None:
    """The scope whose binding ``name`` refers to from ``scope``; None for a builtin."""
    module = scope.module()
    if name in scope.declared_global:
        return module if name in module.bound else None
    if name in scope.bound:
        return scope
    s = scope.parent
    while s is not None and s is not module:
        if s.is_function:
            if name in s.declared_global:
                break
            if name in s.bound:
                return s
        s = s.parent
    return module if name in module.bound else None


def _rebound_globals(tree: ast.AST, scopes: dict[ast.AST, _Scope]) -> frozenset[str]:
    """The module globals that a function (or a class body) of the module rebinds, and those
    its own top-level code binds more than once and some function, lambda, class body or
    comprehension of the module reads (a script's flag that threads poll).  A name only
    the top-level code uses (a script's loop variables) is left alone: that code runs in
    one thread, once."""
    names = set()
    read_inside = set()
    for scope in scopes.values():
        if scope.parent is not None:
            names |= scope.declared_global
            # A function's own local is not the global; in a class body or a comprehension
            # a name may be either: counted.
            local = scope.bound - scope.declared_global if scope.is_function \
                and not isinstance(scope.node, _COMPREHENSIONS) else set()
            read_inside |= scope.loaded - local
    counts: dict[str, int] = {}
    for stmt in _module_level_statements(getattr(tree, "body", [])):
        targets = (stmt.targets if isinstance(stmt, ast.Assign)
                   else [stmt.target] if isinstance(stmt, (ast.AugAssign, ast.For, ast.AsyncFor))
                   or (isinstance(stmt, ast.AnnAssign) and stmt.value is not None)
                   else [])
        for target in targets:
            for node in ast.walk(target):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    counts[node.id] = counts.get(node.id, 0) + 1
    names |= {name for name, n in counts.items() if n > 1 and name in read_inside}
    return frozenset(names)


def _module_level_statements(body: list[ast.stmt]):
    """The statements the module's own code runs, in compound statements too, not in
    functions or classes."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for field in ("body", "orelse", "finalbody"):
            yield from _module_level_statements(getattr(stmt, field, None) or [])
        for handler in getattr(stmt, "handlers", None) or []:
            yield from _module_level_statements(handler.body)


class _ClassAttributes:
    """Which class attributes the module rebinds through a class: ``Class.x = ...`` (a class
    the module defines at its top level) or ``cls.x = ...`` in a classmethod.  Reads of
    those names through such a class reference are checked too (through an instance, the
    class hook sees them); other class attributes (methods, constants, enum members) are
    read at no cost."""

    def __init__(self, tree: ast.AST):
        self.classes = {n.name for n in getattr(tree, "body", ()) if isinstance(n, ast.ClassDef)}
        self.methods: dict[ast.AST, str] = {}   # classmethod -> the name of its first parameter
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.args.args \
                    and any(isinstance(d, ast.Name) and d.id == "classmethod"
                            for d in node.decorator_list):
                self.methods[node] = node.args.args[0].arg
        refs = self.classes | set(self.methods.values())
        self.names: set[str] = set()
        for node in ast.walk(tree):
            targets = (node.targets if isinstance(node, (ast.Assign, ast.Delete))
                       else [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign))
                       else [])
            for target in targets:
                if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) \
                        and target.value.id in refs:
                    self.names.add(target.attr)


def _pure_load(node: ast.expr) -> bool:
    """A name or a dotted name: evaluating it again changes nothing."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name)


class _Rewriter(ast.NodeTransformer):
    def __init__(self, scopes: dict[ast.AST, _Scope], kinds=REWRITTEN_KINDS,
                 rebound: frozenset[str] = frozenset(),
                 class_attributes: _ClassAttributes | None = None):
        self.scopes = scopes
        self.scope: _Scope | None = None
        self.changed = False
        self.kinds = frozenset(kinds)
        self.quiet: set[int] = set()   # ids of displays that cannot escape (see above)
        self.rebound = rebound      # the module globals watched (see the docstring)
        self.class_attributes = class_attributes

    def visit(self, node):
        scope = self.scopes.get(node)
        if scope is None:
            result = super().visit(node)
        else:
            saved, self.scope = self.scope, scope
            try:
                result = super().visit(node)
            finally:
                self.scope = saved
        if isinstance(node, ast.stmt) and isinstance(result, ast.stmt):
            records = self._global_records(result) if self.rebound else []
            if self.class_attributes is not None and self.class_attributes.names:
                records += self._class_records(result)
            if records:
                return [result, *records]
        return result

    # -- class attributes rebound through the class ---------------------------------------

    def _is_class_ref(self, node: ast.expr) -> bool:
        ca = self.class_attributes
        if not isinstance(node, ast.Name) or ca is None:
            return False
        scope = _resolve(self.scope, node.id)
        if scope is None:
            return False
        if scope is self.scope.module():
            return node.id in ca.classes
        return ca.methods.get(scope.node) == node.id

    def _class_records(self, stmt: ast.stmt) -> list[ast.stmt]:
        """What follows ``stmt`` to record the class attributes it binds or deletes."""
        if isinstance(stmt, ast.Assign):
            targets, fn = stmt.targets, "class_write"
        elif isinstance(stmt, ast.AugAssign):
            targets, fn = [stmt.target], "class_update"
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            targets, fn = [stmt.target], "class_write"
        elif isinstance(stmt, ast.Delete):
            targets, fn = stmt.targets, "class_write"
        else:
            return []
        records = []
        for target in targets:
            if isinstance(target, ast.Attribute) and self._is_class_ref(target.value):
                self.changed = True
                call = ast.Call(func=self._helper(fn), args=[_copy_load(target.value),
                                                              ast.Constant(target.attr)],
                                keywords=[])
                records.append(ast.fix_missing_locations(ast.copy_location(
                    ast.Expr(ast.copy_location(call, stmt)), stmt)))
        return records

    def visit_Attribute(self, node):
        self.generic_visit(node)
        ca = self.class_attributes
        if (isinstance(node.ctx, ast.Load) and ca is not None and node.attr in ca.names
                and self._is_class_ref(node.value)):
            self.changed = True
            call = ast.Call(func=self._helper("class_read"),
                            args=[_copy_load(node.value), ast.Constant(node.attr), node],
                            keywords=[])
            return ast.fix_missing_locations(ast.copy_location(call, node))
        return node

    # -- module globals ------------------------------------------------------------------

    def _is_watched_global(self, name: str) -> bool:
        return name in self.rebound and _resolve(self.scope, name) is self.scope.module()

    def _record(self, fn: str, name: str, at: ast.AST, *more: ast.expr) -> ast.expr:
        self.changed = True
        call = ast.Call(func=self._helper(fn), args=[ast.Constant(name), *more], keywords=[])
        return ast.fix_missing_locations(ast.copy_location(call, at))

    def _record_stmt(self, fn: str, name: str, at: ast.AST) -> ast.stmt:
        return ast.fix_missing_locations(ast.copy_location(
            ast.Expr(self._record(fn, name, at)), at))

    def _bound_names(self, target: ast.AST) -> list[str]:
        """The watched globals an assignment to ``target`` binds (in unpacking order)."""
        if isinstance(target, ast.Name):
            return [target.id] if self._is_watched_global(target.id) else []
        if isinstance(target, (ast.Tuple, ast.List)):
            return [n for elt in target.elts for n in self._bound_names(elt)]
        if isinstance(target, ast.Starred):
            return self._bound_names(target.value)
        return []

    def _global_records(self, stmt: ast.stmt) -> list[ast.stmt]:
        """What follows ``stmt`` to record the watched globals it binds (and, for the
        compound statements that bind a target, what starts their body)."""
        names: list[str] = []
        fn = "gwrite"
        if isinstance(stmt, ast.Assign):
            names = [n for t in stmt.targets for n in self._bound_names(t)]
        elif isinstance(stmt, ast.AugAssign):
            names, fn = self._bound_names(stmt.target), "gupdate"
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            names = self._bound_names(stmt.target)
        elif isinstance(stmt, ast.Delete):
            names, fn = [n for t in stmt.targets for n in self._bound_names(t)], "gdelete"
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            for alias in stmt.names:
                bound = alias.asname or alias.name.partition(".")[0]
                if alias.name != "*" and self._is_watched_global(bound):
                    names.append(bound)
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if self._is_watched_global(stmt.name):
                names = [stmt.name]
        elif isinstance(stmt, (ast.For, ast.AsyncFor)):
            first = [self._record_stmt("gwrite", n, stmt.target)
                     for n in self._bound_names(stmt.target)]
            stmt.body[:0] = first
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            first = [self._record_stmt("gwrite", n, item.optional_vars)
                     for item in stmt.items if item.optional_vars is not None
                     for n in self._bound_names(item.optional_vars)]
            stmt.body[:0] = first
        return [self._record_stmt(fn, n, stmt) for n in names]

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load) and self._is_watched_global(node.id):
            return self._record("gread", node.id, node, node)
        return node

    def visit_NamedExpr(self, node):
        self.generic_visit(node)
        # The walrus binds in the enclosing function (or module), not in a comprehension.
        scope = self.scope
        while isinstance(scope.node, _COMPREHENSIONS):
            scope = scope.parent
        saved, self.scope = self.scope, scope
        try:
            if self._is_watched_global(node.target.id):
                node.value = self._record("gstore", node.target.id, node.value, node.value)
        finally:
            self.scope = saved
        return node

    # Scopes: visit what the enclosing scope evaluates there, not what the binder moved.
    def _function(self, node):
        saved, self.scope = self.scope, self.scope.parent
        node.decorator_list = [self.visit(d) for d in node.decorator_list]
        self._defaults(node.args)
        self.scope = saved
        node.body = self._body(node.body)
        return node

    visit_FunctionDef = visit_AsyncFunctionDef = _function

    def visit_Lambda(self, node):
        saved, self.scope = self.scope, self.scope.parent
        self._defaults(node.args)
        self.scope = saved
        node.body = self.visit(node.body)
        return node

    def _defaults(self, args):
        args.defaults = [self.visit(d) for d in args.defaults]
        args.kw_defaults = [self.visit(d) if d is not None else None for d in args.kw_defaults]

    def visit_ClassDef(self, node):
        saved, self.scope = self.scope, self.scope.parent
        node.decorator_list = [self.visit(d) for d in node.decorator_list]
        node.bases = [self.visit(b) for b in node.bases]
        node.keywords = [self.visit(k) for k in node.keywords]
        self.scope = saved
        node.body = self._body(node.body)
        self._weakref_slots(node)
        # Outermost: it gets the class the other decorators made.  Placed where the first
        # decorator is (or the class statement), so that the class's first line stays.
        at = node.decorator_list[0] if node.decorator_list else node
        node.decorator_list.insert(0, ast.fix_missing_locations(
            ast.copy_location(self._helper("track_class"), at)))
        self.changed = True
        return node

    def _weakref_slots(self, node: ast.ClassDef) -> None:
        """``__slots__ = X`` in the class body becomes ``__slots__ =
        @racewatch.weakref_slots(X, (bases...))``, which adds ``__weakref__`` where the class
        would otherwise have none; left alone when a base is not a plain (dotted) name, which
        evaluating again could change."""
        if not all(_pure_load(b) for b in node.bases):
            return
        for stmt in node.body:
            if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                    and isinstance(stmt.targets[0], ast.Name)
                    and stmt.targets[0].id == "__slots__"):
                bases = ast.Tuple(elts=[_copy_load(b) for b in node.bases], ctx=ast.Load())
                value = stmt.value
                if (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)
                        and value.func.attr == "track" and isinstance(value.func.value, ast.Name)
                        and value.func.value.id == HELPER):
                    value = value.args[0]  # the class's own __slots__, never shared: as written
                call = ast.Call(func=self._helper("weakref_slots"), args=[value, bases],
                                keywords=[])
                stmt.value = ast.fix_missing_locations(ast.copy_location(call, stmt.value))

    def _body(self, statements):
        result = []
        for stmt in statements:
            new = self.visit(stmt)
            if isinstance(new, list):
                result.extend(new)
            elif new is not None:
                result.append(new)
        return result

    def _comprehension(self, node):
        first = node.generators[0]
        for gen in node.generators:
            self._quiet(gen.iter)
        saved, self.scope = self.scope, self.scope.parent
        first.iter = self.visit(first.iter)
        self.scope = saved
        for i, gen in enumerate(node.generators):
            gen.target = self.visit(gen.target)
            if i:
                gen.iter = self.visit(gen.iter)
            gen.ifs = [self.visit(c) for c in gen.ifs]
        if isinstance(node, ast.DictComp):
            node.key = self.visit(node.key)
            node.value = self.visit(node.value)
            return self._track(node, "dict")
        node.elt = self.visit(node.elt)
        if isinstance(node, ast.ListComp):
            return self._track(node, "list")
        if isinstance(node, ast.SetComp):
            return self._track(node, "set")
        return node

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _comprehension

    # Annotations stay as written.
    def visit_arg(self, node):
        return node

    def visit_AnnAssign(self, node):
        node.target = self.visit(node.target)
        if node.value is not None:
            node.value = self.visit(node.value)
        return node

    def visit_TypeAlias(self, node):
        return node

    def visit_Dict(self, node):
        self.generic_visit(node)
        return self._track(node, "dict")

    def visit_List(self, node):
        self.generic_visit(node)
        if not isinstance(node.ctx, ast.Load):
            return node   # an unpacking target
        return self._track(node, "list")

    def visit_Set(self, node):
        self.generic_visit(node)
        return self._track(node, "set")

    # Where a new list or set cannot escape.
    def visit_For(self, node):
        self._quiet(node.iter)
        self.generic_visit(node)
        return node

    def visit_Compare(self, node):
        for op, right in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, (ast.In, ast.NotIn)):
                self._quiet(right)
        self.generic_visit(node)
        return node

    def visit_Starred(self, node):
        self._quiet(node.value)
        self.generic_visit(node)
        return node

    def visit_Assign(self, node):
        if all(isinstance(t, (ast.Tuple, ast.List)) for t in node.targets):
            self._quiet(node.value)
        self.generic_visit(node)
        return node

    def _quiet(self, node) -> None:
        if isinstance(node, _DISPLAYS):
            self.quiet.add(id(node))

    def visit_Call(self, node):
        func = node.func
        if ((isinstance(func, ast.Name) and func.id in _CONSUMERS and self._is_builtin(func.id))
                or (isinstance(func, ast.Attribute) and func.attr == "join"
                    and isinstance(func.value, ast.Constant)
                    and isinstance(func.value.value, str))):
            for arg in node.args:
                self._quiet(arg)
        self.generic_visit(node)
        if isinstance(func, ast.Name):
            if func.id == "dict" and self._is_builtin("dict"):
                return self._track(node, "dict")
            if self._bound_to(func.id, "defaultdict"):
                return self._track(node, "dict")
            if func.id in ("set", "frozenset") and self._is_builtin(func.id):
                self._reading_argument(node)
            if func.id in ("list", "sorted") and self._is_builtin(func.id):
                return self._track(node, "list")
            if func.id == "set" and self._is_builtin("set"):
                return self._track(node, "set")
            if (func.id == "type" and self._is_builtin("type") and len(node.args) == 1
                    and not node.keywords and not isinstance(node.args[0], ast.Starred)):
                node.func = ast.fix_missing_locations(
                    ast.copy_location(self._helper("public_type"), func))
                self.changed = True
                return node
        elif isinstance(func, ast.Attribute):
            if func.attr == "maketrans":
                # X.maketrans(args) -> @racewatch.maketrans(X, args): X evaluated once.
                node.func = ast.fix_missing_locations(
                    ast.copy_location(self._helper("maketrans"), func))
                node.args = [func.value, *node.args]
                self.changed = True
                return node
            if isinstance(func.value, ast.Name):
                owner = func.value.id
                if func.attr == "fromkeys" and owner == "dict" and self._is_builtin("dict"):
                    return self._track(node, "dict")
                if func.attr == "defaultdict" and self._bound_to(owner, "collections"):
                    return self._track(node, "dict")
        return node

    def _reading_argument(self, node: ast.Call) -> None:
        """``set(x)`` -> ``set(@racewatch.reading(x))``: a tracked set ``x`` is read there."""
        if ("set" not in self.kinds or len(node.args) != 1 or node.keywords
                or isinstance(node.args[0], (ast.Starred, ast.GeneratorExp, ast.Constant,
                                             *_DISPLAYS))):
            return
        arg = node.args[0]
        call = ast.Call(func=self._helper("reading"), args=[arg], keywords=[])
        node.args[0] = ast.fix_missing_locations(ast.copy_location(call, arg))
        self.changed = True

    def _is_builtin(self, name: str) -> bool:
        return _resolve(self.scope, name) is None

    def _bound_to(self, name: str, kind: str) -> bool:
        scope = _resolve(self.scope, name)
        return (scope is not None and scope.imports.get(name) == kind
                and name not in scope.other)

    def _helper(self, attr: str) -> ast.expr:
        return ast.Attribute(value=ast.Name(id=HELPER, ctx=ast.Load()), attr=attr,
                             ctx=ast.Load())


    def _track(self, node: ast.expr, kind: str) -> ast.expr:
        if kind not in self.kinds or id(node) in self.quiet:
            return node
        self.changed = True
        call = ast.Call(func=self._helper("track"), args=[node], keywords=[])
        ast.copy_location(call, node)
        return ast.fix_missing_locations(call)


def _copy_load(node: ast.expr) -> ast.expr:
    """A fresh copy of a (dotted) name, to be loaded again."""
    if isinstance(node, ast.Attribute):
        return ast.copy_location(ast.Attribute(value=_copy_load(node.value), attr=node.attr,
                                               ctx=ast.Load()), node)
    return ast.copy_location(ast.Name(id=node.id, ctx=ast.Load()), node)


def _prologue_index(body: list[ast.stmt]) -> int:
    """Where the module's own code starts: after its docstring and __future__ imports."""
    i = 0
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        i = 1
    while i < len(body) and isinstance(body[i], ast.ImportFrom) \
            and body[i].module == "__future__":
        i += 1
    return i


def rewrite(tree: ast.Module, kinds=REWRITTEN_KINDS) -> ast.Module:
    """Rewrite ``tree`` in place (and return it), tracking the containers of ``kinds``
    (some of REWRITTEN_KINDS)."""
    binder = _Binder()
    binder.visit(tree)
    rebound = _rebound_globals(tree, binder.scopes)
    rewriter = _Rewriter(binder.scopes, kinds, rebound, _ClassAttributes(tree))
    rewriter.visit(tree)
    if isinstance(tree, ast.Module):
        # Every instrumented module says so first thing (only its code's attribute accesses
        # are checked), with the globals it rebinds.
        # It stands on the line of the statement it goes before, that line only: that
        # statement may be one pytest's assertion rewrite inserted, which has a start
        # and no end (copying its location would leave the end at line 1).
        at = tree.body[_prologue_index(tree.body)] if tree.body else None
        line = getattr(at, "lineno", None) or 1
        names = ast.Tuple(elts=[ast.Constant(n) for n in sorted(rebound)], ctx=ast.Load())
        call = ast.Call(func=rewriter._helper("track_globals"), args=[names], keywords=[])
        # The helper's name declared global at the top level: its code then finds the
        # helper as a function does (LOAD_GLOBAL, which the interpreter specializes), not
        # with LOAD_NAME's three lookups (the namespace twice, then builtins) at every
        # access a script's top-level loop makes.  A declaration makes no bytecode.
        declared = ast.Global(names=[HELPER])
        start = ast.Expr(call)
        for new in (declared, start):
            for node in ast.walk(new):
                if "lineno" not in node._attributes:
                    continue
                node.lineno = node.end_lineno = line
                node.col_offset = node.end_col_offset = 0
        at = _prologue_index(tree.body)
        tree.body[at:at] = [declared, start]
    return tree


def watched_kinds() -> tuple[str, ...]:
    """The REWRITTEN_KINDS that the ``watch`` option of the running detector selects."""
    from ..runtime.settings import SETTINGS, WATCH_BITS

    return tuple(k for k in REWRITTEN_KINDS if SETTINGS.watch & WATCH_BITS[k])


def compile_instrumented(source: bytes | str, filename: str, mode: str = "exec"):
    """Parse, rewrite and compile ``source``: the same SyntaxError as plain Python on bad code.

    Should the rewrite itself fail (a racewatch bug), the module is compiled as written,
    with a one-line warning: instrumentation must never stop a program from running.
    """
    tree = compile(source, filename, mode, flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    install_helper()
    try:
        return compile(rewrite(tree, watched_kinds()), filename, mode, dont_inherit=True)
    except Exception as exc:  # noqa: BLE001 -- see the docstring
        failure = exc
    # Either the source itself is wrong where only the compiler looks (``return`` outside a
    # function, a duplicate argument): compiling it as written raises Python's own error,
    # with nothing chained to it.  Or the rewrite is.
    try:
        code = compile(source, filename, mode, dont_inherit=True)
    except SyntaxError as error:
        error.__context__ = None
        raise error from None
    import sys

    sys.stderr.write(f"racewatch: warning: {filename} runs uninstrumented: could not rewrite "
                     f"it ({type(failure).__name__}: {failure}); please report this\n")
    return code
