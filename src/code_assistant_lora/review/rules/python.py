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


def _collect(tree: ast.Module) -> PythonSource:
    """Walk the tree once (iteratively: deep expressions must not hit the recursion limit)."""
    source = PythonSource(tree=tree)
    stack: list[Site] = [Site(tree, None, (), False, False, False, False)]
    while stack:
        site = stack.pop()
        source.sites.append(site)
        node = site.node
        if not isinstance(node, _SCOPING):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                _record_import(node, source.imports)
            funcs, main_guard, type_checking, in_while, guarded_env = site[2:]
            stack.extend(
                Site(child, node, funcs, main_guard, type_checking, in_while, guarded_env)
                for child in reversed(list(ast.iter_child_nodes(node)))
            )
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
        for child in reversed(list(ast.iter_child_nodes(node))):
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


def _is_swallowing(statement: ast.stmt) -> bool:
    if isinstance(statement, (ast.Pass, ast.Continue)):
        return True
    if isinstance(statement, ast.Return):
        return statement.value is None or (
            isinstance(statement.value, ast.Constant) and statement.value.value is None
        )
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


def check_broad_except(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """A bare `except:` or `except Exception/BaseException:` whose body only passes, continues,
    returns None or logs at debug level. Handlers that re-raise, log with `logger.exception`/
    `logger.error`, or do any other work, and narrow handlers (`except KeyError: pass`) are fine."""
    source = python_source(file)
    if source is None:
        return
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
_PLACEHOLDER = re.compile(r"^\s*(?:\?|%s|%\(\w+\)s|:\w+)\s*,?\s*$")
_SQL_WORDS = re.compile(
    r"\b(?:select|insert\s+into|update|delete\s+from|from|where|values|create|drop|alter|"
    r"join|order\s+by|group\s+by|limit|pragma|truncate)\b",
    re.IGNORECASE,
)


def _scope_of(site: Site, source: PythonSource) -> ast.AST:
    return site.funcs[-1] if site.funcs else source.tree


def _assigned(scope: ast.AST, name: str) -> list[ast.expr]:
    """Values assigned (or augmented) to a plain name anywhere in `scope`."""
    values: list[ast.expr] = []
    for node in ast.walk(scope):
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == name for target in node.targets
        ):
            values.append(node.value)
        elif (
            isinstance(node, (ast.AugAssign, ast.AnnAssign))
            and isinstance(node.target, ast.Name)
            and node.target.id == name
            and node.value is not None
        ):
            values.append(node.value)
    return values


class _Builder:
    """Decides whether a string expression is built from runtime values. `safe` says which
    interpolated values are harmless for the sink at hand (quoted for a shell, a placeholder list
    or a number for SQL); a name is followed to the values assigned to it in its scope."""

    def __init__(self, source: PythonSource, scope: ast.AST, sql: bool) -> None:
        self.source = source
        self.scope = scope
        self.sql = sql
        self._resolving: set[str] = set()

    def _safe_value(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Constant):
            return True
        if isinstance(node, ast.Call):
            name = self.source.name_of(node.func)
            return name in (_SQL_SAFE_CALLS if self.sql else _QUOTING)
        if isinstance(node, ast.Name):
            if _CONSTANT_NAME.match(node.id):
                return True
            if self.sql and "placeholder" in node.id.lower():
                return True
            if node.id in self._resolving:
                return False
            self._resolving.add(node.id)
            values = _assigned(self.scope, node.id)
            safe = bool(values) and all(self._literal(value) for value in values)
            self._resolving.discard(node.id)
            return safe
        return False

    def _literal(self, node: ast.expr) -> bool:
        """A string whose every part is known safe (a placeholder join counts for SQL)."""
        if self.sql and isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr == "join" and any(
                isinstance(c, ast.Constant)
                and isinstance(c.value, str)
                and _PLACEHOLDER.match(c.value)
                for arg in node.args
                for c in ast.walk(arg)
            ):
                return True
        return not self.built(node) and isinstance(node, (ast.Constant, ast.JoinedStr, ast.BinOp))

    def built(self, node: ast.expr) -> bool:
        """Whether `node` formats, interpolates or concatenates an unsafe runtime value."""
        if isinstance(node, ast.JoinedStr):
            return any(
                isinstance(part, ast.FormattedValue) and not self._safe_value(part.value)
                for part in node.values
            )
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
            parts = [
                node.left,
                *(node.right.elts if isinstance(node.right, ast.Tuple) else [node.right]),
            ]
            return any(
                self.built(part)
                if isinstance(part, (ast.BinOp, ast.JoinedStr))
                else not self._safe_value(part)
                for part in parts
            )
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format"
        ):
            if isinstance(node.func.value, ast.Constant):
                values = [*node.args, *(keyword.value for keyword in node.keywords)]
                return any(not self._safe_value(value) for value in values)
        return False

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
    }
)


