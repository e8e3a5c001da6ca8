"""The rule catalogue: one module per specialist pack, routed by path."""

from __future__ import annotations

from ..rule import Rule, RulePack
from . import docker_ci, orchestration, python, react, secrets, sql, tests, typescript, vue

ALL_PACKS: tuple[RulePack, ...] = (
    secrets.PACK,
    python.PACK,
    typescript.PACK,
    react.PACK,
    vue.PACK,
    sql.PACK,
    docker_ci.PACK,
    orchestration.PACK,
    tests.PACK,
)


def all_rules() -> list[Rule]:
    return [rule for pack in ALL_PACKS for rule in pack.rules]
