"""The rule catalogue: one module per specialist pack, routed by path.

Pack modules compile many patterns at import, so they are imported only when a change holds a
path their coarse hint admits (a superset of what the pack's own `matches` claims): a Python-only
commit never pays for the Dockerfile or Kubernetes packs. `ALL_PACKS` and `all_rules()` still
import everything, for the catalogue and rule-name validation.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable

from ..rule import Rule, RulePack

_JS = (".js", ".jsx", ".ts", ".tsx", ".mjs", ".cjs", ".mts", ".cts")
_YAML = (".yml", ".yaml")


def _suffix(*suffixes: str) -> Callable[[str], bool]:
    return lambda path: path.lower().endswith(suffixes)


def _dotenv_or_js(path: str) -> bool:
    name = path.rsplit("/", 1)[-1].lower()
    return name.endswith(_JS) or name.startswith(".env") or name.endswith(".env")


def _docker_or_ci(path: str) -> bool:
    name = path.rsplit("/", 1)[-1].lower()
    return (
        "dockerfile" in name or "containerfile" in name or name.endswith((*_YAML, ".sh", ".bash"))
    )


# (pack name, module, coarse hint), in the order packs run.
_CATALOGUE: tuple[tuple[str, str, Callable[[str], bool]], ...] = (
    ("secrets", "secrets", lambda path: True),
    ("python", "python", _suffix(".py", ".pyi")),
    ("typescript", "typescript", _dotenv_or_js),
    ("react", "react", _suffix(*_JS)),
    ("vue", "vue", _suffix(".vue", *_JS)),
    ("sql", "sql", _suffix(".sql", ".pgsql")),
    ("docker_ci", "docker_ci", _docker_or_ci),
    ("orchestration", "orchestration", _suffix(*_YAML)),
    ("tests", "tests", _suffix(".py", *_JS)),
)
PACK_NAMES = tuple(name for name, _, _ in _CATALOGUE)


def pack(name: str) -> RulePack:
    """One pack by name (imports its module on first use)."""
    module = next(module for pack_name, module, _ in _CATALOGUE if pack_name == name)
    return importlib.import_module(f"{__name__}.{module}").PACK


def packs_for(paths: Iterable[str]) -> tuple[RulePack, ...]:
    """The packs that may claim any of `paths`, in catalogue order."""
    wanted = list(paths)
    return tuple(pack(name) for name, _, hint in _CATALOGUE if any(hint(p) for p in wanted))


def __getattr__(name: str):
    if name == "ALL_PACKS":
        return tuple(pack(pack_name) for pack_name in PACK_NAMES)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def all_rules() -> list[Rule]:
    return [rule for name in PACK_NAMES for rule in pack(name).rules]


def rule_by_id(rule_id: str) -> Rule | None:
    """The catalogue entry for a rule id, importing only its pack."""
    name = rule_id.split(".", 1)[0]
    if name not in PACK_NAMES:
        return None
    return next((rule for rule in pack(name).rules if rule.id == rule_id), None)
