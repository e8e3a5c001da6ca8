"""The JavaScript/TypeScript import graph: `import ... from`, `export ... from`, `import()` and
`require()` edges between repository files, walked in reverse from changed files to test files.

It explains what `jest --findRelatedTests` and `vitest related` will run (each selected test
file with the chain that ties it to the change); the frameworks' own resolvers decide the run.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import PurePosixPath

EXTENSIONS = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts", ".vue", ".svelte")
_SPECIFIER = re.compile(
    r"""(?:\bimport\s*(?:type\s+)?(?:[\w*{}\s,$]+\s+from\s+)?|\bexport\s+[\w*{}\s,$]*\s*from\s+"""
    r"""|\brequire\s*\(\s*|\bimport\s*\(\s*)['"]([^'"\n]+)['"]"""
)
_TEST_NAME = re.compile(r"\.(test|spec)\.[cm]?[jt]sx?$")


def is_source(path: str) -> bool:
    return path.endswith(EXTENSIONS) and not path.endswith(".d.ts")


def is_test(path: str) -> bool:
    return bool(_TEST_NAME.search(path)) or "/__tests__/" in f"/{path}"


def specifiers(text: str) -> list[str]:
    """Module specifiers a file imports (relative ones are the only ones resolved)."""
    return _SPECIFIER.findall(text)


def resolve(importer: str, specifier: str, files: set[str]) -> str | None:
    """The repository file a relative specifier names: exact, with an extension, or an index."""
    if not specifier.startswith("."):
        return None
    base = PurePosixPath(importer).parent / specifier
    parts: list[str] = []
    for part in base.parts:
        if part == "..":
            if not parts:
                return None
            parts.pop()
        elif part != ".":
            parts.append(part)
    target = "/".join(parts)
    candidates = [target]
    stem = re.sub(r"\.[cm]?js$", "", target)  # TypeScript imports './x.js' meaning './x.ts'
    candidates += [stem + ext for ext in EXTENSIONS]
    candidates += [f"{target}/index{ext}" for ext in EXTENSIONS]
    return next((c for c in candidates if c in files), None)


def related_tests(
    changed: Iterable[str], files: list[str], read: Callable[[str], bytes | None]
) -> dict[str, list[str]]:
    """Test files that import a changed file, however indirectly: test -> chain to the change."""
    sources = [f for f in files if is_source(f)]
    present = set(sources)
    importers: dict[str, list[str]] = {}
    for path in sources:
        data = read(path)
        if data is None:
            continue
        for spec in specifiers(data.decode("utf-8", "replace")):
            target = resolve(path, spec, present)
            if target is not None and target != path:
                importers.setdefault(target, []).append(path)
    found: dict[str, list[str]] = {}
    parent: dict[str, str | None] = {}
    queue = deque()
    for path in changed:
        if is_source(path) and path not in parent:
            parent[path] = None
            queue.append(path)
    while queue:
        path = queue.popleft()
        if is_test(path):
            chain, cursor = [], path
            while cursor is not None:
                chain.append(cursor)
                cursor = parent[cursor]
            found[path] = chain
        for importer in importers.get(path, ()):
            if importer not in parent:
                parent[importer] = path
                queue.append(importer)
    return found
