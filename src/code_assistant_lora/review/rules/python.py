"""The python rule pack: reliability and security checks for backend Python.

Every check reads the syntax tree, so comments, strings and docstrings never fire. When the new text
is only partly known (a diff file shows its hunks and blanks elsewhere), each blank-separated
fragment is parsed on its own and indented fragments are parsed as the body of a stand-in function,
so rules that depend on import-time scope stay quiet on code whose scope is unknown.

The tree helpers here (`python_source`, `is_test_path`, `is_script_path`) are shared with the tests
pack.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property, lru_cache, wraps
from typing import NamedTuple

from ...findings import Severity
from ..rule import Check, FileUnderReview, Hit, ReviewContext, Rule, RulePack

Function = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda

_SCRIPT_DIRS = frozenset({"scripts", "bin", "examples"})
_SCRIPT_NAMES = frozenset({"__main__.py", "manage.py", "setup.py", "noxfile.py"})
_TEST_DIRS = frozenset({"tests", "test", "__tests__"})
_JS_TEST_NAME = re.compile(r"\.(?:test|spec|cy)\.[cm]?[jt]sx?$")
FRAGMENT_FUNCTION = "_fragment_"


def is_test_path(path: str) -> bool:
    """Test code: `test_*.py`, `*_test.py`, `conftest.py`, JS/TS `*.test.*`/`*.spec.*`, and
    anything under a `tests/`, `test/` or `__tests__/` folder."""
    *folders, name = path.split("/")
    if _TEST_DIRS.intersection(folders) or name == "conftest.py":
        return True
    if name.endswith(".py"):
        return name.startswith("test_") or name.endswith("_test.py")
    return bool(_JS_TEST_NAME.search(name))


def is_script_path(path: str) -> bool:
    """Scripts and entry points, where printing and import-time reads are the point."""
    *folders, name = path.split("/")
    return name in _SCRIPT_NAMES or bool(_SCRIPT_DIRS.intersection(folders))


class Site(NamedTuple):
    """A node with what its position tells: its parent, the functions around it (innermost last),
    and whether it sits under `if __name__ == "__main__":`, under `if TYPE_CHECKING:`, inside a
    `while` loop of its function, or where an env lookup is guarded (a `try` with handlers or an
    `if` that tests the environment)."""

    node: ast.AST
    parent: ast.AST | None
    funcs: tuple[Function, ...]
    main_guard: bool
    type_checking: bool
    in_while: bool
    env_guarded: bool


@dataclass
class PythonSource:
    """A parsed file: its sites in document order and the names its imports bind."""

    tree: ast.Module
    sites: list[Site] = field(default_factory=list)
    imports: dict[str, str] = field(default_factory=dict)
    # per-scope indexes (name bindings, allowlist checks), built on first use
    memo: dict[tuple[str, int], object] = field(default_factory=dict)

    def name_of(self, node: ast.AST) -> str | None:
        """The dotted name of a Name/Attribute chain, with its root resolved through the imports
        (`sp.run` -> `subprocess.run` after `import subprocess as sp`)."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        parts.append(self.imports.get(node.id, node.id))
        return ".".join(reversed(parts))

    @cached_property
    def calls(self) -> list[tuple[Site, ast.Call, str | None]]:
        """Every call with its site and resolved callee name."""
        return [
            (site, site.node, self.name_of(site.node.func))
            for site in self.sites
            if isinstance(site.node, ast.Call)
        ]

    @cached_property
    def parents(self) -> dict[int, ast.AST]:
        return {id(site.node): site.parent for site in self.sites if site.parent is not None}


def _is_main_guard(test: ast.expr) -> bool:
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and len(test.comparators) == 1
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value == "__main__"
    )


def _mentions_env(test: ast.expr) -> bool:
    return any(
        (isinstance(node, ast.Name) and node.id in ("environ", "getenv"))
        or (isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv"))
        for node in ast.walk(test)
    )


def _parse(text: str) -> ast.Module | None:
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None


def _parse_fragments(text: str) -> ast.Module:
    """Parse each blank-separated run of lines on its own, keeping real line numbers; indented runs
    become the body of a stand-in function."""
    body: list[ast.stmt] = []
    lines = text.splitlines()
    start = 0
    while start < len(lines):
        if not lines[start].strip():
            start += 1
            continue
        end = start
        while end < len(lines) and lines[end].strip():
            end += 1
        chunk = "\n".join(lines[start:end])
        indented = chunk[:1].isspace()
        tree = _parse(f"def {FRAGMENT_FUNCTION}():\n{chunk}" if indented else chunk)
        if tree is not None:
            ast.increment_lineno(tree, start - 1 if indented else start)
            body.extend(tree.body)
        start = end
    return ast.Module(body=body, type_ignores=[])


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _record_import(node: ast.AST, imports: dict[str, str]) -> None:
    if isinstance(node, ast.Import):
        for alias in node.names:
            root = alias.name.split(".", 1)[0]
            imports[alias.asname or root] = alias.name if alias.asname else root
    elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
        for alias in node.names:
            imports[alias.asname or alias.name] = f"{node.module}.{alias.name}"


_SCOPING = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.Lambda,
    ast.Try,
    ast.If,
    ast.IfExp,
    ast.While,
)


# Operator and load/store markers: no check looks at them, and every Name carries one.
_MARKERS = (ast.expr_context, ast.operator, ast.boolop, ast.unaryop, ast.cmpop)


def _children_reversed(node: ast.AST) -> list[ast.AST]:
    """`ast.iter_child_nodes(node)` without the markers, last child first (for the stack)."""
    children: list[ast.AST] = []
    for name in node._fields:
        value = getattr(node, name, None)
        if isinstance(value, ast.AST):
            if not isinstance(value, _MARKERS):
                children.append(value)
        elif isinstance(value, list):
            children.extend(
                item
                for item in value
                if isinstance(item, ast.AST) and not isinstance(item, _MARKERS)
            )
    children.reverse()
    return children


def _collect(tree: ast.Module) -> PythonSource:
    """Walk the tree once (iteratively: deep expressions must not hit the recursion limit)."""
    source = PythonSource(tree=tree)
    stack: list[Site] = [Site(tree, None, (), False, False, False, False)]
    make = tuple.__new__
    while stack:
        site = stack.pop()
        source.sites.append(site)
        node = site.node
        if not isinstance(node, _SCOPING):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                _record_import(node, source.imports)
            rest = site[2:]
            stack.extend(make(Site, (child, node, *rest)) for child in _children_reversed(node))
            continue
        body: set[int] = set()  # children that run inside a new function
        main_body: set[int] = set()
        tc_body: set[int] = set()
        loop_body: set[int] = set()
        guarded: set[int] = set()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = {id(child) for child in node.body}
        elif isinstance(node, ast.Lambda):
            body = {id(node.body)}
        elif isinstance(node, ast.Try) and node.handlers:
            guarded = {id(child) for child in node.body}
        elif isinstance(node, (ast.If, ast.IfExp, ast.While)):
            branches = (
                [*node.body, *node.orelse]
                if isinstance(node, (ast.If, ast.While))
                else [node.body, node.orelse]
            )
            if _mentions_env(node.test):
                guarded = {id(child) for child in branches}
            if isinstance(node, ast.If) and _is_main_guard(node.test):
                main_body = {id(child) for child in node.body}
            if isinstance(node, ast.If) and _is_type_checking(node.test):
                tc_body = {id(child) for child in node.body}
            if isinstance(node, ast.While):
                loop_body = {id(child) for child in node.body}
        for child in _children_reversed(node):
            key = id(child)
            if key in body:
                stack.append(
                    Site(
                        child,
                        node,
                        (*site.funcs, node),
                        site.main_guard,
                        site.type_checking,
                        False,
                        False,
                    )
                )
            else:
                stack.append(
                    Site(
                        child,
                        node,
                        site.funcs,
                        site.main_guard or key in main_body,
                        site.type_checking or key in tc_body,
                        site.in_while or key in loop_body,
                        site.env_guarded or key in guarded,
                    )
                )
    return source


