"""The orchestration rule pack."""

from __future__ import annotations

from ..rule import RulePack

PACK = RulePack(name="orchestration", matches=lambda path: False, checks=())
