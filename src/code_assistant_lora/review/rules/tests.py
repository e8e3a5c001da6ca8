"""The tests rule pack."""

from __future__ import annotations

from ..rule import RulePack

PACK = RulePack(name="tests", matches=lambda path: False, checks=())
