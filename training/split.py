"""Deterministic grouped train/eval split: no file (or commit) lands on both sides.

Records are linked when they share a path (`group_by="file"`) or a commit (`"commit"`); each
connected set of records is one group, named by its smallest key. Groups are ordered by a hash of
the seed and their name, and taken into eval in that order while a group brings the eval count
closer to its target. The split depends only on the records' provenance, the fraction and the
seed: not on input order, machine or Python's hash salt.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

GROUP_BY = ("file", "commit")


@dataclass(frozen=True)
class Split:
    train: tuple[int, ...]  # record positions, in input order
    eval: tuple[int, ...]
    groups: tuple[str, ...]  # each record's group name
    group_count: int

    def to_dict(self) -> dict:
        return {"train": len(self.train), "eval": len(self.eval), "groups": self.group_count}


def _keys(paths: Sequence[str], commit: str | None, group_by: str) -> list[str]:
    if group_by == "file":
        return [f"file:{p}" for p in paths]
    return [f"commit:{commit}"] if commit else []


def group_names(
    provenance: Sequence[tuple[Sequence[str], str | None, str]], group_by: str
) -> list[str]:
    """Each record's group: `provenance` holds (paths, commit, record id) per record. Records with
    nothing to link by are groups of their own."""
    if group_by not in GROUP_BY:
        raise ValueError(f"group_by must be one of {GROUP_BY}")
    parent: dict[str, str] = {}

    def find(key: str) -> str:
        root = key
        while parent[root] != root:
            root = parent[root]
        while parent[key] != root:
            parent[key], key = root, parent[key]
        return root

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            if rb < ra:
                ra, rb = rb, ra
            parent[rb] = ra  # the smaller name stays the root: names do not depend on order

    per_record: list[list[str]] = []
    for paths, commit, record_id in provenance:
        keys = _keys(paths, commit, group_by) or [f"record:{record_id}"]
        for key in keys:
            parent.setdefault(key, key)
        for key in keys[1:]:
            union(keys[0], key)
        per_record.append(keys)
    return [find(keys[0]) for keys in per_record]


def _rank(seed: int, name: str) -> bytes:
    return hashlib.sha256(f"{seed}\0{name}".encode("utf-8", "surrogatepass")).digest()


def split_records(
    provenance: Sequence[tuple[Sequence[str], str | None, str]],
    eval_fraction: float,
    seed: int,
    group_by: str = "file",
) -> Split:
    """Assign each record to train or eval; see the module docstring for the rule."""
    if not 0 <= eval_fraction < 1:
        raise ValueError("eval_fraction must be in [0, 1)")
    names = group_names(provenance, group_by)
    sizes: dict[str, int] = {}
    for name in names:
        sizes[name] = sizes.get(name, 0) + 1
    total = len(names)
    target = max(1, round(eval_fraction * total)) if eval_fraction > 0 and total > 1 else 0
    chosen: set[str] = set()
    taken = 0
    for name in sorted(sizes, key=lambda n: _rank(seed, n)):
        if taken >= target:
            break
        size = sizes[name]
        if taken + size - target <= target - taken and taken + size < total:
            chosen.add(name)
            taken += size
    train = tuple(i for i, n in enumerate(names) if n not in chosen)
    evaluation = tuple(i for i, n in enumerate(names) if n in chosen)
    return Split(train, evaluation, tuple(names), len(sizes))
