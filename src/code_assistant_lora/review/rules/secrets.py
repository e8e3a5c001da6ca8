"""The secrets rule pack."""

from __future__ import annotations

from ..rule import RulePack

PACK = RulePack(name="secrets", matches=lambda path: False, checks=())
