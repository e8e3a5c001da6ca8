"""The docker_ci rule pack."""

from __future__ import annotations

from ..rule import RulePack

PACK = RulePack(name="docker_ci", matches=lambda path: False, checks=())
