"""The python rule pack."""

from __future__ import annotations

from ..rule import RulePack

PACK = RulePack(name="python", matches=lambda path: False, checks=())
