"""The react rule pack."""

from __future__ import annotations

from ..rule import RulePack

PACK = RulePack(name="react", matches=lambda path: False, checks=())
