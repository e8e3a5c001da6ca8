"""Ranking: BM25 at chunk and file level, fused with the signals a careful engineer uses to find
the code a task is about.

Signals, each normalized to [0, 1] before fusion:
- `file`: BM25 of the whole file (path words included) against the task;
- `chunk`: the best chunk's BM25, so one on-topic function in a long file still counts;
- `definition`: the file defines a name the task writes as code (`flag_value`, `RetryBudget`);
- `path`: the task names the file, or its words match the file's name;
- `graph`: the file imports, or is imported by, one of the strongest hits.
A task listing several changes is also ranked entry by entry, and each entry's own ranking adds to
the whole task's, so a file that only one short entry is about still reaches the top.
Only code files are ranked as targets (with priors: stubs, package `__init__` re-exports, examples
and scripts are less often what a task changes); tests are linked to the targets, and docs that
mention the targets are returned as context."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass

from .index import Index
from .query import Query, normalize
from .roles import CODE, CONFIG, DOC, TARGETS
from .testlink import LinkedTest, link_tests

WEIGHTS = {"file": 0.45, "chunk": 0.35, "definition": 0.6, "path": 0.3, "graph": 0.15}
PART_WEIGHT = 1.0  # how much the entries' own rankings (averaged) add to the whole task's
NAME_WEIGHT = 2.0  # BM25 weight of the words of names the task writes as code, vs prose
PRIOR = {CONFIG: 0.6}  # configuration can be the target, but less often than code
# path shapes that are less often the file a task changes, and how much less
STUB_PRIOR = 0.7  # a `.pyi` stub next to its `.py`: the implementation changes first
REEXPORT_PRIOR = 0.7  # a package `__init__` that is mostly imports
AUXILIARY_PRIOR = 0.6  # examples, scripts, benchmarks, docs tooling
VERSION_PRIOR = 0.5  # `_version.py`, `__version__.py`: releases bump them, tasks rarely do
VERSION_FILE = re.compile(r"(?:^|/)(?:_{0,2}version_{0,2}|__about__)\.py$")
AUXILIARY_DIRS = frozenset({"examples", "example", "scripts", "benchmarks", "bench", "tools"})
CHUNKS_PER_FILE = 3
GRAPH_SEEDS = 3
GRAPH_FANOUT = 4  # neighbours a seed lends its full share to


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


class _View:
    """The readable files of an index as aligned arrays (position = rank order candidate)."""

    def __init__(self, index: Index) -> None:
        import numpy as np

        self.index = index
        self.numbers = index.readable_numbers
        numbers = self.numbers.tolist()
        self.paths = [index.paths[n] for n in numbers]
        self.roles = [index.roles[n] for n in numbers]
        self.position = {n: p for p, n in enumerate(numbers)}
        self.spans = np.asarray(index.spans)[self.numbers]
        self.size = len(numbers)
        self.is_readable = np.zeros(len(index.paths), dtype=bool)
        self.is_readable[self.numbers] = True


@dataclass
class _Signals:
    """One (sub)query's signals: name -> array over the view's positions, plus evidence."""

    values: dict
    evidence: dict  # position -> reasons
    chunk_raw: object  # BM25 of every chunk (None without words)
    best_chunk: dict  # position -> chunk number


def rank(index: Index, query: Query, top: int = 10, with_text: bool = True, rerank=None) -> Ranking:
    """Rank the index's files for the query; `top` code files get chunks and reasons. `rerank`
    (a `dense.DenseReranker`) re-scores the lexical top candidates by meaning."""
    import numpy as np

    view = _View(index)
    whole = _signals(index, view, query)
    fused = _fuse(whole.values, view.size)
    if query.parts:
        peak = float(fused.max()) if view.size else 0.0
        combined = fused / peak if peak > 0 else fused
        parts = []
        for number, part in enumerate(query.parts, 1):
            own = _signals(index, view, part)
            part_fused = _fuse(own.values, view.size)
            best = float(part_fused.max()) if view.size else 0.0
            if best <= 0:
                continue
            parts.append(part_fused / best)
            for position in np.argsort(-part_fused, kind="stable")[:3].tolist():
                if part_fused[position] > 0:
                    whole.evidence.setdefault(position, []).append(
                        f"among the best matches for entry {number} of the task"
                    )
        fused = combined + PART_WEIGHT * np.mean(parts, axis=0) if parts else combined
    _graph_signal(index, view, fused, whole)
    if "graph" in whole.values:
        fused = fused + WEIGHTS["graph"] * whole.values["graph"]
    fused = fused * _priors(index, view)
    if rerank is not None:
        _rerank(index, view, fused, whole, query, rerank)

    scores = {path: float(fused[p]) for p, path in enumerate(view.paths)}

    def ordered(*wanted: str) -> list[int]:
        chosen = [p for p in range(view.size) if view.roles[p] in wanted and fused[p] > 0]
        return sorted(chosen, key=lambda p: (-fused[p], view.paths[p]))

    targets = ordered(*TARGETS)[:top]
    files = tuple(
        _ranked(index, view, p, float(fused[p]), whole, query, with_text) for p in targets
    )
    target_paths = [view.paths[p] for p in targets]
    links = link_tests(
        {view.paths[p]: view.roles[p] for p in range(view.size)},
        index.edges,
        sources=target_paths[: max(3, top // 2)],
    )
    tests: dict[str, LinkedTest] = {}
    for path in target_paths[: max(3, top // 2)]:
        for link in links.get(path, ())[:4]:
            tests.setdefault(link.test, link)
    named = {p.rsplit("/", 1)[-1].rsplit(".", 1)[0] for p in target_paths[:5]}
    floor = 0.25 * (float(fused[targets[0]]) if targets else 0.0)
    docs_ranked = [
        p
        for p in ordered(DOC)[: 3 * max(3, top)]
        if fused[p] >= floor or _mentions(index, view, p, named)
    ][: max(3, top // 3)]
    docs = tuple(
        _ranked(index, view, p, float(fused[p]), whole, query, with_text) for p in docs_ranked
    )
    return Ranking(files=files, tests=tuple(tests.values()), docs=docs, scores=scores)


def _fuse(values: dict, size: int):
    import numpy as np

    total = np.zeros(size)
    for name, array in values.items():
        if name != "graph":
            total += WEIGHTS[name] * array
    return total


def _normalized(values):
    import numpy as np

    values = np.asarray(values, dtype=np.float64)
    top = float(values.max()) if len(values) else 0.0
    return values / top if top > 0 else np.zeros(len(values))


def _signals(index: Index, view: _View, query: Query) -> _Signals:
    import numpy as np

    values: dict = {}
    evidence: dict = {}
    tokens = list(query.tokens)
    chunk_raw = None
    best_chunk: dict[int, int] = {}
    if tokens and view.size:
        weights = _token_weights(query)
        values["file"] = _normalized(index.file_scores(tokens, weights))
        chunk_raw = index.chunk_scores(tokens, weights)
        chunk_top = float(chunk_raw.max()) if len(chunk_raw) else 0.0
        chunk = np.zeros(view.size)
        if chunk_top > 0:
            for position, number in _best_chunks(view, chunk_raw).items():
                chunk[position] = float(chunk_raw[number]) / chunk_top
                best_chunk[position] = number
        values["chunk"] = chunk
    values["definition"] = _definition_signal(index, view, query, evidence)
    values["path"] = _path_signal(index, view, query, evidence)
    return _Signals(values, evidence, chunk_raw, best_chunk)


def _token_weights(query: Query) -> list[float] | None:
    """Words of the names a task writes as code weigh more than its prose."""
    if NAME_WEIGHT == 1.0 or not query.names:
        return None
    from .tokenize import identifier_tokens

    named = {t for name in query.names for t in identifier_tokens(name)}
    return [NAME_WEIGHT if t in named else 1.0 for t in query.tokens]


def _best_chunks(view: _View, chunk_raw) -> dict[int, int]:
    """For each readable file with a matching chunk: its best chunk's number."""
    import numpy as np

    keep = np.flatnonzero(view.spans[:, 1] > view.spans[:, 0])
    if not len(keep):
        return {}
    spans = view.spans[keep]
    best = np.maximum.reduceat(chunk_raw, spans[:, 0])
    out = {}
    for row in np.flatnonzero(best > 0).tolist():
        a, b = int(spans[row, 0]), int(spans[row, 1])
        out[int(keep[row])] = a + int(chunk_raw[a:b].argmax())
    return out