def enclosing_functions(site: Site) -> tuple[Function, ...]:
    """The real functions around a site (the stand-in wrapping an indented fragment is see-through)."""
    return tuple(f for f in site.funcs if getattr(f, "name", None) != FRAGMENT_FUNCTION)


@lru_cache(maxsize=64)
def python_source(file: FileUnderReview) -> PythonSource | None:
    """The file's parsed sites (cached per file), or None when there is no Python to read."""
    if not file.text or "\x00" in file.text:
        return None
    try:
        tree = file.python_ast or _parse_fragments(file.text)
        return _collect(tree)
    except (RecursionError, ValueError, MemoryError):
        return None


def guarded(check: Check) -> Check:
    """A check that stops quietly when pathological input (say, a thousand-term concatenation)
    exhausts the recursion limit, keeping the hits it already found."""

    @wraps(check)
    def run(file: FileUnderReview, context: ReviewContext) -> Iterator[Hit]:
        try:
            yield from check(file, context)
        except RecursionError:
            return

    return run


def _is_library(path: str) -> bool:
    return not (is_test_path(path) or is_script_path(path))


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return None


def _has_splat(call: ast.Call) -> bool:
    return any(keyword.arg is None for keyword in call.keywords)


# --- environment read at import time -------------------------------------------------------


def _use_kind(node: ast.AST, source: PythonSource) -> str | None:
    """How an expression's value is used: "check" (tested, compared, defaulted with `or`),
    "unchecked" (called with, formatted, indexed, concatenated) or None (just stored)."""
    child, parent = node, source.parents.get(id(node))
    while parent is not None:
        if isinstance(parent, (ast.BoolOp, ast.Compare)) or (
            isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.Not)
        ):
            return "check"
        if isinstance(parent, (ast.If, ast.While, ast.IfExp, ast.Assert)) and child is parent.test:
            return "check"
        if isinstance(parent, ast.Call):
            if child is parent.func:
                return None
            return "check" if source.name_of(parent.func) in ("bool", "isinstance") else "unchecked"
        if isinstance(parent, (ast.Attribute, ast.Subscript)) and child is parent.value:
            return "unchecked"
        if isinstance(parent, (ast.BinOp, ast.FormattedValue)):
            return "unchecked"
        if not isinstance(parent, ast.keyword):
            return None
        child, parent = parent, source.parents.get(id(parent))
    return None


def _name_used_unchecked(name: str, source: PythonSource) -> bool:
    kinds = {
        _use_kind(site.node, source)
        for site in source.sites
        if isinstance(site.node, ast.Name)
        and site.node.id == name
        and isinstance(site.node.ctx, ast.Load)
    }
    return "unchecked" in kinds and "check" not in kinds


def _getenv_unchecked(site: Site, source: PythonSource) -> bool:
    kind = _use_kind(site.node, source)
    if kind is not None:
        return kind == "unchecked"
    parent = site.parent
    if isinstance(parent, ast.AnnAssign) and isinstance(parent.target, ast.Name):
        annotation = ast.unparse(parent.annotation)
        if "None" in annotation or "Optional" in annotation:
            return False
        return _name_used_unchecked(parent.target.id, source)
    if (
        isinstance(parent, ast.Assign)
        and len(parent.targets) == 1
        and isinstance(parent.targets[0], ast.Name)
    ):
        return _name_used_unchecked(parent.targets[0].id, source)
    return False


def check_env_read_at_import(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """`os.environ["X"]` at module or class level (KeyError while importing), and
    `os.getenv("X")`/`os.environ.get("X")` with no default at that level whose result is then
    used unchecked (passed on, formatted, indexed). Reads inside functions, under the
    `__main__` guard, in a `try` or an `if` that tests the environment, with a default, or whose
    value is later tested (`if not X: raise ...`) are fine; tests and scripts are skipped."""
    source = python_source(file)
    if source is None or not _is_library(file.path):
        return
    for site in source.sites:
        if site.funcs or site.main_guard or site.env_guarded:
            continue
        node = site.node
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.ctx, ast.Load)
            and source.name_of(node.value) == "os.environ"
        ):
            yield Hit(
                line=node.lineno,
                rationale=f"`{ast.unparse(node)}` runs at import time: a missing variable raises a "
                "bare KeyError while importing, before any configuration error can be reported.",
            )
        elif (
            isinstance(node, ast.Call)
            and source.name_of(node.func) in ("os.getenv", "os.environ.get")
            and len(node.args) == 1
            and not node.keywords
            and _getenv_unchecked(site, source)
        ):
            yield Hit(
                line=node.lineno,
                rationale=f"`{ast.unparse(node)}` is read at import time with no default and used "
                "without a check: a missing variable becomes None and fails far from its cause.",
            )


# --- swallowed exceptions ------------------------------------------------------------------

_BROAD_EXCEPTIONS = frozenset(
    {"Exception", "BaseException", "builtins.Exception", "builtins.BaseException"}
)


def _is_broad(handler: ast.ExceptHandler, source: PythonSource) -> bool:
    if handler.type is None:
        return True
    types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(source.name_of(t) in _BROAD_EXCEPTIONS for t in types)


def _is_fixed_value(node: ast.expr | None) -> bool:
    """None, a constant or an empty collection: a fallback that carries nothing of the error."""
    if node is None or isinstance(node, ast.Constant):
        return True
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return not node.elts
    if isinstance(node, ast.Dict):
        return not node.keys
    return False


def _is_swallowing(statement: ast.stmt) -> bool:
    if isinstance(statement, (ast.Pass, ast.Continue, ast.Break)):
        return True
    if isinstance(statement, ast.Return):
        return _is_fixed_value(statement.value)
    if isinstance(statement, ast.Expr):
        value = statement.value
        if isinstance(value, ast.Constant):
            return True
        return (
            isinstance(value, ast.Call)
            and isinstance(value.func, ast.Attribute)
            and value.func.attr == "debug"
        )
    return False


_SUPPRESS = frozenset({"contextlib.suppress", "suppress"})


