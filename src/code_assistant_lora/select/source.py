"""Python source summaries: the units of a module and the names each one may reach.

A *unit* is the smallest piece of a module that selection reasons about: a top-level function, a
class "shell" (bases, decorators, class body, dunder methods), a method, a module-level value, or
`<module>`, the code that runs at import time. For each unit we keep what it refers to (free names
and dotted chains resolved later in module scope, attribute names it may look up, strings it
mentions) and a digest of its syntax tree, so a change can be located to the units it touched
instead of to the whole file. Summaries are pure functions of the source text and are cached by
content hash.

The analysis is deliberately conservative: anything that may look names up dynamically (`exec`,
`globals()`, `importlib.import_module` with a computed name) is flagged so the graph can widen the
dependency instead of missing it.
"""

from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass
from functools import lru_cache

SUMMARY_VERSION = 5
MODULE = "<module>"
MAX_STRINGS = 64
MAX_STRING_LEN = 300

# Decorators that only wrap or annotate: the decorated object does not escape into a registry, so
# a change to it reaches only code that names it. Anything else may register it somewhere at
# import time, which is treated as an import-time (module body) dependency.
PURE_DECORATORS = frozenset(
    {
        "property",
        "setter",
        "getter",
        "deleter",
        "staticmethod",
        "classmethod",
        "abstractmethod",
        "abstractproperty",
        "cached_property",
        "wraps",
        "lru_cache",
        "cache",
        "total_ordering",
        "dataclass",
        "contextmanager",
        "asynccontextmanager",
        "overload",
        "final",
        "override",
        "unique",
        "runtime_checkable",
        "no_type_check",
        "deprecated",
        "fixture",
        "usefixtures",
        "parametrize",
        "skip",
        "skipif",
        "skipIf",
        "skipUnless",
        "xfail",
        "expectedFailure",
        "filterwarnings",
        "timeout",
        "given",
        "example",
        "settings",
        "s",
        "attrs",
        "define",
        "frozen",
        "mutable",
    }
)

_NESTED = "\x00"
_QUALIFIED_CALLS = frozenset(
    {("importlib", "importlib.import_module"), ("builtins", "builtins.exec")}
)
_PURE_CALLS = frozenset(
    {
        "frozenset",
        "set",
        "dict",
        "tuple",
        "list",
        "int",
        "str",
        "float",
        "bool",
        "bytes",
        "object",
        "compile",
        "TypeVar",
        "ParamSpec",
        "NewType",
        "namedtuple",
        "getLogger",
        "range",
        "len",
        "sorted",
        "chr",
        "ord",
        "repr",
    }
)


@dataclass(frozen=True)
class Unit:
    """One unit of a module. `refs` are free names or dotted chains read in module scope, or
    `!level|module|name|rest` for imports made inside the unit, `^name` for `super().name`,
    `name()` and `Class{}` for what import-time code calls and defines."""

    name: str
    kind: str  # module | function | class | method | value
    start: int
    end: int
    refs: tuple[str, ...] = ()
    params: tuple[str, ...] = ()
    strings: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    bases: tuple[str, ...] = ()
    body_start: int = 0
    calls: tuple[str, ...] = ()  # refs made by the body itself, not by functions nested in it

    def to_list(self) -> list:
        return [
            self.name,
            self.kind,
            self.start,
            self.end,
            list(self.refs),
            list(self.params),
            list(self.strings),
            list(self.flags),
            list(self.bases),
            self.body_start,
            list(self.calls),
        ]

    @classmethod
    def from_list(cls, row: list) -> Unit:
        name, kind, start, end, refs, params, strings, flags, bases, body_start, calls = row
        return cls(
            name,
            kind,
            start,
            end,
            tuple(refs),
            tuple(params),
            tuple(strings),
            tuple(flags),
            tuple(bases),
            body_start,
            tuple(calls),
        )


@dataclass(frozen=True)
class Import:
    """A module-level import: `local` is the bound name (None for `*`), `name` the imported name
    (None for `import module`)."""

    local: str | None
    module: str
    name: str | None
    level: int
    line: int

    def to_list(self) -> list:
        return [self.local, self.module, self.name, self.level, self.line]


