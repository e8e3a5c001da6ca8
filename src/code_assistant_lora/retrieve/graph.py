"""The import graph: which repo files a file imports (Python and JS/TS/Vue), read from the text.

Imports are recorded as written (`pkg.mod`, `.sibling`, `./util`) when a file is indexed and
resolved against the current file set when the index is assembled, so renames and new files are
picked up without re-reading unchanged files."""

from __future__ import annotations

import posixpath
import re
from collections import defaultdict
from collections.abc import Iterable

_PY_FROM = re.compile(r"^[ \t]*from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+\(?([^)\n#]*)", re.M)
_PY_IMPORT = re.compile(r"^[ \t]*import[ \t]+([\w., \t]+)", re.M)
_JS_IMPORT = re.compile(
    r"""(?:\bimport\s[^'"`;]*?\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*|\bexport\s[^'"`;]*?\bfrom\s*)['"]([^'"\n]+)['"]"""
)
_SOURCE_ROOTS = frozenset({"src", "lib", "python", "source", "pkg", "packages"})
_JS_SUFFIXES = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".vue", ".mts", ".cts")


def extract_imports(language: str, text: str) -> tuple[str, ...]:
    """Import specifiers as written; Python `from a import b, c` yields `a.b`, `a.c` and `a`."""
    found: list[str] = []
    if language == "python":
        for match in _PY_FROM.finditer(text):
            base = match.group(1)
            found.append(base)
            for name in match.group(2).split(","):
                name = name.strip().split(" as ")[0].strip()
                if name and name != "*" and name.isidentifier():
                    found.append(base + ("" if base.endswith(".") else ".") + name)
        for match in _PY_IMPORT.finditer(text):
            for name in match.group(1).split(","):
                name = name.strip().split(" as ")[0].strip()
                if name:
                    found.append(name)
    elif language in ("typescript", "tsx", "javascript", "vue"):
        found.extend(m.group(1) for m in _JS_IMPORT.finditer(text))
    return tuple(dict.fromkeys(found))


class ModuleMap:
    """Python dotted names and JS paths of the repo's files, for resolving import specifiers."""

    def __init__(self, paths: Iterable[str]) -> None:
        self.paths = set(paths)
        self.by_name: dict[str, list[str]] = defaultdict(list)
        self.by_suffix: dict[str, list[str]] = defaultdict(list)
        for path in self.paths:
            if not path.endswith((".py", ".pyi")):
                continue
            dotted = path.rsplit(".", 1)[0].replace("/", ".")
            if dotted.endswith(".__init__"):
                dotted = dotted[: -len(".__init__")]
            parts = dotted.split(".")
            self.by_name[dotted].append(path)
            if len(parts) > 1 and parts[0] in _SOURCE_ROOTS:
                self.by_name[".".join(parts[1:])].append(path)
            for i in range(1, len(parts) - 1):  # suffixes of two or more names
                self.by_suffix[".".join(parts[i:])].append(path)

    def python(self, importer: str, spec: str) -> str | None:
        if spec.startswith("."):
            level = len(spec) - len(spec.lstrip("."))
            package = importer.split("/")[:-1]
            if level > 1:
                package = package[: len(package) - (level - 1)]
            rest = spec[level:]
            base = "/".join(package)
            candidate = (base + "/" if base else "") + rest.replace(".", "/")
            for option in (candidate + ".py", candidate + "/__init__.py", candidate + ".pyi"):
                if option.strip("/") in self.paths:
                    return option.strip("/")
            return None
        owners = self.by_name.get(spec) or (self.by_suffix.get(spec) if "." in spec else None)
        if not owners:
            return None
        # the shortest path whose dotted name ends with the specifier: `pkg.mod` in src/pkg/mod.py
        return min(owners, key=lambda p: (p.count("/"), p))

    def javascript(self, importer: str, spec: str) -> str | None:
        if not spec.startswith((".", "/")):
            return None
        base = posixpath.normpath(posixpath.join(posixpath.dirname(importer), spec)).lstrip("/")
        if base in self.paths:
            return base
        for suffix in _JS_SUFFIXES:
            if base + suffix in self.paths:
                return base + suffix
        for suffix in _JS_SUFFIXES:
            if f"{base}/index{suffix}" in self.paths:
                return f"{base}/index{suffix}"
        return None

    def resolve(self, importer: str, language: str, specs: Iterable[str]) -> list[str]:
        resolver = self.python if language == "python" else self.javascript
        out: dict[str, None] = {}
        for spec in specs:
            target = resolver(importer, spec)
            if target and target != importer:
                out[target] = None
        return list(out)
