"""The typescript rule pack."""

from __future__ import annotations

from ..rule import RulePack

PACK = RulePack(name="typescript", matches=lambda path: False, checks=())
