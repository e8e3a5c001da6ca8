"""The vue rule pack."""

from __future__ import annotations

from ..rule import RulePack

PACK = RulePack(name="vue", matches=lambda path: False, checks=())
