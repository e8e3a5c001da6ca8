"""The Python dependency graph of a repository, walked in reverse from the changed units.

Nodes are units of modules (see `source.py`), keyed by file path: `("u", path, qualname)` for a
function, class, method, value or import binding, `("b", path)` for the module's import-time code
and `("a", path)` for "the module used as an object" (anything in it). A unit depends on what its
references resolve to, following imported *names* through re-exports (`from .more import *` in a
package `__init__` does not make every test depend on every module); a module's import-time code
depends on the import-time code of every module it imports and of its parent packages.

The graph is built lazily: a file is parsed only when it could depend on something already
affected, which it can only do if its text contains that thing's name (or it looks names up
dynamically, which is searched for separately). So a change to a leaf function parses a handful
of files, not the repository.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from .source import MODULE, ModuleSummary, Unit, summarize

Node = tuple  # ("u", path, qualname) | ("b", path) | ("a", path) | ("x", name)

# Files that may import modules by computed name, found by text before they are parsed.
_DYNAMIC_IMPORT_TEXT = re.compile(r"import_module|__import__|sys\.modules")
_WORD = "A-Za-z0-9_"
_CONSTRUCTION = ("__new__", "__init__", "__post_init__", "__attrs_post_init__")


def module_names(paths: Iterable[str], exists: Callable[[str], bool]) -> dict[str, str]:
    """Dotted module name for every .py path: packages are folders with `__init__.py`; a file
    outside any package is importable by its own name (pytest's rootdir-relative insertion)."""
    names: dict[str, str] = {}
    for path in paths:
        parts = list(PurePosixPath(path).parts)
        stem = parts[-1][:-3]
        dotted = [] if stem == "__init__" else [stem]
        folders = parts[:-1]
        while folders and exists("/".join([*folders, "__init__.py"])):
            dotted.insert(0, folders.pop())
        names[path] = ".".join(dotted) if dotted else (folders[-1] if folders else stem)
    return names


@dataclass
class PythonGraph:
    """Python files of one tree: their texts, summaries (lazily parsed, cached by content) and
    the name resolution between them."""

    texts: dict[str, str]
    summarize_file: Callable[[str], ModuleSummary] = None  # type: ignore[assignment]
    test_file: Callable[[str], bool] = lambda path: False
    names: dict[str, str] = field(default_factory=dict)
    by_name: dict[str, list[str]] = field(default_factory=dict)
    ghosts: dict[str, ModuleSummary] = field(default_factory=dict)  # deleted modules

    def __post_init__(self) -> None:
        if self.summarize_file is None:
            self.summarize_file = lambda path: summarize(self.texts[path])
        self._summaries: dict[str, ModuleSummary] = {}
        self._lookups: dict[tuple[str, str], list] = {}
        self._closed: dict[tuple[str, str], bool] = {}
        self._conftest_cache: dict[tuple[str, str], list[tuple[str, str]]] = {}
        paths = list(self.texts)
        self.names = module_names(paths, lambda p: p in self.texts)
        for path, name in self.names.items():
            self.by_name.setdefault(name, []).append(path)
        self.top_packages = {name.split(".")[0] for name in self.by_name}

    def add_ghost(self, path: str, name: str, summary: ModuleSummary) -> None:
        """A module deleted (or renamed away) by the change: it still resolves, so its former
        importers are found."""
        self.ghosts[path] = summary
        self.names[path] = name
        self.by_name.setdefault(name, []).append(path)

    def summary(self, path: str) -> ModuleSummary:
        found = self._summaries.get(path)
        if found is None:
            found = self.ghosts.get(path) or self.summarize_file(path)
            self._summaries[path] = found
        return found

    # --- resolution -------------------------------------------------------------------------

    def module_paths(self, importer: str, level: int, module: str) -> list[str]:
        """Files of the module an import statement in `importer` names (repo modules only)."""
        if level:
            base = self.names[importer].split(".")
            if not importer.endswith("__init__.py"):
                base = base[:-1]
            if level > 1:
                base = base[: len(base) - (level - 1)] if level - 1 <= len(base) else []
            dotted = ".".join([*base, module] if module else base)
        else:
            dotted = module
        found = self.by_name.get(dotted, [])
        if len(found) > 1:
            here = str(PurePosixPath(importer).parent)
            near = [p for p in found if str(PurePosixPath(p).parent) == here]
            return near or list(found)
        return list(found)

    def lookup(self, path: str, name: str) -> list:
        """What `name` means at module level in `path`: ("u", path, qual) for a unit or import
        binding (the binding itself is a node, then what it points to), ("m", path) for a module
        object. Empty when it is not repo code."""
        key = (path, name)
        cached = self._lookups.get(key)
        if cached is not None:
            return cached
        self._lookups[key] = []  # cycle guard
        out: list = []
        summary = self.summary(path)
        if name in summary.units and name != MODULE:
            out.append(("u", path, name))
        for imp in summary.imports:
            if imp.local != name:
                continue
            out.append(("u", path, name))
            if imp.name is None:
                target = imp.module if imp.local != imp.module.split(".")[0] else imp.local
                out += [("m", p) for p in self.module_paths(path, 0, target)]
            else:
                for module_path in self.module_paths(path, imp.level, imp.module):
                    out += self.member(module_path, imp.name)
        if not out:
            for imp in summary.imports:
                if imp.local is None and not name.startswith("_"):
                    for module_path in self.module_paths(path, imp.level, imp.module):
                        if not self._may_define(module_path, name):
                            continue
                        found = self.lookup(module_path, name)
                        if found:
                            out += [("u", module_path, "__all__"), *found]
        out = list(dict.fromkeys(out))
        self._lookups[key] = out
        return out

    def _may_define(self, path: str, name: str) -> bool:
        """Cheap text test before parsing: a module can only bind a name it spells, unless it
        re-exports another module with `*`."""
        text = self.texts.get(path)
        return text is None or name in text or "*" in text

    def member(self, module_path: str, name: str) -> list:
        """`module.name`: a name in the module, else a submodule of the package."""
        found = self.lookup(module_path, name)
        if found:
            return found
        sub = self.by_name.get(f"{self.names[module_path]}.{name}")
        if sub:
            return [("m", p) for p in sub]
        if "__getattr__" in self.summary(module_path).units:  # PEP 562 module attributes
            return [("u", module_path, "__getattr__")]
        return [("a", module_path)]  # an attribute we cannot see: the whole module

    def resolve(self, path: str, ref: str, unit: str = "") -> list[Node]:
        """Nodes a reference made in `path` (by `unit`) depends on."""
        if ref.startswith("^"):
            return self._super(path, unit, ref[1:])
        if ref.startswith("!"):
            level, module, name, rest = ref[1:].split("|", 3)
            targets: list = []
            for module_path in self.module_paths(path, int(level), module):
                targets += self.member(module_path, name) if name else [("m", module_path)]
            nodes = self._walk(targets, rest.split(".") if rest else [])
            # an import inside a function runs the imported module's import-time code
            return nodes + [("b", p) for p in self.module_paths(path, int(level), module)]
        if ref.endswith("{}"):
            # a class statement at import time: its own body and its bases' definitions
            return [
                ("def", n[1], n[2]) if n[0] == "u" and self._is_class(n) else n
                for n in self.resolve(path, ref[:-2], unit)
            ]
        if ref.endswith("()"):
            # called at import time: a class is only constructed, a function only run
            return [self._called(n) for n in self.resolve(path, ref[:-2], unit)]
        head, _, rest = ref.partition(".")
        return self._walk(self.lookup(path, head), rest.split(".") if rest else [])

    def _walk(self, targets: list, rest: list[str]) -> list[Node]:
        nodes: list[Node] = []
        current = targets
        for part in rest:
            following: list = []
            for target in current:
                if target[0] == "m":
                    following += self.member(target[1], part)
                elif target[0] == "u":
                    nodes.append(target)
                    summary = self.summary(target[1])
                    unit = summary.units.get(target[2])
                    method = f"{target[2]}.{part}"
                    if unit is not None and unit.kind == "class" and method in summary.units:
                        nodes.append(("u", target[1], method))
                else:
                    nodes.append(target)
            current = following
            if not current:
                break
        for target in current:
            nodes.append(("a", target[1]) if target[0] == "m" else target)
        return list(dict.fromkeys(nodes))

    def _super(self, path: str, unit: str, name: str) -> list[Node]:
        """`super().name` inside a method: the bases' `name`, or any `name` when a base is not
        repo code."""
        if "." not in unit:
            return []
        owner = unit.rsplit(".", 1)[0]
        out: list[Node] = []
        for base_path, base in self.lineage(path, owner)[1:]:
            if f"{base}.{name}" in self.summary(base_path).units:
                out.append(("u", base_path, f"{base}.{name}"))
        return out

    def string_module_refs(self, strings: Iterable[str]) -> list[str]:
        """Dotted strings naming repo modules (`"pkg.mod"`, `mock.patch("pkg.mod.func")`)."""
        refs = []
        for text in strings:
            if "." not in text or " " in text or len(text) > 200:
                continue
            parts = text.split(".")
            if parts[0] not in self.top_packages:
                continue
            for cut in range(len(parts), 0, -1):
                if ".".join(parts[:cut]) in self.by_name:
                    refs.append(f"!0|{'.'.join(parts[:cut])}||{'.'.join(parts[cut:])}")
                    break
        return refs

    # --- edges of one file ------------------------------------------------------------------

    def class_closed(self, path: str, qualname: str, seen: frozenset = frozenset()) -> bool:
        """A class whose bases are all repo classes (or object): nothing outside the repo calls
        its methods by protocol."""
        key = (path, qualname)
        if key not in self._closed:
            self._closed[key] = self._class_closed(path, qualname, seen)
        return self._closed[key]

    def _class_closed(self, path: str, qualname: str, seen: frozenset) -> bool:
        unit = self.summary(path).units.get(qualname)
        if unit is None or (path, qualname) in seen:
            return False
        for base in unit.bases:
            if base in ("object", "Exception"):
                continue
            targets = [t for t in self._walk_ref(path, base) if t[0] == "u"]
            classes = [t for t in targets if self._is_class(t)]
            if not classes:
                return False
            if not all(self.class_closed(t[1], t[2], seen | {(path, qualname)}) for t in classes):
                return False
        return True

    def lineage(self, path: str, qualname: str) -> list[tuple[str, str]]:
        """The class and its repo base classes, nearest first."""
        out, todo = [], [(path, qualname)]
        while todo:
            current = todo.pop()
            if current in out:
                continue
            out.append(current)
            unit = self.summary(current[0]).units.get(current[1])
            for base in unit.bases if unit is not None else ():
                todo += [(t[1], t[2]) for t in self._walk_ref(current[0], base) if t[0] == "u"]
        return out

    def _walk_ref(self, path: str, dotted: str) -> list:
        head, _, rest = dotted.partition(".")
        current = self.lookup(path, head)
        for part in rest.split(".") if rest else []:
            nxt = []
            for target in current:
                if target[0] == "m":
                    nxt += self.member(target[1], part)
            current = nxt
        return current

    def _called(self, node: Node) -> Node:
        if node[0] != "u":
            return node
        unit = self.summary(node[1]).units.get(node[2])
        if unit is None:
            return node
        if unit.kind == "class":
            return ("new", node[1], node[2])
        if unit.kind in ("function", "method"):
            return ("call", node[1], node[2])
        return node

    def _is_class(self, target) -> bool:
        unit = self.summary(target[1]).units.get(target[2])
        return unit is not None and unit.kind == "class"

    def edges(self, path: str) -> list[tuple[Node, Node]]:
        """Every dependency of every unit of one file."""
        summary = self.summary(path)
        out: list[tuple[Node, Node]] = []
        body = ("b", path)
        if summary.error:
            return out
        module_flags = summary.module_flags
        testish = self.test_file(path) or path.endswith("conftest.py")
        for unit in summary.units.values():
            source: Node = body if unit.name == MODULE else ("u", path, unit.name)
            refs = list(unit.refs) + self.string_module_refs(unit.strings)
            if testish and unit.name == MODULE:
                # a decorated test handed to its decorator at import time is not a dependency
                # of the other tests in the file
                refs = [
                    r for r in refs if not (r in summary.units and r.startswith(("test", "Test")))
                ]
            if "exec" in module_flags:
                refs += [t for s in unit.strings for t in re.findall(r"[A-Za-z_]\w*", s)]
            for ref in dict.fromkeys(refs):
                for target in self.resolve(path, ref, unit.name):
                    if target != source:
                        out.append((source, target))
            if "globals" in unit.flags:
                out.append((source, ("a", path)))
            if "dynamic-import" in unit.flags:
                named = {t for s in unit.strings for t in re.findall(r"[A-Za-z_]\w*", s)}
                packages = (named & self.top_packages) or {"*"}
                out += [(source, ("x", "package:" + p)) for p in packages]
            if testish and unit.kind in ("function", "method"):
                for param in unit.params:
                    for fixture in self.fixtures(path, param, unit.name):
                        out.append((source, fixture))
            if unit.kind == "class":
                out += self._construction(path, unit)
            if unit.kind in ("function", "method"):
                call = ("call", path, unit.name)
                for ref in dict.fromkeys(unit.calls):
                    out += [(call, t) for t in self.resolve(path, ref, unit.name)]
            if unit.kind == "method":
                owner = unit.name.rsplit(".", 1)[0]
                leaf = unit.name.rsplit(".", 1)[1]
                if testish:
                    out.append((source, ("u", path, owner)))
                if self._folded(path, owner, leaf, unit, testish):
                    out.append((("u", path, owner), source))
        for imp in summary.imports:
            if imp.name is None:
                modules = self.module_paths(path, 0, imp.module)
                dotted = imp.module.split(".")
                for cut in range(1, len(dotted)):
                    modules += self.module_paths(path, 0, ".".join(dotted[:cut]))
            else:
                modules = self.module_paths(path, imp.level, imp.module)
                for module_path in list(modules):
                    modules += self.by_name.get(f"{self.names[module_path]}.{imp.name}", [])
                    parent = self.names[module_path].split(".")
                    for cut in range(1, len(parent)):
                        modules += self.by_name.get(".".join(parent[:cut]), [])
            for module_path in modules:
                if module_path != path:
                    out.append((body, ("b", module_path)))
        parent = self.names[path].split(".")[:-1]
        for cut in range(1, len(parent) + 1):
            for module_path in self.by_name.get(".".join(parent[:cut]), []):
                if module_path.endswith("__init__.py") and module_path != path:
                    out.append((body, ("b", module_path)))
        return out

    def _construction(self, path: str, unit: Unit) -> list[tuple[Node, Node]]:
        """Two narrower views of a class than "using it": defining it (the class statement:
        its body, its bases' definitions, `__init_subclass__`) and constructing it (that plus
        `__new__`/`__init__` along its bases). A metaclass or a registering decorator may do
        anything, so such classes stay whole."""
        define, new = ("def", path, unit.name), ("new", path, unit.name)
        out: list[tuple[Node, Node]] = [(new, define)]
        if "escapes" in unit.flags:
            return out + [(define, ("u", path, unit.name))]
        for ref in unit.refs:
            marker = "{}" if ref in unit.bases else ""
            out += [(define, t) for t in self.resolve(path, ref + marker, unit.name)]
        for base_path, base in self.lineage(path, unit.name):
            units = self.summary(base_path).units
            for hook, node in (("__init_subclass__", define), ("__set_name__", define)):
                if f"{base}.{hook}" in units:
                    out.append((node, ("u", base_path, f"{base}.{hook}")))
            for hook in _CONSTRUCTION:
                if f"{base}.{hook}" in units:
                    out.append((new, ("u", base_path, f"{base}.{hook}")))
        if not self.class_closed(path, unit.name):
            out.append((new, ("u", path, unit.name)))
        return out

    def _folded(self, path: str, owner: str, leaf: str, unit: Unit, testish: bool) -> bool:
        """Whether a method belongs to its class as a whole. Every method of code under test
        does: a method can only run on an object that some code made by naming its class (or a
        subclass, which names it as a base), so whoever depends on that code depends on the
        class and all its methods. Matching attribute names instead would tie `dt.replace()` to
        every `replace` method in the repository. In test code only the tests stay apart."""
        if testish:
            return not leaf.startswith("test")
        return True

    def fixtures(self, path: str, name: str, qualname: str) -> list[Node]:
        """Fixture definitions a parameter may request: in the module (and its class), then in
        every conftest.py from the file's folder up."""
        found: list[Node] = []
        summary = self.summary(path)
        owner = qualname.rsplit(".", 1)[0] if "." in qualname else None
        for candidate in ([f"{owner}.{name}"] if owner else []) + [name]:
            unit = summary.units.get(candidate)
            if unit is not None and "fixture" in unit.flags and candidate != qualname:
                found.append(("u", path, candidate))
        found += [("u", c, q) for c, q in self._conftest_fixtures(path, name)]
        return found

    def _conftest_fixtures(self, path: str, name: str) -> list[tuple[str, str]]:
        key = (str(PurePosixPath(path).parent), name)
        if key not in self._conftest_cache:
            self._conftest_cache[key] = self._find_conftest_fixtures(path, name)
        return self._conftest_cache[key]

    def _find_conftest_fixtures(self, path: str, name: str) -> list[tuple[str, str]]:
        out = []
        folder = PurePosixPath(path).parent
        while True:
            conftest = str(folder / "conftest.py") if str(folder) != "." else "conftest.py"
            if conftest in self.texts and conftest != path:
                for unit in self.summary(conftest).units.values():
                    if "fixture" in unit.flags and (
                        unit.name == name or f"fixture-name:{name}" in unit.flags
                    ):
                        out.append((conftest, unit.name))
            if str(folder) in (".", ""):
                break
            folder = folder.parent
        return out


@dataclass
class Reach:
    """Nodes affected by a change: each with the node it was reached from (toward the change)."""

    parent: dict[Node, Node | None]
    loaded: set[str]

    def chain(self, node: Node) -> list[Node]:
        out = [node]
        while True:
            nxt = self.parent.get(out[-1])
            if nxt is None or nxt in out:
                return out
            out.append(nxt)


def _token_of(node: Node, graph: PythonGraph) -> str | None:
    if node[0] in ("u", "new", "def", "call"):
        return node[2].rsplit(".", 1)[-1]
    if node[0] in ("b", "a"):
        name = graph.names.get(node[1], "")
        return name.rsplit(".", 1)[-1] or None
    return None


def reach(
    graph: PythonGraph,
    seeds: dict[Node, str | None],
    stop: Callable[[Node], bool] | None = None,
) -> Reach:
    """Every node that depends, transitively, on a seed. Files are parsed only when their text
    holds the name of something affected. `stop` ends the walk early once it returns True."""
    parent: dict[Node, Node | None] = {}
    dependents: dict[Node, list[Node]] = {}
    loaded: set[str] = set()
    searched: set[str] = set()
    pending_tokens: set[str] = set()
    queue: list[Node] = []
    packages_affected: set[str] = set()
    pending_patterns: list[re.Pattern] = []

    stopped = False

    def mark(node: Node, origin: Node | None) -> None:
        nonlocal stopped
        if node in parent:
            return
        parent[node] = origin
        queue.append(node)
        if stop is not None and stop(node):
            stopped = True

    def load(path: str) -> None:
        if path in loaded or path not in graph.texts and path not in graph.ghosts:
            return
        loaded.add(path)
        for source, target in graph.edges(path):
            dependents.setdefault(target, []).append(source)
            if target in parent:
                mark(source, target)

    for seed in seeds:
        mark(seed, None)
    while True:
        while queue:
            if stopped:
                return Reach(parent, loaded)
            node = queue.pop()
            if node[0] in ("u", "b", "a") and node[1] not in loaded:
                load(node[1])
            for dependent in dependents.get(node, ()):
                mark(dependent, node)
            token = _token_of(node, graph)
            if token and token not in searched:
                pending_tokens.add(token)
            if node[0] in ("u", "b"):
                mark(("a", node[1]), node)
                top = graph.names.get(node[1], "").split(".")[0]
                for key in (top, "*"):
                    if key not in packages_affected:
                        packages_affected.add(key)
                        mark(("x", "package:" + key), node)
            if node == ("x", "package:*"):
                pending_patterns.append(_DYNAMIC_IMPORT_TEXT)
            if node[0] == "b":
                name = graph.names.get(node[1], "")
                # every module inside a package runs the package's __init__ first
                if node[1].endswith("__init__.py"):
                    prefix = name + "."
                    for path, other in graph.names.items():
                        if other.startswith(prefix) and path not in loaded:
                            load(path)
        while pending_patterns:
            pattern = pending_patterns.pop()
            for path, text in graph.texts.items():
                if path not in loaded and pattern.search(text):
                    load(path)
        if queue:
            continue
        if not pending_tokens:
            break
        tokens = sorted(pending_tokens - searched)
        searched.update(pending_tokens)
        pending_tokens.clear()
        if not tokens:
            continue
        pattern = re.compile(
            rf"(?<![{_WORD}])(?:{'|'.join(re.escape(t) for t in tokens)})(?![{_WORD}])"
        )
        for path, text in graph.texts.items():
            if path not in loaded and pattern.search(text):
                load(path)
                if stopped:
                    return Reach(parent, loaded)
    return Reach(parent, loaded)