def check_broad_except(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """A bare `except:` or `except Exception/BaseException:` whose body only passes, continues,
    breaks, returns a fixed fallback (None, a constant, an empty collection) or logs at debug
    level, and `contextlib.suppress(Exception)`. Handlers that re-raise, log with
    `logger.exception`/`logger.error`, or do any other work, and narrow handlers
    (`except KeyError: pass`, `suppress(FileNotFoundError)`) are fine."""
    source = python_source(file)
    if source is None:
        return
    for _site, call, name in source.calls:
        if name in _SUPPRESS and any(source.name_of(arg) in _BROAD_EXCEPTIONS for arg in call.args):
            yield Hit(
                line=call.lineno,
                rationale=f"`{ast.unparse(call)}` silently discards every error raised in its "
                "block, hiding bugs and failures.",
            )
    for site in source.sites:
        node = site.node
        if (
            isinstance(node, ast.ExceptHandler)
            and _is_broad(node, source)
            and all(_is_swallowing(statement) for statement in node.body)
        ):
            caught = (
                "a bare `except:`" if node.type is None else f"`except {ast.unparse(node.type)}:`"
            )
            yield Hit(
                line=node.lineno,
                rationale=f"{caught} silently swallows every error here, hiding bugs and failures "
                "(a bare except even catches KeyboardInterrupt and SystemExit).",
            )


# --- built strings: shell commands and SQL --------------------------------------------------

_QUOTING = frozenset({"shlex.quote", "shlex.join", "pipes.quote"})
_SQL_SAFE_CALLS = frozenset({"int", "float", "len", "bool"})
_CONSTANT_NAME = re.compile(r"^_*[A-Z][A-Z0-9_]*$")
_PLACEHOLDER = re.compile(r"^\s*(?:\?|%s|%\(\w+\)s|:\w+|\$\d+)\s*,?\s*$")
_SQL_WORDS = re.compile(
    r"\b(?:select|insert\s+into|update|delete\s+from|from|where|values|create|drop|alter|"
    r"join|order\s+by|group\s+by|limit|pragma|truncate)\b",
    re.IGNORECASE,
)
# Generic sink names (`fetch`, `fetch_one`) need the literal text to read as a whole statement.
_SQL_STATEMENT = (
    (re.compile(r"\bselect\b", re.IGNORECASE), re.compile(r"\bfrom\b", re.IGNORECASE)),
    (re.compile(r"\binsert\s+into\b", re.IGNORECASE), None),
    (re.compile(r"\bdelete\s+from\b", re.IGNORECASE), None),
    (re.compile(r"\bupdate\b", re.IGNORECASE), re.compile(r"\bset\b", re.IGNORECASE)),
)


def _reads_as_statement(text: str) -> bool:
    return any(
        first.search(text) and (second is None or second.search(text))
        for first, second in _SQL_STATEMENT
    )


def _scope_of(site: Site, source: PythonSource) -> ast.AST:
    return site.funcs[-1] if site.funcs else source.tree


class _Bindings(NamedTuple):
    """How each plain name is bound in one scope (a function, or the module)."""

    assigned: dict[str, list[ast.expr]]  # `x = v`, `x += v`, `x: T = v`, `a, x = u, v`
    looped: dict[str, list[ast.expr]]  # `for x in v`
    added: dict[str, list[ast.expr]]  # `x.append(v)`, `x.insert(i, v)`, `x.extend(v)`


def _bindings(source: PythonSource, scope: ast.AST) -> _Bindings:
    """One walk of `scope` indexing its name bindings (memoised on the source: many lookups
    share a scope)."""
    key = ("bindings", id(scope))
    if key not in source.memo:
        source.memo[key] = _index_bindings(scope)
    return source.memo[key]  # type: ignore[return-value]


def _index_bindings(scope: ast.AST) -> _Bindings:
    assigned: dict[str, list[ast.expr]] = {}
    looped: dict[str, list[ast.expr]] = {}
    added: dict[str, list[ast.expr]] = {}
    for node in ast.walk(scope):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    assigned.setdefault(target.id, []).append(node.value)
                elif (
                    isinstance(target, (ast.Tuple, ast.List))
                    and isinstance(node.value, (ast.Tuple, ast.List))
                    and len(target.elts) == len(node.value.elts)
                ):
                    for element, value in zip(target.elts, node.value.elts, strict=True):
                        if isinstance(element, ast.Name):
                            assigned.setdefault(element.id, []).append(value)
        elif (
            isinstance(node, (ast.AugAssign, ast.AnnAssign))
            and isinstance(node.target, ast.Name)
            and node.value is not None
        ):
            assigned.setdefault(node.target.id, []).append(node.value)
        elif isinstance(node, (ast.For, ast.AsyncFor)) and isinstance(node.target, ast.Name):
            looped.setdefault(node.target.id, []).append(node.iter)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.attr in ("append", "insert", "extend")
            and node.args
        ):
            added.setdefault(node.func.value.id, []).append(node.args[-1])
    return _Bindings(assigned, looped, added)


def _assigned(source: PythonSource, scope: ast.AST, name: str) -> list[ast.expr]:
    """Values assigned (or augmented) to a plain name anywhere in `scope`, including pairwise
    tuple unpacking (`clauses, params = [], []`)."""
    return _bindings(source, scope).assigned.get(name, [])


def _added_items(source: PythonSource, scope: ast.AST, name: str) -> list[ast.expr]:
    """What `name.append(x)`/`.insert(i, x)`/`.extend(xs)` put into a list in `scope`; an
    `.extend` contributes its iterable (checked as one)."""
    return _bindings(source, scope).added.get(name, [])


def _loop_iterables(source: PythonSource, scope: ast.AST, name: str) -> list[ast.expr]:
    """What a `for` loop in `scope` iterates over to bind `name` as its (whole) target."""
    return _bindings(source, scope).looped.get(name, [])


# Upper-case attributes that hold request input, not constants (Django's `request.GET` & co.)
_REQUEST_DATA = frozenset({"GET", "POST", "COOKIES", "FILES", "META", "REQUEST", "DATA"})


def _is_allowlist(node: ast.expr) -> bool:
    """A fixed collection: an UPPER_CASE name, or a literal set/tuple/list/dict of constants."""
    if isinstance(node, ast.Name):
        return bool(_CONSTANT_NAME.match(node.id))
    if isinstance(node, ast.Attribute):
        return bool(_CONSTANT_NAME.match(node.attr)) and node.attr not in _REQUEST_DATA
    if isinstance(node, (ast.Set, ast.Tuple, ast.List)):
        return bool(node.elts) and all(isinstance(e, ast.Constant) for e in node.elts)
    if isinstance(node, ast.Dict):
        return bool(node.values) and all(isinstance(v, ast.Constant) for v in node.values)
    return False


def _membership_checked(source: PythonSource, scope: ast.AST) -> frozenset[str]:
    """Names tested against a fixed collection in `scope` (`if col not in ALLOWED: raise`)."""
    key = ("membership", id(scope))
    if key not in source.memo:
        source.memo[key] = _index_membership(scope)
    return source.memo[key]  # type: ignore[return-value]


def _index_membership(scope: ast.AST) -> frozenset[str]:
    names = set()
    for node in ast.walk(scope):
        if (
            isinstance(node, ast.Compare)
            and isinstance(node.left, ast.Name)
            and len(node.ops) == 1
            and isinstance(node.ops[0], (ast.In, ast.NotIn))
            and _is_allowlist(node.comparators[0])
        ):
            names.add(node.left.id)
    return frozenset(names)


_SCALAR_TYPES = frozenset({"int", "float", "bool", "Decimal", "UUID"})


def _is_scalar_param(scope: ast.AST, name: str) -> bool:
    """A parameter annotated as a number or UUID (`page: int`): formatting it cannot inject
    quotes."""
    if not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    arguments = scope.args
    for arg in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs):
        if arg.arg == name:
            annotation = arg.annotation
            if isinstance(annotation, ast.Attribute):
                return annotation.attr in _SCALAR_TYPES
            return isinstance(annotation, ast.Name) and annotation.id in _SCALAR_TYPES
    return False


def _attribute_bindings(source: PythonSource, function: ast.AST) -> dict[str, list[ast.expr]]:
    """For the class whose method `function` is: each attribute's bound values, from class bodies
    (`table = "users"`, subclasses in this file included) and `self.table = ...` in its
    methods. Empty outside a class."""
    key = ("attributes", id(function))
    if key in source.memo:
        return source.memo[key]  # type: ignore[return-value]
    classes = [
        node
        for node in ast.walk(source.tree)
        if isinstance(node, ast.ClassDef) and any(item is function for item in node.body)
    ]
    found: dict[str, list[ast.expr]] = {}
    if classes:
        owner = classes[0]
        family = [owner] + [
            node
            for node in ast.walk(source.tree)
            if isinstance(node, ast.ClassDef)
            and any(isinstance(b, ast.Name) and b.id == owner.name for b in node.bases)
        ]
        for cls in family:
            for item in cls.body:
                if isinstance(item, ast.Assign):
                    for target in item.targets:
                        if isinstance(target, ast.Name):
                            found.setdefault(target.id, []).append(item.value)
                elif (
                    isinstance(item, ast.AnnAssign)
                    and isinstance(item.target, ast.Name)
                    and item.value is not None
                ):
                    found.setdefault(item.target.id, []).append(item.value)
        for node in ast.walk(owner):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    attr = _receiver_key(target) if isinstance(target, ast.Attribute) else None
                    if attr and attr.startswith("self."):
                        found.setdefault(attr[5:], []).append(node.value)
    source.memo[key] = found
    return found


