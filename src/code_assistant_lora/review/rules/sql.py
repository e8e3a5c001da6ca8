"""The sql rule pack."""

from __future__ import annotations

from ..rule import RulePack

PACK = RulePack(name="sql", matches=lambda path: False, checks=())