def _definition_signal(index: Index, view: _View, query: Query, evidence):
    """Files defining a name the task writes as code; a name defined in many files counts less."""
    import numpy as np

    signal = np.zeros(view.size)
    wanted = set(query.normalized_names)
    for name in query.qualified:  # `Option.flag_value` finds the method, not every flag_value
        parts = normalize(name).split(".")
        wanted.add(".".join(parts[-2:]))
    owners: dict[str, dict[int, str]] = defaultdict(dict)
    for key in sorted(wanted):
        for number in index.definitions(key):
            position = view.position.get(int(index.chunks.file[number]))
            if position is not None:
                owners[key].setdefault(position, index.chunks.symbol(number) or key)
    for files in owners.values():
        weight = 1.0 / math.sqrt(len(files))
        for position, symbol in files.items():
            signal[position] = min(1.0, signal[position] + weight)
            evidence.setdefault(position, []).append(f"defines `{symbol}`, named in the task")
    return signal


def _path_signal(index: Index, view: _View, query: Query, evidence):
    """The task names the file (`core.py`, `src/app/core.py`), or its words match the file's
    name; a word found in many paths (`src`, the package name) counts for little."""
    import numpy as np

    signal = np.zeros(view.size)
    mentioned = [p.lower() for p in query.paths]
    if mentioned:
        for position, path in enumerate(view.paths):
            lowered = path.lower()
            if any(lowered == m or lowered.endswith("/" + m) for m in mentioned):
                signal[position] = 1.0
                evidence.setdefault(position, []).append("named in the task")
    ids = sorted(set(index.token_ids([t for t in query.tokens if len(t) > 1])))
    if not ids or not view.size:
        return signal
    columns = index.columns
    bounds = np.asarray(columns["path_bounds"])
    words = np.asarray(columns["path_ids"])
    hit = np.isin(words, ids)
    if not hit.any():
        return signal
    entries = np.flatnonzero(hit)
    owner = np.searchsorted(bounds, entries, side="right") - 1  # file number of each hit
    offset = entries - bounds[owner]
    in_name = offset < np.asarray(columns["name_counts"])[owner]
    tokens = words[entries]
    readable = view.is_readable[owner]
    entries, owner, in_name, tokens = (
        entries[readable],
        owner[readable],
        in_name[readable],
        tokens[readable],
    )
    if not len(entries):
        return signal
    total = max(2, view.size)
    frequency = np.bincount(tokens, minlength=int(tokens.max()) + 1)
    rarity = np.log(total / frequency[tokens]) / math.log(total)
    positions = np.fromiter(
        (view.position[int(n)] for n in owner), dtype=np.int64, count=len(owner)
    )
    name_counts = np.asarray(columns["name_counts"])[view.numbers]
    name_part = np.bincount(positions, weights=rarity * in_name, minlength=view.size)
    name_part = name_part / np.maximum(1, name_counts)
    folder_part = np.zeros(view.size)
    np.maximum.at(folder_part, positions[~in_name], rarity[~in_name])
    value = name_part + 0.3 * folder_part
    words_of = index.vocab_words
    for position in np.flatnonzero((value > 0.05) & (signal < 1.0)).tolist():
        signal[position] = min(1.0, float(value[position]))
        matched = [words_of(int(t)) for t in tokens[positions == position]]
        evidence.setdefault(position, []).append(
            "path matches " + ", ".join(f"'{w}'" for w in matched)
        )
    return signal


