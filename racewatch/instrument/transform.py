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
  so that ``type(d) is dict`` still holds for a tracked dict.

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
uses the same trick); it is bound by one import placed after the docstring and the
``from __future__`` imports.  Every new node takes the location of the node it wraps, so
tracebacks and line numbers are those of the original source.  Annotations are left as
written: ``from __future__ import annotations`` turns them into strings.
"""

from __future__ import annotations

import ast

HELPER = "@racewatch"
HELPER_MODULE = "racewatch.runtime.tracked"
# Bump when the rewrite changes: it is part of the cache tag (cache.py).
TRANSFORM_VERSION = 3
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
    __slots__ = ("node", "parent", "bound", "imports", "other", "declared_global")

    def __init__(self, node, parent):
        self.node = node
        self.parent = parent
        self.bound: set[str] = set()
        self.imports: dict[str, str] = {}   # name -> "defaultdict" | "collections"
        self.other: set[str] = set()        # names also bound some other way
        self.declared_global: set[str] = set()

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


class _Rewriter(ast.NodeTransformer):
    def __init__(self, scopes: dict[ast.AST, _Scope], kinds=REWRITTEN_KINDS):
        self.scopes = scopes
        self.scope: _Scope | None = None
        self.changed = False
        self.kinds = frozenset(kinds)
        self.quiet: set[int] = set()   # ids of displays that cannot escape (see above)

    def visit(self, node):
        scope = self.scopes.get(node)
        if scope is None:
            return super().visit(node)
        saved, self.scope = self.scope, scope
        try:
            return super().visit(node)
        finally:
            self.scope = saved

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
        return node

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


def rewrite(tree: ast.Module, kinds=REWRITTEN_KINDS) -> ast.Module:
    """Rewrite ``tree`` in place (and return it), tracking the containers of ``kinds``
    (some of REWRITTEN_KINDS); a module with none of them is left as it was."""
    binder = _Binder()
    binder.visit(tree)
    _Rewriter(binder.scopes, kinds).visit(tree)
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