def check_shell_injection(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """`subprocess.*(..., shell=True)`, `os.system`, `os.popen` and friends whose command is built
    at runtime (f-string, concatenation, `%`, `.format`, or a variable not bound to a literal).
    Literal commands, names bound only to literals, values passed through `shlex.quote`, and
    argument lists without `shell=True` are fine."""
    source = python_source(file)
    if source is None:
        return
    for site, call, name in source.calls:
        if name in _SHELL_OPTIONAL:
            shell = _keyword(call, "shell")
            if not (isinstance(shell, ast.Constant) and shell.value is True):
                continue
        elif name not in _SHELL_ALWAYS:
            continue
        command = call.args[0] if call.args else _keyword(call, "args") or _keyword(call, "cmd")
        if command is None or isinstance(command, (ast.List, ast.Tuple, ast.Starred)):
            continue
        if _Builder(source, _scope_of(site, source), sql=False).dynamic(command):
            yield Hit(
                line=call.lineno,
                rationale=f"`{name}` runs `{ast.unparse(command)}` through a shell: any runtime value "
                "in it can inject shell commands.",
            )


_SQL_METHODS = frozenset(
    {"execute", "executemany", "executescript", "raw", "read_sql", "read_sql_query"}
)
_SQL_TEXT = frozenset(
    {"text", "sqlalchemy.text", "sqlalchemy.sql.text", "sqlalchemy.sql.expression.text"}
)


def check_sql_injection(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """SQL built with f-strings, `%`, `.format` or `+` from runtime values and passed to
    `.execute`/`.executemany`/`.executescript`/`.raw`/`read_sql` or SQLAlchemy `text()`, directly or
    through a variable assigned in the same function. Parameterised queries (`execute("... %s",
    (x,))`), interpolated constants, numbers cast with `int()`, and placeholder lists
    (`", ".join("?" * n)`) are fine; the literal parts must read as SQL."""
    source = python_source(file)
    if source is None:
        return
    for site, call, name in source.calls:
        is_method = isinstance(call.func, ast.Attribute) and call.func.attr in _SQL_METHODS
        if not (is_method or name in _SQL_TEXT) or not call.args:
            continue
        query = call.args[0]
        builder = _Builder(source, _scope_of(site, source), sql=True)
        culprit: ast.expr | None = None
        if isinstance(query, ast.Name):
            values = _assigned(builder.scope, query.id)
            if _SQL_WORDS.search(" ".join(_literal_text(value) for value in values)):
                culprit = next((value for value in values if builder.built(value)), None)
        elif builder.built(query) and _SQL_WORDS.search(_literal_text(query)):
            culprit = query
        if culprit is None:
            continue
        line = call.lineno if file.is_changed(call.lineno) else culprit.lineno
        yield Hit(
            line=line,
            rationale=f"The SQL passed to `{ast.unparse(call.func)}` is built from runtime values "
            f"(`{ast.unparse(culprit)[:80]}`): an attacker-controlled value can rewrite the query.",
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

_HTTP_CALLS = frozenset(
    f"{module}.{verb}"
    for module in ("requests", "httpx")
    for verb in ("get", "post", "put", "patch", "delete", "head", "options", "request")
) | {"httpx.stream"}


def check_http_timeout(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """Module-level `requests.<verb>`/`httpx.<verb>` calls with no `timeout=`. Calls that pass
    `**kwargs` (the timeout may be inside) and calls on session/client objects (configured
    where the client is built) are out of scope."""
    source = python_source(file)
    if source is None:
        return
    for _site, call, name in source.calls:
        if name in _HTTP_CALLS and _keyword(call, "timeout") is None and not _has_splat(call):
            yield Hit(
                line=call.lineno,
                rationale=f"`{name}()` has no timeout: a server that stops answering blocks this "
                "call (and its worker) indefinitely.",
            )


# --- unsafe deserialization --------------------------------------------------------------------

_SAFE_LOADER_NAMES = frozenset({"SafeLoader", "CSafeLoader", "BaseLoader", "CBaseLoader"})
_UNSAFE_LOADER_NAMES = frozenset(
    {"Loader", "CLoader", "UnsafeLoader", "CUnsafeLoader", "FullLoader", "CFullLoader"}
)
_PICKLE_LOADS = frozenset(
    f"{module}.{function}"
    for module in ("pickle", "cPickle", "_pickle", "dill")
    for function in ("load", "loads")
)


def check_yaml_load(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """`yaml.load`/`yaml.load_all` without a safe Loader (SafeLoader, CSafeLoader, BaseLoader),
    and `yaml.unsafe_load`/`unsafe_load_all`: YAML tags can construct arbitrary Python objects.
    A Loader given as an unknown name (a project subclass) is not flagged; tests are skipped."""
    source = python_source(file)
    if source is None or is_test_path(file.path):
        return
    for _site, call, name in source.calls:
        if name in ("yaml.unsafe_load", "yaml.unsafe_load_all"):
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
    """`pickle.load(s)` (also cPickle and dill): unpickling runs code chosen by whoever wrote the
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


def check_print(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """`print(...)` in library code. Tests, scripts, CLI modules, `__main__` blocks, `main()`
    functions, click/typer commands and prints to an explicit `file=` are output on purpose."""
    source = python_source(file)
    if source is None or not _is_library(file.path) or _is_cli_path(file.path):
        return
    for site, call, _name in source.calls:
        if not (isinstance(call.func, ast.Name) and call.func.id == "print"):
            continue
        if site.main_guard or _keyword(call, "file") is not None:
            continue
        if any(_is_entry_point(function, source) for function in site.funcs):
            continue
        yield Hit(line=call.lineno)


def check_debugger(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """`breakpoint()`, `pdb.set_trace()` (and ipdb/pudb) anywhere: a committed debugger stops the
    process waiting for input, hanging CI and servers. Post-mortem hooks are not flagged."""
    source = python_source(file)
    if source is None:
        return
    for _site, call, name in source.calls:
        if name in _DEBUGGERS:
            yield Hit(
                line=call.lineno,
                rationale=f"`{ast.unparse(call.func)}()` was left in: it stops "
                "the process at this line waiting for a debugger, hanging CI and servers.",
            )


# --- assert as validation ------------------------------------------------------------------------


def _validated_params(test: ast.expr, params: set[str]) -> list[str]:
    """The parameters an assert tests directly (not through an attribute), unless the assert is
    plain None-narrowing (`assert x is not None`)."""
    if (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.IsNot)
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value is None
    ):
        return []
    bases = {id(n.value) for n in ast.walk(test) if isinstance(n, ast.Attribute)}
    return sorted(
        {
            n.id
            for n in ast.walk(test)
            if isinstance(n, ast.Name) and n.id in params and id(n) not in bases
        }
    )


def check_assert_validation(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """`assert` on a parameter of a public function or method in library code: `python -O` strips
    it, so the validation disappears in optimised deployments. `assert isinstance(arg, T)` counts
    too (it checks the caller's input, not an internal invariant). Skipped as invariants or type
    narrowing: `assert arg is not None`, asserts that only read attributes of a parameter
    (`assert config.cache is not None`), private helpers (`_name`), nested functions,
    `if TYPE_CHECKING` blocks, tests and scripts."""
    source = python_source(file)
    if source is None or not _is_library(file.path):
        return
    for site in source.sites:
        node = site.node
        if not isinstance(node, ast.Assert) or site.type_checking:
            continue
        funcs = enclosing_functions(site)
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
        checked = _validated_params(node.test, params)
        if checked:
            yield Hit(
                line=node.lineno,
                rationale=f"`assert` validates the argument `{checked[0]}` of `{function.name}()`; "
                "asserts are removed under `python -O`, so the check silently disappears.",
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