class _Builder:
    """Decides whether a string expression is built from runtime values. `safe` says which
    interpolated values are harmless for the sink at hand (quoted for a shell, a placeholder list
    or a number for SQL; for both: constants, values looked up in or checked against a fixed
    allowlist); a name is followed to the values assigned to it in its scope."""

    def __init__(self, source: PythonSource, scope: ast.AST, sql: bool) -> None:
        self.source = source
        self.scope = scope
        self.sql = sql
        self._resolving: set[str] = set()
        self._bound: set[str] = set()  # comprehension targets over a safe iterable

    def _resolve(self, name: str) -> bool:
        """A name whose every binding in scope is safe: assignments of safe values and `for`
        loops over safe iterables (`for col in ("a", "b")`)."""
        if name in self._resolving:
            return False
        self._resolving.add(name)
        try:
            values = _assigned(self.source, self.scope, name)
            loops = _loop_iterables(self.source, self.scope, name)
            return (
                bool(values or loops)
                and all(self._safe_value(value) for value in values)
                and all(self._safe_iterable(iterable) for iterable in loops)
            )
        finally:
            self._resolving.discard(name)

    def _resolve_attribute(self, attr: str) -> bool:
        """`self.attr` whose every binding in the class (and its subclasses in this file) is safe:
        `table = "users"` in the class body, `self.table = "users"` in a method."""
        if _CONSTANT_NAME.match(attr):
            return True
        values = _attribute_bindings(self.source, self.scope).get(attr, [])
        key = f"self.{attr}"
        if not values or key in self._resolving:
            return False
        self._resolving.add(key)
        try:
            # values are judged without following names: those belong to another method's scope
            return all(
                isinstance(value, (ast.Constant, ast.Attribute, ast.Subscript))
                or (isinstance(value, ast.Name) and _CONSTANT_NAME.match(value.id))
                for value in values
            ) and all(self._safe_value(value) for value in values)
        finally:
            self._resolving.discard(key)

    def _safe_value(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Constant):
            return True
        if isinstance(node, ast.Name):
            if _CONSTANT_NAME.match(node.id) or node.id in self._bound:
                return True
            if self.sql and "placeholder" in node.id.lower():
                return True
            if node.id in _membership_checked(self.source, self.scope):
                return True
            if _is_scalar_param(self.scope, node.id):
                return True
            return self._resolve(node.id)
        if isinstance(node, ast.Attribute):
            key = _receiver_key(node)
            if key is not None and key.startswith("self."):
                return self._resolve_attribute(key[5:])
            # `Model.TABLE`, `self.SORT_COLUMN`, `Status.ACTIVE.value`, `Model._meta.db_table`
            chain = node
            while isinstance(chain, ast.Attribute):
                if _is_allowlist(chain) or chain.attr == "_meta":
                    return True
                chain = chain.value
            return False
        if isinstance(node, ast.Subscript):
            return _is_allowlist(node.value)  # `COLUMNS[key]`
        if isinstance(node, ast.IfExp):
            return self._safe_value(node.body) and self._safe_value(node.orelse)
        if isinstance(node, (ast.JoinedStr, ast.BinOp)):
            return not self.unsafe_parts(node)
        if isinstance(node, ast.Call):
            name = self.source.name_of(node.func)
            if name in (_SQL_SAFE_CALLS if self.sql else _QUOTING):
                return True
            func = node.func
            if isinstance(func, ast.Attribute):
                if func.attr == "get" and _is_allowlist(func.value):  # `SORTABLE.get(key)`
                    return all(self._safe_value(arg) for arg in node.args[1:])
                if func.attr == "join" and len(node.args) == 1:
                    return self._safe_iterable(node.args[0])
                if func.attr == "format" and isinstance(func.value, ast.Constant):
                    return not self.unsafe_parts(node)
        return False

    def _safe_iterable(self, node: ast.expr) -> bool:
        """An iterable whose items are all safe: a placeholder string or list, a fixed
        collection, a comprehension over one, or a list built only from safe items."""
        if self.sql and any(
            isinstance(c, ast.Constant) and isinstance(c.value, str) and _PLACEHOLDER.match(c.value)
            for c in ast.walk(node)
        ):
            return True
        if isinstance(node, ast.Constant) or _is_allowlist(node):
            return True
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            return all(self._safe_value(e) for e in node.elts)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
            return self._safe_iterable(node.left)
        if isinstance(node, (ast.GeneratorExp, ast.ListComp, ast.SetComp)):
            if not all(self._safe_iterable(g.iter) for g in node.generators):
                return self._safe_value(node.elt)
            targets = {
                n.id for g in node.generators for n in ast.walk(g.target) if isinstance(n, ast.Name)
            }
            added = targets - self._bound
            self._bound |= added
            try:
                return self._safe_value(node.elt)
            finally:
                self._bound -= added
        if isinstance(node, ast.Name):
            if node.id in self._resolving:
                return False
            self._resolving.add(node.id)
            try:
                values = _assigned(self.source, self.scope, node.id)
                return (
                    bool(values)
                    and all(self._safe_iterable(value) for value in values)
                    and all(
                        self._safe_value(item) or self._safe_iterable(item)
                        for item in _added_items(self.source, self.scope, node.id)
                    )
                )
            finally:
                self._resolving.discard(node.id)
        return False

    def unsafe_parts(self, node: ast.expr) -> list[ast.expr]:
        """The runtime values that `node` formats, interpolates or concatenates unsafely."""
        if isinstance(node, ast.JoinedStr):
            return [
                part.value
                for part in node.values
                if isinstance(part, ast.FormattedValue) and not self._safe_value(part.value)
            ]
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
            right = node.right
            if isinstance(node.op, ast.Mod) and isinstance(right, ast.Tuple):
                operands = right.elts
            elif isinstance(node.op, ast.Mod) and isinstance(right, ast.Dict):
                operands = right.values
            else:
                operands = [right]
            found: list[ast.expr] = []
            for part in [node.left, *operands]:
                if isinstance(part, (ast.BinOp, ast.JoinedStr)):
                    found.extend(self.unsafe_parts(part))
                elif not self._safe_value(part):
                    found.append(part)
            return found
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format"
            and isinstance(node.func.value, (ast.Constant, ast.Name, ast.Attribute))
        ):  # "...".format(x), and a template constant: QUERY.format(name=x)
            values = [*node.args, *(keyword.value for keyword in node.keywords)]
            return [value for value in values if not self._safe_value(value)]
        return []

    def text_of(self, node: ast.expr) -> str:
        """The literal text of a query expression, with the text of the template names it uses
        (`QUERY % x`, `QUERY.format(...)`) bound in its scope or at module level."""
        parts = [_literal_text(node)]
        for child in ast.walk(node):
            if isinstance(child, ast.Name) and child.id not in self._resolving:
                values = _assigned(self.source, self.scope, child.id) or _assigned(
                    self.source, self.source.tree, child.id
                )
                parts.extend(
                    _literal_text(value)
                    for value in values
                    if isinstance(value, (ast.Constant, ast.JoinedStr, ast.BinOp))
                )
        return " ".join(parts)

    def built(self, node: ast.expr) -> bool:
        """Whether `node` formats, interpolates or concatenates an unsafe runtime value."""
        return bool(self.unsafe_parts(node))

    def dynamic(self, node: ast.expr) -> bool:
        """For a shell command: anything but a literal or a name bound only to literals."""
        if isinstance(node, (ast.JoinedStr, ast.BinOp)) or (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format"
        ):
            return self.built(node)
        return not self._safe_value(node)


