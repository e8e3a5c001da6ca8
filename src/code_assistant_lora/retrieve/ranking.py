"""Ranking: BM25 at chunk and file level, fused with the signals a careful engineer uses to find
the code a task is about.

Signals, each normalized to [0, 1] before fusion:
- `file`: BM25 of the whole file (path words included) against the task;
- `chunk`: the best chunk's BM25, so one on-topic function in a long file still counts;
- `definition`: the file defines a name the task writes as code (`flag_value`, `RetryBudget`);
- `path`: the task names the file, or its words match the file's name;
- `graph`: the file imports, or is imported by, one of the strongest hits.
Only code files are ranked as targets; tests are linked to the targets, and docs that mention the
targets are returned as context."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from .index import Index
from .query import Query, normalize
from .roles import CODE, CONFIG, DOC, TARGETS
from .testlink import LinkedTest, link_tests
from .tokenize import path_tokens

WEIGHTS = {"file": 0.45, "chunk": 0.35, "definition": 0.6, "path": 0.3, "graph": 0.15}
PRIOR = {CONFIG: 0.6}  # configuration can be the target, but less often than code
CHUNKS_PER_FILE = 3


@dataclass(frozen=True)
class ChunkHit:
    path: str
    symbol: str | None
    kind: str
    start_line: int
    end_line: int
    score: float
    text: str | None = None

    def to_dict(self) -> dict:
        return {
            "start_line": self.start_line,
            "end_line": self.end_line,
            "symbol": self.symbol,
            "kind": self.kind,
            "score": round(self.score, 4),
            "text": self.text,
        }


@dataclass(frozen=True)
class RankedFile:
    path: str
    score: float
    role: str
    reasons: tuple[str, ...]
    chunks: tuple[ChunkHit, ...]
    signals: tuple[tuple[str, float], ...] = ()

    def to_dict(self) -> dict:
        return {
            "path": self.path,
            "score": round(self.score, 4),
            "reasons": list(self.reasons),
            "chunks": [c.to_dict() for c in self.chunks],
        }


@dataclass(frozen=True)
class Ranking:
    files: tuple[RankedFile, ...]  # code targets, best first
    tests: tuple[LinkedTest, ...]  # tests linked to the top targets
    docs: tuple[RankedFile, ...]  # documentation that matches the task or names the targets
    scores: dict[str, float]  # every readable file's fused score (code, tests and docs)


def _normalized(values) -> list[float]:
    top = float(max(values)) if len(values) else 0.0
    return [float(v) / top if top > 0 else 0.0 for v in values]


def rank(index: Index, query: Query, top: int = 10, with_text: bool = True) -> Ranking:
    """Rank the index's files for the query; `top` code files get chunks and reasons."""
    readable = index.readable
    paths = [f.path for f in readable]
    roles = {f.path: f.role for f in readable}
    tokens = list(query.tokens)
    file_norm = _normalized(index.file_scores(tokens)) if tokens else [0.0] * len(readable)
    chunk_raw = index.chunk_scores(tokens) if tokens else None
    chunk_top = float(chunk_raw.max()) if chunk_raw is not None and len(chunk_raw) else 0.0

    signals: dict[str, dict[str, float]] = defaultdict(dict)
    evidence: dict[str, list[str]] = defaultdict(list)
    best_chunk: dict[str, int] = {}
    for position, entry in enumerate(readable):
        path = entry.path
        if file_norm[position]:
            signals[path]["file"] = file_norm[position]
        if chunk_raw is not None and entry.end_chunk > entry.first_chunk and chunk_top > 0:
            span = chunk_raw[entry.first_chunk : entry.end_chunk]
            offset = int(span.argmax())
            if span[offset] > 0:
                signals[path]["chunk"] = float(span[offset]) / chunk_top
                best_chunk[path] = entry.first_chunk + offset

    _definition_signal(index, query, signals, evidence)
    _path_signal(index, query, paths, signals, evidence)
    fused = {path: _fuse(signals[path]) if path in signals else 0.0 for path in paths}
    _graph_signal(index, roles, fused, signals, evidence)
    fused = {path: _fuse(signals[path]) if path in signals else 0.0 for path in paths}

    for path, role in roles.items():
        if role in PRIOR and fused[path]:
            fused[path] *= PRIOR[role]

    def ordered(*wanted: str) -> list[str]:
        return sorted(
            (p for p in paths if roles[p] in wanted and fused[p] > 0), key=lambda p: (-fused[p], p)
        )

    targets = ordered(*TARGETS)[:top]
    files = tuple(
        _ranked(
            index,
            path,
            fused[path],
            roles[path],
            signals[path],
            evidence[path],
            chunk_raw,
            query,
            with_text,
        )
        for path in targets
    )
    links = link_tests(roles, index.edges)
    tests: dict[str, LinkedTest] = {}
    for path in targets[: max(3, top // 2)]:
        for link in links.get(path, ())[:4]:
            tests.setdefault(link.test, link)
    named = {p.rsplit("/", 1)[-1].rsplit(".", 1)[0] for p in targets[:5]}
    docs_ranked = [
        p
        for p in ordered(DOC)
        if fused[p] >= 0.25 * (fused[targets[0]] if targets else 0) or _mentions(index, p, named)
    ][: max(3, top // 3)]
    docs = tuple(
        _ranked(
            index,
            path,
            fused[path],
            DOC,
            signals[path],
            evidence[path],
            chunk_raw,
            query,
            with_text,
        )
        for path in docs_ranked
    )
    return Ranking(files=files, tests=tuple(tests.values()), docs=docs, scores=fused)


def _fuse(signal: dict[str, float]) -> float:
    return sum(WEIGHTS[name] * value for name, value in signal.items())


def _definition_signal(index: Index, query: Query, signals, evidence) -> None:
    """Files defining a name the task writes as code; a name defined in many files counts less."""
    wanted = query.normalized_names
    qualified = {normalize(q) for q in query.qualified}
    if not wanted:
        return
    owners: dict[str, set[str]] = defaultdict(set)
    where: dict[tuple[str, str], str] = {}
    for meta in index.chunks:
        if not meta.symbol:
            continue
        last = normalize(meta.symbol.replace("::", ".").rsplit(".", 1)[-1])
        if last in wanted:
            owners[last].add(meta.path)
            where.setdefault((meta.path, last), meta.symbol)
        full = normalize(meta.symbol.replace("::", "."))
        if "." in meta.symbol and any(
            q.endswith(full) or full.endswith(q) for q in qualified if "." in q
        ):
            owners["." + full].add(meta.path)
            where.setdefault((meta.path, "." + full), meta.symbol)
    for name, files in owners.items():
        weight = 1.0 / math.sqrt(len(files))
        for path in files:
            signals[path]["definition"] = min(1.0, signals[path].get("definition", 0.0) + weight)
            evidence[path].append(f"defines `{where[(path, name)]}`, named in the task")


def _path_signal(index: Index, query: Query, paths: list[str], signals, evidence) -> None:
    """The task names the file (`core.py`, `src/app/core.py`), or its words match the file's
    name; a word found in many paths (`src`, the package name) counts for little."""
    mentioned = [p.lower() for p in query.paths]
    words = set(query.tokens)
    # only paths holding a query word as a substring can match one after splitting
    probes = tuple(w for w in words if len(w) > 1)
    split = {
        path: set(path_tokens(path))
        for path in paths
        if any(w in path.lower().replace("_", "") for w in probes)
    }
    frequency: dict[str, int] = defaultdict(int)
    for found in split.values():
        for word in found & words:
            frequency[word] += 1
    total = max(2, len(paths))

    def rarity(word: str) -> float:
        return math.log(total / frequency[word]) / math.log(total)

    for path in paths:
        lowered = path.lower()
        if mentioned and any(lowered == m or lowered.endswith("/" + m) for m in mentioned):
            signals[path]["path"] = 1.0
            evidence[path].append("named in the task")
            continue
        if path not in split:
            continue
        name_words = set(path_tokens(path.rsplit("/", 1)[-1]))
        hit_name = sorted(name_words & words)
        hit_folder = sorted((split[path] - name_words) & words)
        value = sum(rarity(w) for w in hit_name) / max(1, len(name_words))
        value += 0.3 * max((rarity(w) for w in hit_folder), default=0.0)
        if value > 0.05:
            signals[path]["path"] = min(1.0, value)
            evidence[path].append(
                "path matches " + ", ".join(f"'{w}'" for w in hit_name + hit_folder)
            )


def _graph_signal(index: Index, roles, fused, signals, evidence) -> None:
    """Neighbours in the import graph of the three strongest code hits share a little of their
    score: the code a task touches usually sits next to what it names."""
    strong = sorted(
        (p for p in fused if roles[p] == CODE and fused[p] > 0), key=lambda p: -fused[p]
    )[:3]
    if not strong:
        return
    top = fused[strong[0]]
    importers: dict[str, list[str]] = defaultdict(list)
    for source, targets in index.edges.items():
        for target in targets:
            importers[target].append(source)
    for hit in strong:
        share = fused[hit] / top
        for neighbour, how in [(t, "imported by") for t in index.edges.get(hit, ())] + [
            (s, "imports") for s in importers.get(hit, ())
        ]:
            if neighbour == hit or roles.get(neighbour) != CODE:
                continue
            if share > signals[neighbour].get("graph", 0.0):
                signals[neighbour]["graph"] = share
                evidence[neighbour].append(f"{how} {hit} (a strong hit)")


def _mentions(index: Index, path: str, names: set[str]) -> bool:
    entry = index.entry(path)
    if entry is None:
        return False
    for number in range(entry.first_chunk, min(entry.end_chunk, entry.first_chunk + 20)):
        text = index.chunk_text(number) or ""
        if any(name and len(name) > 3 and name in text for name in names):
            return True
    return False


def _ranked(
    index, path, score, role, signal, reasons, chunk_raw, query: Query, with_text
) -> RankedFile:
    entry = index.entry(path)
    chunk_ids: list[int] = []
    if entry is not None and entry.end_chunk > entry.first_chunk:
        span = range(entry.first_chunk, entry.end_chunk)
        wanted = query.normalized_names
        defining = [
            i
            for i in span
            if index.chunks[i].symbol
            and normalize(index.chunks[i].symbol.replace("::", ".").rsplit(".", 1)[-1]) in wanted
        ]
        by_score = (
            sorted(span, key=lambda i: -float(chunk_raw[i]))
            if chunk_raw is not None
            else list(span)
        )
        for i in defining + [i for i in by_score if chunk_raw is not None and chunk_raw[i] > 0]:
            if i not in chunk_ids:
                chunk_ids.append(i)
            if len(chunk_ids) >= CHUNKS_PER_FILE:
                break
        if not chunk_ids:
            chunk_ids = [entry.first_chunk]
    hits = []
    for i in sorted(chunk_ids, key=lambda i: index.chunks[i].start_line):
        meta = index.chunks[i]
        hits.append(
            ChunkHit(
                path=meta.path,
                symbol=meta.symbol,
                kind=meta.kind,
                start_line=meta.start_line,
                end_line=meta.end_line,
                score=float(chunk_raw[i]) if chunk_raw is not None else 0.0,
                text=index.chunk_text(i) if with_text else None,
            )
        )
    present = {t for i in chunk_ids for t in index.tokens_of(i)}
    words = [w for w in query.tokens if index.vocab.get(w, -1) in present][:6]
    lexical = []
    if signal.get("file", 0) or signal.get("chunk", 0):
        best = max(hits, key=lambda h: h.score) if hits else None
        where = (
            f" (best: {best.symbol or best.kind} lines {best.start_line}-{best.end_line})"
            if best
            else ""
        )
        lexical.append(
            "matches the task's words " + ", ".join(f"'{w}'" for w in words) + where
            if words
            else "matches the task's words" + where
        )
    return RankedFile(
        path=path,
        score=score,
        role=role,
        reasons=tuple(dict.fromkeys([*reasons, *lexical])),
        chunks=tuple(hits),
        signals=tuple(sorted(signal.items())),
    )