def _graph_signal(index: Index, view: _View, fused, signals: _Signals) -> None:
    """Neighbours in the import graph of the strongest code hits share a little of their score:
    the code a task touches usually sits next to what it names."""
    import numpy as np

    code = [p for p in np.argsort(-fused, kind="stable").tolist() if view.roles[p] == CODE]
    strong = [p for p in code[:GRAPH_SEEDS] if fused[p] > 0]
    if not strong:
        return
    top = float(fused[strong[0]])
    columns = index.columns
    bounds, targets = columns["edge_bounds"], np.asarray(columns["edge_targets"])
    graph = np.zeros(view.size)
    for hit in strong:
        share = float(fused[hit]) / top
        number = int(view.numbers[hit])
        imported = targets[int(bounds[number]) : int(bounds[number + 1])].tolist()
        sources = np.searchsorted(bounds, np.flatnonzero(targets == number), side="right") - 1
        neighbours = [(t, "imported by") for t in imported] + [
            (int(s), "imports") for s in sources.tolist()
        ]
        # a hub (a package __init__, a module everything imports) vouches for each neighbour less
        share /= max(1.0, len(neighbours) / GRAPH_FANOUT) ** 0.5
        for neighbour, how in neighbours:
            position = view.position.get(neighbour)
            if position is None or position == hit or view.roles[position] != CODE:
                continue
            if share > graph[position]:
                graph[position] = share
                signals.evidence.setdefault(position, []).append(
                    f"{how} {view.paths[hit]} (a strong hit)"
                )
    signals.values["graph"] = graph


def _priors(index: Index, view: _View):
    """How likely each file is, by its kind and place alone, to be the file a task changes
    (computed once per index)."""
    cached = index.memo.get("priors")
    if cached is None:
        cached = index.memo["priors"] = _compute_priors(index, view)
    return cached


def _compute_priors(index: Index, view: _View):
    import numpy as np

    prior = np.ones(view.size)
    implementations = {p for p in view.paths if p.endswith(".py")}
    for position, (path, role) in enumerate(zip(view.paths, view.roles, strict=True)):
        value = PRIOR.get(role, 1.0)
        folders = path.split("/")[:-1]
        if any(f in AUXILIARY_DIRS for f in folders):
            value *= AUXILIARY_PRIOR
        if VERSION_FILE.search(path):
            value *= VERSION_PRIOR
        if path.endswith(".pyi") and path[:-1] in implementations:
            value *= STUB_PRIOR
        elif path.endswith("/__init__.py") or path == "__init__.py":
            if _mostly_imports(index, view, position):
                value *= REEXPORT_PRIOR
        prior[position] = value
    return prior


