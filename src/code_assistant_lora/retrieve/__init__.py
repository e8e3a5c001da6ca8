"""Repo retrieval: a code-aware lexical index plus path, symbol, import-graph and test signals.

`retrieve(repo, task)` is the whole API most callers need: it opens (or builds, or updates) the
cached index for the repository's current tracked content, ranks files for the task, links tests
and detects the repo's conventions."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from .index import Index, open_index
from .query import Query, parse_query
from .ranking import ChunkHit, RankedFile, Ranking, rank
from .testlink import LinkedTest
from .tokenize import identifier_tokens


@dataclass(frozen=True)
class Retrieval:
    """What retrieval found for one task: ranked code files, related tests, docs as context,
    the repo's conventions, and how the index was obtained."""

    query: Query
    ranking: Ranking
    conventions: dict
    index_status: str  # built | updated | reused
    index_key: str
    files_indexed: int
    files_reread: int
    skipped: tuple[tuple[str, str], ...]  # (path, reason) of tracked files left out
    fan_in: dict[str, int]  # how many repo files import each file
    unknown_names: tuple[str, ...]  # names the task writes as code that no indexed file contains
    rerank_note: str | None = None  # how dense re-ranking went, when it was asked for

    @property
    def files(self) -> tuple[RankedFile, ...]:
        return self.ranking.files

    @property
    def tests(self) -> tuple[LinkedTest, ...]:
        return self.ranking.tests


def retrieve(
    repo: str | os.PathLike,
    task: str,
    top: int = 10,
    progress: Callable[[int, int], None] | None = None,
    rerank: str = "none",
) -> Retrieval:
    """Rank the repository's files for `task` (see `rank` for the signals); `rerank` is
    `none`, `dense` (a local embedding model re-scores the top candidates; an error without
    one) or `auto` (dense when a local model is present)."""
    from .conventions import detect_conventions
    from .dense import reranker_for

    reranker, rerank_note = reranker_for(rerank)
    index = open_index(repo, progress=progress)
    query = parse_query(task)
    ranking = rank(index, query, top=top, rerank=reranker)
    readable = index.readable_numbers.tolist()
    conventions = detect_conventions(
        index.root,
        {index.paths[n]: index.roles[n] for n in readable},
        {index.paths[n]: index.languages[n] for n in readable},
    )
    fan_in: dict[str, int] = {}
    for target in index.columns["edge_targets"].tolist():
        path = index.paths[target]
        fan_in[path] = fan_in.get(path, 0) + 1
    return Retrieval(
        query=query,
        ranking=ranking,
        conventions=conventions,
        index_status=index.status,
        index_key=index.key,
        files_indexed=len(readable),
        files_reread=index.reread,
        skipped=tuple((s.path, s.reason) for s in index.skipped),
        fan_in=fan_in,
        unknown_names=tuple(
            n for n in query.names if not all(t in index.vocab for t in identifier_tokens(n)[:1])
        ),
        rerank_note=rerank_note,
    )


__all__ = [
    "ChunkHit",
    "Index",
    "LinkedTest",
    "Query",
    "RankedFile",
    "Ranking",
    "Retrieval",
    "open_index",
    "parse_query",
    "rank",
    "retrieve",
]