def _literal_text(node: ast.AST) -> str:
    return " ".join(
        child.value
        for child in ast.walk(node)
        if isinstance(child, ast.Constant) and isinstance(child.value, str)
    )


_SHELL_ALWAYS = frozenset(
    {
        "os.system",
        "os.popen",
        "subprocess.getoutput",
        "subprocess.getstatusoutput",
        "asyncio.create_subprocess_shell",
    }
)
_SHELL_OPTIONAL = frozenset(
    {
        "subprocess.run",
        "subprocess.call",
        "subprocess.check_call",
        "subprocess.check_output",
        "subprocess.Popen",
        "asyncio.create_subprocess_exec",
    }
)
_SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "/bin/sh", "/bin/bash", "/usr/bin/env"})


def _shell_c_script(command: ast.expr) -> ast.expr | None:
    """The script of an argv that runs a shell on a string: `["bash", "-c", script, ...]`."""
    if not isinstance(command, (ast.List, ast.Tuple)):
        return None
    words = command.elts
    if not words or not (isinstance(words[0], ast.Constant) and words[0].value in _SHELLS):
        return None
    for index, word in enumerate(words[:-1]):
        if isinstance(word, ast.Constant) and isinstance(word.value, str):
            if word.value.startswith("-") and "c" in word.value.lstrip("-"):
                return words[index + 1]
    return None