@dataclass(frozen=True)
class ModuleSummary:
    units: dict[str, Unit]
    imports: tuple[Import, ...]
    error: str | None = None

    def to_dict(self) -> dict:
        return {
            "v": SUMMARY_VERSION,
            "units": [u.to_list() for u in self.units.values()],
            "imports": [i.to_list() for i in self.imports],
            "error": self.error,
        }

    @classmethod
    def from_dict(cls, data: dict) -> ModuleSummary:
        if data.get("v") != SUMMARY_VERSION:
            raise ValueError("summary version mismatch")
        units = {row[0]: Unit.from_list(row) for row in data["units"]}
        return cls(units, tuple(Import(*row) for row in data["imports"]), data["error"])

    @property
    def module_flags(self) -> frozenset[str]:
        return frozenset(flag for unit in self.units.values() for flag in unit.flags)


# --- scope analysis --------------------------------------------------------------------------


def _chain(node: ast.AST) -> tuple[str, str] | None:
    """(root, "root.a.b") for an attribute chain on a plain name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return node.id, ".".join(reversed(parts))


def _call_name(node: ast.AST) -> str:
    chain = _chain(node)
    if chain:
        return chain[1].rsplit(".", 1)[-1]
    if isinstance(node, ast.Call):
        return _call_name(node.func)
    return ""


class _Scope:
    __slots__ = ("kind", "stores", "loads", "imports", "globals")

    def __init__(self, kind: str) -> None:
        self.kind = kind  # module | function | class | classroot
        self.stores: set[str] = set()
        self.loads: list[tuple[str, str]] = []
        self.imports: dict[str, tuple[int, str, str]] = {}
        self.globals: set[str] = set()


class _Collector(ast.NodeVisitor):
    """Collects the free references, attribute names, strings and flags of a piece of code.

    The root scope decides how names resolve: `module` (every load is a module-scope reference),
    `function` (locals and parameters are filtered out) or `classroot` (a class body: class-local
    names are members, not module references)."""

    def __init__(self, kind: str, calls: bool = False) -> None:
        self.calls = calls  # mark direct calls `C()` as `C()` (import time: construction only)
        self.scopes = [_Scope(kind)]
        self.strings: list[str] = []
        self.flags: set[str] = set()
        self.refs: list[str] = []
        self.direct: list[str] = []  # refs not made inside a nested def or lambda

    @property
    def scope(self) -> _Scope:
        return self.scopes[-1]

    def finish(self) -> _Collector:
        scope = self.scopes.pop()
        for root, chain in scope.loads:
            nested = chain.startswith(_NESTED)
            chain = chain.lstrip(_NESTED)
            if scope.kind != "module" and root in scope.imports:
                ref = _import_ref(scope.imports[root], chain)
            elif scope.kind == "module" or root not in scope.stores or root in scope.globals:
                ref = chain
            else:
                ref = None
            if ref is not None:
                self.refs.append(ref)
                if not nested:
                    self.direct.append(ref)
        return self

    def _close(self, scope: _Scope) -> None:
        """Hand a finished nested scope's free loads to the nearest enclosing scope that names
        resolve in (Python skips class bodies when resolving names inside methods)."""
        free = []
        deferred = scope.kind == "function"  # a def or lambda body runs later, if ever
        for root, chain in scope.loads:
            if root in scope.imports:
                self.refs.append(_import_ref(scope.imports[root], chain.lstrip(_NESTED)))
            elif root not in scope.stores or root in scope.globals:
                free.append((root, _NESTED + chain if deferred else chain))
        for outer in reversed(self.scopes):
            if outer.kind != "class" or scope.kind == "class":
                outer.loads.extend(free)
                break

    def _function(self, args: ast.arguments, body) -> None:
        for default in [*args.defaults, *(d for d in args.kw_defaults if d is not None)]:
            self.visit(default)
        scope = _Scope("function")
        for arg in _all_args(args):
            if arg.annotation is not None:
                self.visit(arg.annotation)
            scope.stores.add(arg.arg)
        self.scopes.append(scope)
        for statement in body if isinstance(body, list) else [body]:
            self.visit(statement)
        self.scopes.pop()
        self._close(scope)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self.scope.loads.append((node.id, node.id))
        else:
            self.scope.stores.add(node.id)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        chain = _chain(node)
        if chain is None:
            value = node.value
            if isinstance(value, ast.Call) and _chain(value.func) == ("super", "super"):
                self.refs.append("^" + node.attr)  # resolved through the class's bases
            self.generic_visit(node)
            return
        root, dotted = chain
        if dotted == "sys.modules" or dotted.startswith("sys.modules."):
            self.flags.add("dynamic-import")
        self.scope.loads.append((root, dotted))

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str):
            if len(self.strings) < MAX_STRINGS:
                self.strings.append(node.value[:MAX_STRING_LEN])

    def visit_Call(self, node: ast.Call) -> None:
        method = _call_name(node.func)
        name = method
        if not isinstance(node.func, ast.Name) and _chain(node.func) not in _QUALIFIED_CALLS:
            name = "." + name  # a method that happens to share a builtin's name
        literal = [isinstance(a, ast.Constant) and isinstance(a.value, str) for a in node.args]
        if name in ("globals", "locals") and not node.args:
            self.flags.add("globals")
        elif name in ("exec", "eval", "compile"):
            self.flags.add("exec")
        elif name in ("import_module", "__import__", ".import_module"):
            if node.args and literal[0]:
                self.refs.append(f"!0|{node.args[0].value}||")
            else:
                self.flags.add("dynamic-import")
        if method in ("usefixtures", "getfixturevalue"):
            for arg, is_literal in zip(node.args, literal, strict=True):
                if is_literal:
                    self.scope.loads.append((arg.value, arg.value))
        called = _chain(node.func)
        if self.calls and called is not None and self.scope.kind == "module":
            self.scope.loads.append((called[0], called[1] + "()"))
            for child in [*node.args, *node.keywords]:
                self.visit(child)
            return
        self.generic_visit(node)

    def visit_FunctionDef(self, node) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        if node.returns is not None:
            self.visit(node.returns)
        self.scope.stores.add(node.name)
        self._function(node.args, node.body)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._function(node.args, node.body)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for expr in [*node.decorator_list, *node.bases, *(k.value for k in node.keywords)]:
            self.visit(expr)
        self.scope.stores.add(node.name)
        scope = _Scope("class")
        self.scopes.append(scope)
        for statement in node.body:
            self.visit(statement)
        self.scopes.pop()
        self._close(scope)

    def _comprehension(self, node, elements) -> None:
        scope = _Scope("comp")
        self.scopes.append(scope)
        for generator in node.generators:
            self.visit(generator.iter)
            self.visit(generator.target)
            for condition in generator.ifs:
                self.visit(condition)
        for element in elements:
            self.visit(element)
        self.scopes.pop()
        self._close(scope)

    def visit_ListComp(self, node) -> None:
        self._comprehension(node, [node.elt])

    visit_SetComp = visit_ListComp
    visit_GeneratorExp = visit_ListComp

    def visit_DictComp(self, node) -> None:
        self._comprehension(node, [node.key, node.value])

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            local = alias.asname or alias.name.split(".")[0]
            target = alias.name if alias.asname else local
            self.scope.imports[local] = (0, target, "")
            self.scope.stores.add(local)
            if self.scope.kind != "module":
                self.refs.append(f"!0|{alias.name}||")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name == "*":
                continue
            local = alias.asname or alias.name
            self.scope.imports[local] = (node.level, node.module or "", alias.name)
            self.scope.stores.add(local)

    def visit_Global(self, node) -> None:
        self.scope.globals.update(node.names)

    visit_Nonlocal = visit_Global

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name:
            self.scope.stores.add(node.name)
        self.generic_visit(node)

    def visit_MatchAs(self, node) -> None:
        if node.name:
            self.scope.stores.add(node.name)
        self.generic_visit(node)

    def visit_MatchStar(self, node) -> None:
        if node.name:
            self.scope.stores.add(node.name)

    def visit_MatchMapping(self, node) -> None:
        if node.rest:
            self.scope.stores.add(node.rest)
        self.generic_visit(node)


def _all_args(args: ast.arguments) -> list[ast.arg]:
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    return every + [a for a in (args.vararg, args.kwarg) if a is not None]


def _import_ref(target: tuple[int, str, str], chain: str) -> str:
    level, module, name = target
    rest = chain.split(".", 1)[1] if "." in chain else ""
    return f"!{level}|{module}|{name}|{rest}"


def _collect(nodes, kind: str, calls: bool = False) -> _Collector:
    collector = _Collector(kind, calls)
    for node in nodes:
        collector.visit(node)
    return collector.finish()


# --- units -------------------------------------------------------------------------------------


def _decorator_names(node) -> list[str]:
    names = []
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        chain = _chain(target)
        names.append(chain[1] if chain else "")
    return names


def _is_pure_decorator(dotted: str) -> bool:
    if not dotted:
        return False
    if dotted.startswith(("pytest.mark.", "mark.")):
        return True
    return dotted.rsplit(".", 1)[-1] in PURE_DECORATORS


def _fixture_flags(node) -> set[str]:
    """`fixture`, `autouse` and `fixture-name:NAME` for a pytest fixture, else nothing."""
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        chain = _chain(target)
        if not chain or chain[1].rsplit(".", 1)[-1] not in ("fixture", "yield_fixture"):
            continue
        flags = {"fixture"}
        for keyword in decorator.keywords if isinstance(decorator, ast.Call) else ():
            value = keyword.value
            if keyword.arg == "autouse" and not (
                isinstance(value, ast.Constant) and not value.value
            ):
                flags.add("autouse")
            if keyword.arg == "name" and isinstance(value, ast.Constant):
                flags.add(f"fixture-name:{value.value}")
        return flags
    return set()


def _pure_expression(node: ast.AST) -> bool:
    """Evaluating it at import time cannot touch anything but its own result."""
    for child in ast.walk(node):
        if isinstance(child, (ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr)):
            return False
        if isinstance(child, ast.Call) and _call_name(child.func) not in _PURE_CALLS:
            return False
    return True


def _signature_only(node) -> list[ast.AST]:
    """What a def statement evaluates when it runs: decorators, defaults, annotations."""
    args = node.args
    parts: list[ast.AST] = [*node.decorator_list, *args.defaults]
    parts += [d for d in args.kw_defaults if d is not None]
    parts += [a.annotation for a in _all_args(args) if a.annotation is not None]
    if node.returns is not None:
        parts.append(node.returns)
    return parts


def _end(node: ast.AST) -> int:
    return getattr(node, "end_lineno", None) or node.lineno


def _start(node) -> int:
    decorators = getattr(node, "decorator_list", None)
    return min([node.lineno, *(d.lineno for d in decorators)]) if decorators else node.lineno


def _dedup(items) -> tuple:
    return tuple(dict.fromkeys(items))


class _Builder:
    """Walks module-level statements (into if/try blocks) and builds the units."""

    def __init__(self) -> None:
        self.units: dict[str, Unit] = {}
        self.imports: list[Import] = []
        self.import_time: list[ast.AST] = []  # module-level code that is not a unit's own body
        self.import_time_refs: list[str] = []  # class bodies and escaping units run at import

    def add(self, unit: Unit) -> None:
        existing = self.units.get(unit.name)
        if existing is None:
            self.units[unit.name] = unit
            return
        # Defined more than once (if/else, try/except): the union of both definitions.
        self.units[unit.name] = Unit(
            unit.name,
            existing.kind,
            min(existing.start, unit.start),
            max(existing.end, unit.end),
            _dedup(existing.refs + unit.refs),
            _dedup(existing.params + unit.params),
            (existing.strings + unit.strings)[:MAX_STRINGS],
            _dedup(existing.flags + unit.flags),
            _dedup(existing.bases + unit.bases),
            existing.body_start,
        )

    def function(self, node, prefix: str = "", kind: str = "function") -> Unit:
        body = _Collector("function")
        body.scope.stores.update(a.arg for a in _all_args(node.args))
        for statement in node.body:
            body.visit(statement)
        body.finish()
        signature = _collect(_signature_only(node), "module")
        flags = body.flags | signature.flags | _fixture_flags(node)
        decorators = _decorator_names(node)
        if any(not _is_pure_decorator(d) for d in decorators):
            flags.add("escapes")
        params = [a.arg for a in _all_args(node.args)]
        for decorator in node.decorator_list:
            if isinstance(decorator, ast.Call) and _call_name(decorator.func) == "usefixtures":
                params += [
                    a.value
                    for a in decorator.args
                    if isinstance(a, ast.Constant) and isinstance(a.value, str)
                ]
        return Unit(
            prefix + node.name,
            kind,
            _start(node),
            _end(node),
            _dedup(body.refs + signature.refs),
            _dedup(params),
            tuple((body.strings + signature.strings)[:MAX_STRINGS]),
            tuple(sorted(flags)),
            (),
            node.body[0].lineno if node.body else node.lineno,
            _dedup(body.direct + signature.refs),
        )

    def klass(self, node: ast.ClassDef) -> Unit:
        methods = [s for s in node.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))]
        shell: list[ast.AST] = [*node.decorator_list, *node.bases]
        shell += [k.value for k in node.keywords]
        for statement in node.body:
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                shell += _signature_only(statement)
            else:
                shell.append(statement)
        collector = _Collector("classroot")
        collector.scope.stores.update(m.name for m in methods)
        for part in shell:
            collector.visit(part)
        collector.finish()
        flags = set(collector.flags)
        if node.keywords or any(not _is_pure_decorator(d) for d in _decorator_names(node)):
            flags.add("escapes")
        bases = []
        for base in node.bases:
            chain = _chain(base.value if isinstance(base, ast.Subscript) else base)
            bases.append(chain[1] if chain else "?")
        unit = Unit(
            node.name,
            "class",
            _start(node),
            _end(node),
            _dedup(collector.refs),
            (),
            tuple(collector.strings),
            tuple(sorted(flags)),
            tuple(bases),
            node.body[0].lineno if node.body else node.lineno,
        )
        self.add(unit)
        for method in methods:
            self.add(self.function(method, prefix=node.name + ".", kind="method"))
        return unit

    def statement(self, node: ast.stmt) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            unit = self.function(node)
            self.add(unit)
            self.import_time.extend(_signature_only(node))
            if "escapes" in unit.flags:
                self.import_time_refs.append(unit.name)
        elif isinstance(node, ast.ClassDef):
            unit = self.klass(node)
            self.import_time_refs.append(unit.name + "{}")  # the class statement runs
            if "escapes" in unit.flags:
                self.import_time_refs.append(unit.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            self.imports.extend(_imports(node))
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            self.assignment(node)
        elif isinstance(node, ast.If):
            self.import_time.append(node.test)
            for child in [*node.body, *node.orelse]:
                self.statement(child)
        elif isinstance(node, (ast.Try, getattr(ast, "TryStar", ast.Try))):
            self.import_time.extend(h.type for h in node.handlers if h.type is not None)
            handlers = [s for h in node.handlers for s in h.body]
            for child in [*node.body, *handlers, *node.orelse, *node.finalbody]:
                self.statement(child)
        else:
            self.import_time.append(node)

    def assignment(self, node) -> None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        names = [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
        pure = node.value is None or _pure_expression(node.value)
        pure = pure and all(isinstance(t, (ast.Name, ast.Tuple, ast.List)) for t in targets)
        collector = _collect([node], "module")
        for name in dict.fromkeys(names):
            self.add(
                Unit(
                    name,
                    "value",
                    node.lineno,
                    _end(node),
                    tuple(r for r in _dedup(collector.refs) if r != name),
                    (),
                    tuple(collector.strings),
                    tuple(sorted(collector.flags | (set() if pure else {"impure"}))),
                )
            )
        self.import_time.append(node)


def _imports(node) -> list[Import]:
    out = []
    if isinstance(node, ast.Import):
        for alias in node.names:
            local = alias.asname or alias.name.split(".")[0]
            out.append(Import(local, alias.name, None, 0, node.lineno))
    else:
        for alias in node.names:
            local = None if alias.name == "*" else (alias.asname or alias.name)
            out.append(Import(local, node.module or "", alias.name, node.level, node.lineno))
    return out


@lru_cache(maxsize=16)
def parse(text: str) -> ast.Module | None:
    """The syntax tree (shared, never mutated: summaries, digests and def ranges of the same text
    parse it once), or None when it does not parse."""
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def summarize(text: str) -> ModuleSummary:
    """The units of a module. Never raises: unparseable source gives a summary with `error` set,
    which the graph treats as a change to everything in the module."""
    tree = parse(text)
    if tree is None:
        return ModuleSummary({}, (), error="syntax error")
    try:
        return _summarize(tree)
    except RecursionError:
        return ModuleSummary({}, (), error="too deeply nested")


def _summarize(tree: ast.Module) -> ModuleSummary:
    builder = _Builder()
    statements = list(tree.body)
    if (
        statements
        and isinstance(statements[0], ast.Expr)
        and isinstance(statements[0].value, ast.Constant)
        and isinstance(statements[0].value.value, str)
    ):
        doc = statements.pop(0)
        builder.add(Unit("__doc__", "value", doc.lineno, _end(doc)))
    for statement in statements:
        builder.statement(statement)
    collector = _collect(builder.import_time, "module", calls=True)
    refs = collector.refs + builder.import_time_refs
    flags = set(collector.flags)
    for unit in builder.units.values():
        if "autouse" in unit.flags:
            flags.add("autouse")
    builder.units[MODULE] = Unit(
        MODULE,
        "module",
        1,
        max((_end(s) for s in tree.body), default=1),
        _dedup(refs),
        (),
        tuple(collector.strings),
        tuple(sorted(flags)),
    )
    return ModuleSummary(builder.units, tuple(builder.imports))


# --- digests: where did a change land? ------------------------------------------------------


def _dump(nodes) -> str:
    return "\n".join(ast.dump(n, annotate_fields=False, include_attributes=False) for n in nodes)


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=12).hexdigest()


def digests(text: str) -> dict[str, str] | None:
    """A digest per unit (positions ignored, so moving code or editing comments changes nothing),
    plus `<imports>` (the module-level imports) and `<module>` (the other import-time code).
    None when the source does not parse."""
    tree = parse(text)
    if tree is None:
        return None
    try:
        return _digests(tree)
    except RecursionError:
        return None


def _digests(tree: ast.Module) -> dict[str, str]:
    parts: dict[str, list[str]] = {}
    body: list[str] = []
    imports: list[str] = []

    def put(name: str, text: str) -> None:
        parts.setdefault(name, []).append(text)

    def walk(statements, top: bool) -> None:
        for index, node in enumerate(statements):
            if (
                top
                and index == 0
                and isinstance(node, ast.Expr)
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
            ):
                put("__doc__", repr(node.value.value))
                continue
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                put(node.name, _dump([node]))
                body.append("def " + node.name + _dump(_signature_only(node)))
            elif isinstance(node, ast.ClassDef):
                shell = [*node.decorator_list, *node.bases, *(k.value for k in node.keywords)]
                shell_text = [node.name, _dump(shell)]
                for child in node.body:
                    if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        put(f"{node.name}.{child.name}", _dump([child]))
                        shell_text.append("def " + child.name + _dump(_signature_only(child)))
                    else:
                        shell_text.append(_dump([child]))
                put(node.name, "\n".join(shell_text))
                body.append("class " + node.name + _dump(shell))
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                imports.append(_dump([node]))
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
                text = _dump([node])
                for name in names:
                    put(name, text)
                if not names:
                    body.append(text)
            elif isinstance(node, ast.If):
                body.append("if " + _dump([node.test]))
                walk(node.body, False)
                body.append("else")
                walk(node.orelse, False)
            elif isinstance(node, (ast.Try, getattr(ast, "TryStar", ast.Try))):
                body.append("try")
                walk(node.body, False)
                for handler in node.handlers:
                    body.append("except " + (_dump([handler.type]) if handler.type else ""))
                    walk(handler.body, False)
                body.append("else")
                walk(node.orelse, False)
                body.append("finally")
                walk(node.finalbody, False)
            else:
                body.append(_dump([node]))

    walk(tree.body, True)
    out = {name: _digest("\n".join(texts)) for name, texts in parts.items()}
    out[MODULE] = _digest("\n".join(body))
    out["<imports>"] = _digest("\n".join(imports))
    return out


@dataclass(frozen=True)
class DefRange:
    """A function or method as coverage sees it: the lines of its body."""

    qualname: str
    start: int
    body_start: int
    end: int


def def_ranges(text: str) -> list[DefRange]:
    """Every def (nested ones included) with its body lines, innermost last."""
    tree = parse(text)
    if tree is None:
        return []
    out: list[DefRange] = []

    def walk(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = prefix + child.name
                body_start = child.body[0].lineno if child.body else child.lineno
                out.append(DefRange(name, _start(child), body_start, _end(child)))
                walk(child, name + ".")
            elif isinstance(child, ast.ClassDef):
                walk(child, prefix + child.name + ".")
            else:
                walk(child, prefix)

    walk(tree, "")
    return out