def _mostly_imports(index: Index, view: _View, position: int) -> bool:
    """A package `__init__` whose chunks are all module-level (no function or class of its own)."""
    a, b = (int(v) for v in view.spans[position])
    kinds = index.chunks.kind_names
    return all(kinds(i) == "module" for i in range(a, b))


def _mentions(index: Index, view: _View, position: int, names: set[str]) -> bool:
    first, end = (int(v) for v in view.spans[position])
    for number in range(first, min(end, first + 20)):
        text = index.chunk_text(number) or ""
        if any(name and len(name) > 3 and name in text for name in names):
            return True
    return False


def _ranked(
    index: Index, view: _View, position: int, score: float, whole: _Signals, query, with_text
) -> RankedFile:
    path, role = view.paths[position], view.roles[position]
    chunk_raw = whole.chunk_raw
    chunk_ids = _chosen_chunks(index, view, position, chunk_raw, query, CHUNKS_PER_FILE)
    hits = []
    for i in sorted(chunk_ids, key=lambda i: int(index.chunks.lines[i][0])):
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
    signal = {name: float(values[position]) for name, values in whole.values.items()}
    signal = {name: value for name, value in signal.items() if value}
    lexical = []
    if signal.get("file") or signal.get("chunk"):
        words = _words_in(index, query, chunk_ids)
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
        reasons=tuple(dict.fromkeys([*whole.evidence.get(position, ()), *lexical])),
        chunks=tuple(hits),
        signals=tuple(sorted(signal.items())),
    )


def _chosen_chunks(index: Index, view: _View, position: int, chunk_raw, query, limit: int):
    """A file's chunks worth showing: those defining a name the task names, then the best by
    BM25; the file's first chunk when none matches."""
    first, end = (int(v) for v in view.spans[position])
    if end <= first:
        return []
    span = range(first, end)
    wanted = query.normalized_names
    defining = [
        i
        for i in span
        if (symbol := index.chunks.symbol(i))
        and normalize(symbol.replace("::", ".").rsplit(".", 1)[-1]) in wanted
    ]
    if chunk_raw is not None:
        local = chunk_raw[first:end]
        order = sorted(range(len(local)), key=lambda i: -float(local[i]))
        defining += [first + i for i in order[: limit + len(defining)] if local[i] > 0]
    chosen = list(dict.fromkeys(defining))[:limit]
    return chosen or [first]


def _rerank(index: Index, view: _View, fused, whole: _Signals, query: Query, reranker) -> None:
    """Dense re-ranking of the lexical top candidates (targets only), in place: each keeps its
    lexical score and gains up to `dense.WEIGHT` of the top score by its similarity rank."""
    import numpy as np

    from . import dense

    chosen = [p for p in range(view.size) if view.roles[p] in TARGETS and fused[p] > 0]
    chosen.sort(key=lambda p: (-fused[p], view.paths[p]))
    chosen = chosen[: dense.CANDIDATES]
    if len(chosen) < 2:
        return
    chunk_sets = [
        _chosen_chunks(index, view, p, whole.chunk_raw, query, dense.CHUNKS_PER_FILE)
        for p in chosen
    ]
    similarity = np.asarray(reranker.scores(index, query.text, chunk_sets))
    low, high = float(similarity.min()), float(similarity.max())
    spread = (similarity - low) / (high - low) if high > low else np.zeros(len(chosen))
    top = float(fused[chosen[0]])
    for position, value, cosine in zip(chosen, spread.tolist(), similarity.tolist(), strict=True):
        fused[position] += dense.WEIGHT * top * value
        if value >= 0.5:
            whole.evidence.setdefault(position, []).append(
                f"close in meaning to the task (embedding similarity {cosine:.2f})"
            )


def _words_in(index: Index, query: Query, chunk_ids: list[int]) -> list[str]:
    """The task's words found in these chunks (at most six), from the chunk postings."""
    import numpy as np

    postings = index.chunk_postings
    found = []
    for word in query.tokens:
        token = index.vocab.get(word)
        if token is None or token + 1 >= len(postings.indptr):
            continue
        a, b = int(postings.indptr[token]), int(postings.indptr[token + 1])
        column = postings.indices[a:b]  # sorted chunk numbers
        places = np.searchsorted(column, chunk_ids)
        if any(p < len(column) and column[p] == c for p, c in zip(places, chunk_ids, strict=True)):
            found.append(word)
            if len(found) == 6:
                break
    return found