def check_shell_injection(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """`subprocess.*(..., shell=True)`, `os.system`, `os.popen` and friends whose command is built
    at runtime (f-string, concatenation, `%`, `.format`, a join of runtime values, or a variable
    not bound to a literal), and argument lists that hand a built string to `sh -c`/`bash -c`.
    Literal commands, names bound only to literals, values passed through `shlex.quote`, and
    argument lists without `shell=True` are fine."""
    source = python_source(file)
    if source is None:
        return
    for site, call, name in source.calls:
        command = call.args[0] if call.args else _keyword(call, "args") or _keyword(call, "cmd")
        if name == "asyncio.create_subprocess_exec":
            command = ast.List(elts=list(call.args), ctx=ast.Load())
        if name in _SHELL_OPTIONAL:
            shell = _keyword(call, "shell")
            script = _shell_c_script(command) if command is not None else None
            if script is not None:
                command = script
            elif not (isinstance(shell, ast.Constant) and shell.value is True):
                continue
        elif name not in _SHELL_ALWAYS:
            continue
        if command is None or isinstance(command, (ast.List, ast.Tuple, ast.Starred)):
            continue
        if _Builder(source, _scope_of(site, source), sql=False).dynamic(command):
            yield Hit(
                line=call.lineno,
                end_line=call.end_lineno,
                rationale=f"`{name}` runs `{ast.unparse(command)[:80]}` through a shell: any "
                "runtime value in it can inject shell commands.",
            )


_SQL_METHODS = frozenset(
    {
        "execute",
        "executemany",
        "executescript",
        "exec_driver_sql",
        "raw",
        "read_sql",
        "read_sql_query",
    }
)
# asyncpg and `databases` read methods: generic names, so the text must read as a statement
_SQL_FETCH_METHODS = frozenset(
    {"fetch", "fetchrow", "fetchval", "fetch_all", "fetch_one", "fetch_val", "iterate"}
)
_SQL_TEXT = frozenset(
    {"text", "sqlalchemy.text", "sqlalchemy.sql.text", "sqlalchemy.sql.expression.text"}
)
_RAW_SQL = frozenset({"RawSQL", "django.db.models.expressions.RawSQL"})
_EXTRA_SQL_KEYWORDS = ("where", "select", "tables", "order_by")


def _sql_fragments(call: ast.Call, name: str | None) -> Iterator[tuple[ast.expr, str]]:
    """The SQL a call runs, with how strictly its literal text must read as SQL: "words" (some SQL
    keyword), "statement" (a whole statement) or "any" (the sink is SQL by itself)."""
    method = call.func.attr if isinstance(call.func, ast.Attribute) else None
    if name in _SQL_TEXT and call.args:
        yield call.args[0], "words"
    elif (name in _RAW_SQL or (name or "").endswith(".RawSQL")) and call.args:
        yield call.args[0], "any"
    elif method in _SQL_METHODS and call.args:
        yield call.args[0], "words"
    elif method in _SQL_FETCH_METHODS and call.args:
        yield call.args[0], "statement"
    elif method == "extra":  # Django QuerySet.extra(where=[...], select={...}, tables=[...])
        for keyword in call.keywords:
            if keyword.arg in _EXTRA_SQL_KEYWORDS:
                value = keyword.value
                if isinstance(value, (ast.List, ast.Tuple)):
                    yield from ((element, "any") for element in value.elts)
                elif isinstance(value, ast.Dict):
                    yield from ((element, "any") for element in value.values)


def _query_reads_as_sql(builder: _Builder, nodes: list[ast.expr], strictness: str) -> bool:
    """Whether the literal text of a query reads as SQL; text borrowed from template names
    (`QUERY.format(...)`) must read as a whole statement."""
    if _reads_as_sql(" ".join(_literal_text(node) for node in nodes), strictness):
        return True
    borrowed = " ".join(builder.text_of(node) for node in nodes)
    return _reads_as_sql(borrowed, "statement" if strictness == "words" else strictness)


def _reads_as_sql(text: str, strictness: str) -> bool:
    if strictness == "any":
        return True
    if strictness == "statement":
        return _reads_as_statement(text)
    return bool(_SQL_WORDS.search(text))


def check_sql_injection(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """SQL built with f-strings, `%`, `.format` or `+` from runtime values and passed to
    `.execute`/`.executemany`/`.executescript`/`.exec_driver_sql`/`.raw`/`read_sql`, asyncpg-style
    `.fetch`/`.fetchrow`/`.fetchval`, SQLAlchemy `text()`, Django `RawSQL` or `QuerySet.extra()`,
    directly or through a variable assigned in the same function. Parameterised queries
    (`execute("... %s", (x,))`), interpolated constants, numbers cast with `int()`, placeholder
    lists (`", ".join("?" * n)`), values looked up in or checked against a fixed allowlist, and
    WHERE clauses joined from fixed fragments are fine; the literal parts must read as SQL.

    A query built inline is reported on the call, spanning its arguments. A query built in
    separate statements is reported where each runtime value goes in (where the fix goes),
    spanning to the call that runs it: each separately built piece is its own finding. When
    those lines are unchanged, the finding moves to a changed line of the flow."""
    source = python_source(file)
    if source is None:
        return
    for site, call, name in source.calls:
        for query, strictness in _sql_fragments(call, name):
            builder = _Builder(source, _scope_of(site, source), sql=True)
            culprits: list[tuple[ast.expr, list[ast.expr]]] = []
            if isinstance(query, ast.Name):
                values = _assigned(source, builder.scope, query.id)
                if _query_reads_as_sql(builder, values, strictness):
                    culprits = [(v, parts) for v in values if (parts := builder.unsafe_parts(v))]
            elif (parts := builder.unsafe_parts(query)) and _query_reads_as_sql(
                builder, [query], strictness
            ):
                culprits = [(query, parts)]
            reported: set[int] = set()
            for culprit, parts in culprits:
                interpolations = sorted({part.lineno for part in parts})
                if culprit is query:  # built inline: the call (which spans it) is the place
                    candidates = [call.lineno, *interpolations]
                else:  # built in its own statement: the place is where the value goes in
                    candidates = [*interpolations, culprit.lineno, call.lineno]
                line = next((n for n in candidates if file.is_changed(n)), call.lineno)
                if line in reported:
                    continue
                reported.add(line)
                end = max(call.end_lineno or call.lineno, culprit.end_lineno or culprit.lineno)
                yield Hit(
                    line=line,
                    end_line=max(end, line),
                    rationale=f"The SQL passed to `{ast.unparse(call.func)}` is built from runtime "
                    f"values (`{ast.unparse(parts[0])[:60]}` in `{ast.unparse(culprit)[:80]}`): "
                    "an attacker-controlled value can rewrite the query.",
                )


# --- mutable default arguments ---------------------------------------------------------------

_MUTABLE_CALLS = frozenset(
    {
        "list",
        "dict",
        "set",
        "bytearray",
        "collections.defaultdict",
        "collections.OrderedDict",
        "collections.Counter",
        "collections.deque",
    }
)


def check_mutable_default(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """A `def`/`async def` default that is a list, dict or set (literal, comprehension or
    `list()`/`dict()`/`set()` call): it is created once and shared by every call. Immutable
    defaults (None, tuples, frozensets, strings) and framework markers like `Query([])` are fine."""
    source = python_source(file)
    if source is None:
        return
    for site in source.sites:
        node = site.node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        positional = [*node.args.posonlyargs, *node.args.args]
        pairs = list(
            zip(
                positional[len(positional) - len(node.args.defaults) :],
                node.args.defaults,
                strict=True,
            )
        )
        pairs += [
            (arg, default)
            for arg, default in zip(node.args.kwonlyargs, node.args.kw_defaults, strict=True)
            if default
        ]
        for arg, default in pairs:
            mutable = isinstance(
                default, (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)
            ) or (isinstance(default, ast.Call) and source.name_of(default.func) in _MUTABLE_CALLS)
            if mutable:
                yield Hit(
                    line=default.lineno,
                    rationale=f"`{arg.arg}={ast.unparse(default)}` in `{node.name}()` is evaluated "
                    "once: every call shares (and can mutate) the same object.",
                    suggested_fix=f"Default `{arg.arg}` to None and create the "
                    f"{ast.unparse(default)} inside `{node.name}()`.",
                )


# --- HTTP calls without a timeout -------------------------------------------------------------

_HTTP_VERBS = ("get", "post", "put", "patch", "delete", "head", "options", "request")
_HTTP_CALLS = frozenset(
    f"{module}.{verb}" for module in ("requests", "httpx") for verb in _HTTP_VERBS
) | {"httpx.stream"}
_HTTPX_CLIENTS = frozenset({"httpx.Client", "httpx.AsyncClient"})
_URLOPEN = frozenset({"urllib.request.urlopen", "urllib2.urlopen"})
_SESSION_FACTORIES = frozenset(
    {"requests.Session", "requests.session", "requests.sessions.Session"}
)


def _is_none(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _receiver_key(node: ast.expr) -> str | None:
    """`session` or `self.session` (the only receivers a session binding is tracked through)."""
    if isinstance(node, ast.Name):
        return node.id
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in ("self", "cls")
    ):
        return f"self.{node.attr}"
    return None


class _SessionScopes:
    """Where plain `requests.Session()` objects are bound: a local or module name in its function
    (or module), a `self.x` attribute in its class, also through a helper that builds and returns
    one (`self.http = _make_session()`). A session that gets an adapter mounted or its `request`
    replaced anywhere in the file may carry a default timeout, so it is not tracked."""

    def __init__(self, source: PythonSource) -> None:
        self.source = source
        self.class_of: dict[int, int] = {}
        for node in ast.walk(source.tree):
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        self.class_of[id(item)] = id(node)
        bindings: list[tuple[Site, str, ast.Call]] = []  # (site, receiver key, value)
        configured: set[tuple[int, str]] = set()
        returns: list[tuple[Site, ast.Name]] = []
        for site in source.sites:
            node = site.node
            pairs: list[tuple[ast.expr, ast.expr]] = []
            if isinstance(node, ast.Assign):
                pairs = [(target, node.value) for target in node.targets]
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                pairs = [(node.target, node.value)]
            elif isinstance(node, ast.withitem) and node.optional_vars is not None:
                pairs = [(node.optional_vars, node.context_expr)]
            elif isinstance(node, ast.Return) and isinstance(node.value, ast.Name):
                returns.append((site, node.value))
            for target, value in pairs:
                if isinstance(target, ast.Attribute) and target.attr == "request":
                    key = _receiver_key(target.value)
                    if key:
                        configured.add(self.owner(site, key))
                if isinstance(value, ast.Call) and (key := _receiver_key(target)):
                    bindings.append((site, key, value))
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "mount"
                and (key := _receiver_key(node.func.value))
            ):
                configured.add(self.owner(site, key))
        self.bound = {
            self.owner(site, key)
            for site, key, value in bindings
            if source.name_of(value.func) in _SESSION_FACTORIES
        } - configured
        # helpers returning a tracked session: `def _session(): s = requests.Session(); return s`
        factories = set()
        for site, name in returns:
            funcs = enclosing_functions(site)
            if funcs and self.owner(site, name.id) in self.bound:
                function = funcs[-1]
                method = id(function) in self.class_of
                factories.add(f"self.{function.name}" if method else function.name)
        if factories:
            self.bound |= {
                self.owner(site, key)
                for site, key, value in bindings
                if _receiver_key(value.func) in factories
            } - configured

    def owner(self, site: Site, key: str) -> tuple[int, str]:
        funcs = enclosing_functions(site)
        if key.startswith("self."):
            return (self.class_of.get(id(funcs[-1]), 0) if funcs else 0, key)
        return (id(funcs[-1]) if funcs else id(self.source.tree), key)

    def is_session(self, site: Site, receiver: ast.expr) -> bool:
        key = _receiver_key(receiver)
        if key is None or not self.bound:
            return False
        if self.owner(site, key) in self.bound:
            return True
        if key.startswith("self."):
            return False
        # a module-level session used inside a function that does not rebind the name
        funcs = enclosing_functions(site)
        if (id(self.source.tree), key) not in self.bound:
            return False
        return not any(
            key in {a.arg for a in ast.walk(f.args) if isinstance(a, ast.arg)}
            or _assigned(self.source, f, key)
            for f in funcs
        )


def check_http_timeout(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """HTTP calls that can block forever: `requests.<verb>`/`httpx.<verb>` and
    `urllib.request.urlopen` with no timeout, calls on a plain `requests.Session()` bound in the
    file (a Session has no default timeout) with no timeout, and any of these, or an
    `httpx.Client`/`AsyncClient`, given `timeout=None`. Calls that pass `**kwargs` (the timeout may
    be inside), httpx clients (they default to 5 seconds) and sessions that get an adapter mounted
    (it may apply a default) are fine."""
    source = python_source(file)
    if source is None:
        return
    sessions: _SessionScopes | None = None
    for site, call, name in source.calls:
        timeout = _keyword(call, "timeout")
        if name in _HTTPX_CLIENTS:
            if _is_none(timeout):
                yield Hit(
                    line=call.lineno,
                    rationale=f"`{name}(timeout=None)` disables httpx's default timeout: a server "
                    "that stops answering blocks every request made through this client.",
                )
            continue
        if _is_none(timeout) and (name in _HTTP_CALLS or name in _URLOPEN):
            yield Hit(
                line=call.lineno,
                rationale=f"`{name}(timeout=None)` waits forever for a server that stops answering.",
            )
            continue
        if timeout is not None or _has_splat(call):
            continue
        if name in _HTTP_CALLS or (name in _URLOPEN and len(call.args) < 3):
            yield Hit(
                line=call.lineno,
                rationale=f"`{name}()` has no timeout: a server that stops answering blocks this "
                "call (and its worker) indefinitely.",
            )
        elif isinstance(call.func, ast.Attribute) and call.func.attr in _HTTP_VERBS:
            if sessions is None:
                sessions = _SessionScopes(source)
            if sessions.is_session(site, call.func.value):
                yield Hit(
                    line=call.lineno,
                    rationale=f"`{ast.unparse(call.func)}()` has no timeout and a requests Session "
                    "has no default one: a server that stops answering blocks this call forever.",
                )


# --- unsafe deserialization --------------------------------------------------------------------

_SAFE_LOADER_NAMES = frozenset({"SafeLoader", "CSafeLoader", "BaseLoader", "CBaseLoader"})
_UNSAFE_LOADER_NAMES = frozenset(
    {"Loader", "CLoader", "UnsafeLoader", "CUnsafeLoader", "FullLoader", "CFullLoader"}
)
_PICKLE_LOADS = frozenset(
    f"{module}.{function}"
    for module in ("pickle", "cPickle", "_pickle", "dill", "cloudpickle")
    for function in ("load", "loads")
) | {"jsonpickle.decode", "jsonpickle.loads"}


def check_yaml_load(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """`yaml.load`/`yaml.load_all` without a safe Loader (SafeLoader, CSafeLoader, BaseLoader),
    and `yaml.unsafe_load`/`full_load` (and their `_all` forms): YAML tags can construct arbitrary Python objects.
    A Loader given as an unknown name (a project subclass) is not flagged; tests are skipped."""
    source = python_source(file)
    if source is None or is_test_path(file.path):
        return
    for _site, call, name in source.calls:
        if name in (
            "yaml.unsafe_load",
            "yaml.unsafe_load_all",
            "yaml.full_load",
            "yaml.full_load_all",
        ):
            unsafe = True
        elif name in ("yaml.load", "yaml.load_all"):
            loader = _keyword(call, "Loader") or (call.args[1] if len(call.args) > 1 else None)
            loader_name = source.name_of(loader) if loader is not None else None
            last = loader_name.rsplit(".", 1)[-1] if loader_name else None
            unsafe = (loader is None and not _has_splat(call)) or last in _UNSAFE_LOADER_NAMES
        else:
            continue
        if unsafe:
            yield Hit(
                line=call.lineno,
                rationale=f"`{ast.unparse(call.func)}` without a safe loader can build arbitrary "
                "Python objects from YAML tags: loading untrusted YAML runs code.",
            )


def check_pickle_load(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """`pickle.load(s)` (also cPickle, dill, cloudpickle and `jsonpickle.decode`): unpickling runs code chosen by whoever wrote the
    data. A round trip of our own object (`pickle.loads(pickle.dumps(x))`) and tests are fine."""
    source = python_source(file)
    if source is None or is_test_path(file.path):
        return
    for _site, call, name in source.calls:
        if name not in _PICKLE_LOADS:
            continue
        data = call.args[0] if call.args else None
        if isinstance(data, ast.Call) and (source.name_of(data.func) or "").endswith(".dumps"):
            continue
        yield Hit(
            line=call.lineno,
            rationale=f"`{name}()` executes code embedded in the data it loads: never unpickle "
            "data that could come from outside the process.",
        )


# --- debugging left in ---------------------------------------------------------------------------

_DEBUGGERS = frozenset(
    {
        "breakpoint",
        "pdb.set_trace",
        "ipdb.set_trace",
        "pudb.set_trace",
        "rpdb.set_trace",
        "remote_pdb.set_trace",
        "web_pdb.set_trace",
        "IPython.embed",
        "IPython.terminal.embed.embed",
        "code.interact",
    }
)
_CLI_DECORATORS = frozenset({"command", "group"})


def _is_entry_point(function: Function, source: PythonSource) -> bool:
    if isinstance(function, ast.Lambda):
        return False
    if function.name == "main":
        return True
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = source.name_of(target) or ""
        if name.rsplit(".", 1)[-1] in _CLI_DECORATORS:
            return True
    return False


def _is_cli_path(path: str) -> bool:
    return (
        path.endswith("/cli.py")
        or path == "cli.py"
        or "/cli/" in f"/{path}"
        or "management/commands/" in path
    )


_PPRINT_CALLS = frozenset({"pprint.pprint", "pprint.pp"})


_ARGV_PARSERS = frozenset({"argparse", "click", "typer", "fire", "docopt", "getopt"})


def _is_command_line_script(source: PythonSource) -> bool:
    """A module run as a program: it has a `__main__` guard and reads its command line (argparse,
    click, typer, fire, docopt, getopt or `sys.argv`), wherever it lives."""
    if not any(isinstance(node, ast.If) and _is_main_guard(node.test) for node in source.tree.body):
        return False
    if any(target.split(".", 1)[0] in _ARGV_PARSERS for target in source.imports.values()):
        return True
    return any(
        isinstance(site.node, ast.Attribute) and source.name_of(site.node) == "sys.argv"
        for site in source.sites
    )


def check_print(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """`print(...)` (and `pprint.pprint`/`pp`) in library code. Tests, scripts (by folder, or a
    module with a `__main__` guard that parses its command line), CLI modules, `__main__` blocks,
    `main()` functions, click/typer commands and prints to an explicit `file=` are output on
    purpose."""
    source = python_source(file)
    if source is None or not _is_library(file.path) or _is_cli_path(file.path):
        return
    script: bool | None = None
    for site, call, name in source.calls:
        if not (
            (isinstance(call.func, ast.Name) and call.func.id == "print") or name in _PPRINT_CALLS
        ):
            continue
        if site.main_guard or _keyword(call, "file") is not None:
            continue
        if any(_is_entry_point(function, source) for function in site.funcs):
            continue
        if script is None:
            script = _is_command_line_script(source)
        if script:
            return
        yield Hit(line=call.lineno)


def check_debugger(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """`breakpoint()`, `pdb.set_trace()` (and ipdb/pudb), `IPython.embed()` and `code.interact()`
    anywhere: a committed debugger stops the process waiting for input, hanging CI and servers.
    Post-mortem hooks are not flagged."""
    source = python_source(file)
    if source is None:
        return
    for _site, call, name in source.calls:
        if name in _DEBUGGERS:
            yield Hit(
                line=call.lineno,
                rationale=f"`{ast.unparse(call.func)}()` was left in: it stops "
                "the process at this line waiting for a debugger or shell, hanging CI and servers.",
            )


# --- assert as validation ------------------------------------------------------------------------


def _validated_params(test: ast.expr, params: set[str]) -> list[str]:
    """The parameters an assert tests, directly or through their attributes (`user.is_staff`,
    `amount <= order.total`), unless the assert is plain None-narrowing (`assert x is not None`,
    `assert config.cache is not None`)."""
    if (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.IsNot)
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value is None
    ):
        return []
    return sorted({n.id for n in ast.walk(test) if isinstance(n, ast.Name) and n.id in params})


# Framework globals holding the current request and user (Flask's `request`, `g`, flask-login's
# `current_user`): an assert on them checks input or permissions, never an internal invariant.
_REQUEST_STATE = frozenset({"request", "current_user", "g"})
_HANDLER_DECORATORS = frozenset(
    {
        "route",
        "get",
        "post",
        "put",
        "patch",
        "delete",
        "api_view",
        "action",
        "login_required",
        "permission_required",
        "require_http_methods",
        "require_POST",
        "require_GET",
    }
)


def _env_bound_names(source: PythonSource) -> set[str]:
    """Module-level names assigned from an environment read (`API_KEY = os.getenv(...)`)."""
    return {
        target.id
        for statement in source.tree.body
        if isinstance(statement, (ast.Assign, ast.AnnAssign))
        and statement.value is not None
        and _mentions_env(statement.value)
        for target in (
            statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        )
        if isinstance(target, ast.Name)
    }


def _names_in(node: ast.expr) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _is_handler(function: Function, source: PythonSource) -> bool:
    """A web request handler: a route/view decorator, or a `request` parameter."""
    if isinstance(function, ast.Lambda):
        return False
    if any(arg.arg == "request" for arg in function.args.args):
        return True
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = source.name_of(target) or ""
        if name.rsplit(".", 1)[-1] in _HANDLER_DECORATORS:
            return True
    return False


def check_assert_validation(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """`assert` on a parameter of a public function or method in library code, on the current
    request or user (`request`, `current_user`, `g`), on anything inside a web request handler,
    or at import time on configuration read from the environment:
    `python -O` strips it, so the validation disappears in optimised deployments.
    `assert isinstance(arg, T)` counts too (it checks the caller's input, not an internal
    invariant). Skipped as invariants or type
    narrowing: `assert arg is not None` and `assert config.cache is not None`, asserts that do
    not involve a parameter, private helpers (`_name`), nested functions, `if TYPE_CHECKING`
    blocks, tests and scripts."""
    source = python_source(file)
    if source is None or not _is_library(file.path):
        return
    env_names: set[str] | None = None
    for site in source.sites:
        node = site.node
        if not isinstance(node, ast.Assert) or site.type_checking:
            continue
        funcs = enclosing_functions(site)
        if not funcs and not site.funcs and not site.main_guard:
            # import-time configuration checks: `assert API_KEY, "API_KEY must be set"`
            if env_names is None:
                env_names = _env_bound_names(source)
            if _mentions_env(node.test) or _names_in(node.test) & env_names:
                yield Hit(
                    line=node.lineno,
                    rationale="`assert` validates configuration read from the environment; "
                    "asserts are removed under `python -O`, so the check silently disappears.",
                )
            continue
        if len(funcs) != 1:
            continue
        function = funcs[0]
        if isinstance(function, ast.Lambda):
            continue
        if function.name.startswith("_") and not function.name.endswith("__"):
            continue
        arguments = function.args
        params = {
            arg.arg
            for arg in [
                *arguments.posonlyargs,
                *arguments.args,
                *arguments.kwonlyargs,
                arguments.vararg,
                arguments.kwarg,
            ]
            if arg is not None and arg.arg not in ("self", "cls")
        }
        checked = _validated_params(node.test, params | _REQUEST_STATE)
        if not checked and _is_handler(function, source):
            checked = _validated_params(node.test, _names_in(node.test))
        if checked:
            yield Hit(
                line=node.lineno,
                rationale=f"`assert` validates `{checked[0]}` in `{function.name}()`; asserts are "
                "removed under `python -O`, so the check silently disappears.",
            )


# --- the pack -------------------------------------------------------------------------------------

PACK = RulePack(
    name="python",
    matches=lambda path: path.endswith((".py", ".pyi")),
    checks=(
        (
            Rule(
                id="python.env-read-at-import",
                category="env-read-at-import",
                severity=Severity.MEDIUM,
                rationale="An environment variable read at import time without a default or "
                "validation crashes (or yields None) while importing, far from a clear error.",
                suggested_fix="Read configuration in a settings function or object that validates it "
                "and raises a clear error naming the variable, or give it a default.",
            ),
            guarded(check_env_read_at_import),
        ),
        (
            Rule(
                id="python.broad-except-swallowed",
                category="swallowed-exception",
                severity=Severity.MEDIUM,
                rationale="A broad except that only passes hides every error, including bugs, so "
                "failures go unnoticed.",
                suggested_fix="Catch the specific exceptions you expect, and log with "
                "`logger.exception(...)` or re-raise anything else.",
            ),
            guarded(check_broad_except),
        ),
        (
            Rule(
                id="python.shell-injection",
                category="shell-injection",
                severity=Severity.HIGH,
                rationale="A shell command built from runtime values lets those values inject "
                "commands.",
                suggested_fix="Pass an argument list without `shell=True` "
                '(`subprocess.run(["git", "log", ref], check=True)`), or quote each value '
                "with `shlex.quote`.",
            ),
            guarded(check_shell_injection),
        ),
        (
            Rule(
                id="python.sql-injection",
                category="sql-injection",
                severity=Severity.HIGH,
                rationale="SQL built by string formatting from runtime values allows SQL injection.",
                suggested_fix='Use bound parameters: `cursor.execute("SELECT ... WHERE id = %s", '
                '(user_id,))` or `text("... WHERE id = :id")` with `{"id": user_id}`.',
            ),
            guarded(check_sql_injection),
        ),
        (
            Rule(
                id="python.mutable-default-argument",
                category="mutable-default-argument",
                severity=Severity.MEDIUM,
                rationale="A mutable default is created once and shared across calls, so state "
                "leaks between calls.",
                suggested_fix="Default to None and create the list/dict/set inside the function.",
            ),
            guarded(check_mutable_default),
        ),
        (
            Rule(
                id="python.http-call-without-timeout",
                category="missing-timeout",
                severity=Severity.MEDIUM,
                rationale="An HTTP call without a timeout can block forever when the server stops "
                "answering.",
                suggested_fix="Pass an explicit timeout, e.g. `requests.get(url, timeout=10)`.",
            ),
            guarded(check_http_timeout),
        ),
        (
            Rule(
                id="python.unsafe-yaml-load",
                category="unsafe-deserialization",
                severity=Severity.HIGH,
                rationale="`yaml.load` without a safe loader can construct arbitrary Python "
                "objects, so untrusted YAML can execute code.",
                suggested_fix="Use `yaml.safe_load(...)` or `yaml.load(..., Loader=yaml.SafeLoader)`.",
            ),
            guarded(check_yaml_load),
        ),
        (
            Rule(
                id="python.unsafe-pickle-load",
                category="unsafe-deserialization",
                severity=Severity.HIGH,
                rationale="Unpickling runs code chosen by whoever produced the data.",
                suggested_fix="Use a data-only format (JSON, msgpack) for anything that crosses a "
                "trust boundary, or sign and verify the bytes before unpickling.",
            ),
            guarded(check_pickle_load),
        ),
        (
            Rule(
                id="python.print-left-in-code",
                category="debug-print",
                severity=Severity.LOW,
                rationale="`print` in library code writes to the caller's stdout, cannot be "
                "filtered or silenced, and is usually leftover debugging.",
                suggested_fix="Use `logging.getLogger(__name__)` at an appropriate level, or remove it.",
            ),
            guarded(check_print),
        ),
        (
            Rule(
                id="python.breakpoint-left-in-code",
                category="debugger-left-in-code",
                severity=Severity.MEDIUM,
                rationale="A committed debugger call stops the process waiting for input, hanging "
                "CI jobs and servers.",
                suggested_fix="Remove the `breakpoint()`/`set_trace()` call.",
            ),
            guarded(check_debugger),
        ),
        (
            Rule(
                id="python.assert-for-validation",
                category="assert-validation",
                severity=Severity.MEDIUM,
                rationale="Asserts are stripped under `python -O`, so validation written as an "
                "assert disappears in optimised runs.",
                suggested_fix='Raise an explicit exception: `if not cond: raise ValueError("...")`.',
            ),
            guarded(check_assert_validation),
        ),
    ),
)
