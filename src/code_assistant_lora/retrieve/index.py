"""The retrieval index: every chunk of every readable tracked file, tokenized, with BM25 matrices at
chunk and file level, cached under `.code-assistant/index/` and keyed by the work tree's content.

A second query on an unchanged tree loads the cache and scans nothing. When the tree changed, only
files whose content changed (by git blob id, or content hash for unstaged edits) are read,
chunked and tokenized again; the rest are reused from the cache. The BM25 matrices are rebuilt from
the stored token ids because document frequencies are global (that step is cheap: no file is read).

The cache is laid out to open fast: per-file columns and the vocabulary are small text files, and
every per-chunk column and both BM25 matrices are plain `.npy` arrays opened memory-mapped, so a
query reads only the postings of its own words. What only an update needs (file versions, raw
imports, chunk token ids) is read only by an update. Nothing in it is executable (JSON, text and
numpy arrays loaded with allow_pickle=False), so a repository that ships a hostile
`.code-assistant/` cannot run code through it; shapes are checked before anything is trusted.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from .. import scan
from ..errors import UserError
from ..report import write_atomic
from .graph import ModuleMap, extract_imports
from .query import normalize
from .roles import role_of
from .tokenize import path_tokens, symbol_tokens, tokenize

INDEX_SCHEMA = "code-assistant/retrieval-index@5"
CACHE_DIR = Path(".code-assistant") / "index"
KEEP_INDEXES = 2
CHUNK_K1, CHUNK_B = 1.2, 0.75
FILE_K1, FILE_B = 1.2, 0.5  # whole files vary far more in length than chunks; normalize less
HASH_CHARS = 16  # a 16-hex-digit prefix of a chunk's hash is enough to notice a stale file
KEY_CHARS = 64  # definition keys are cut to this length (and checked in full on a match)

_ARRAYS = (
    "file_spans",  # (files, 2) int32: chunk range [first, end) of each file
    "chunk_file",  # (chunks,) int32: file number
    "chunk_lines",  # (chunks, 2) int32: first and last line, 1-based
    "chunk_kind",  # (chunks,) uint8: index into meta["kinds"]
    "chunk_symbol",  # (chunks,) int32: index into symbols.json, -1 for none
    "chunk_hash",  # (chunks,) S16
    "def_keys",  # (defs,) U64, sorted: normalized symbol names and dotted tails
    "def_chunks",  # (defs,) int32: the chunk each key names
    "path_bounds",  # (files + 1,) int64: CSR rows of each file's path words
    "path_ids",  # vocabulary ids: the file name's words first, then its folders' new words
    "name_counts",  # (files,) int32: how many of a file's path words come from its name
    "edge_bounds",  # (files + 1,) int64: CSR rows of the resolved import graph
    "edge_targets",  # (edges,) int32: file numbers
    "chunk_bm25_data",
    "chunk_bm25_indices",
    "chunk_bm25_indptr",
    "file_bm25_data",
    "file_bm25_indices",
    "file_bm25_indptr",
)
_UPDATE_ARRAYS = ("tokens", "token_bounds")  # only an update reads these


def _roles_fingerprint() -> str:
    """Roles are stored in the cache only for the rules that computed them."""
    from . import roles

    try:
        return hashlib.sha1(Path(roles.__file__).read_bytes()).hexdigest()[:16]
    except OSError:
        return "unknown"


class ChunkMeta(NamedTuple):
    """Where a chunk is (its text is read back from the work tree when needed)."""

    path: str
    symbol: str | None
    kind: str
    start_line: int
    end_line: int
    content_hash: str


@dataclass(frozen=True)
class FileEntry:
    """One tracked file as indexed: readable ones carry their chunks [first_chunk, end_chunk)."""

    path: str
    version: str
    language: str = ""
    role: str = ""
    imports: tuple[str, ...] = ()
    first_chunk: int = 0
    end_chunk: int = 0
    skipped: str | None = None  # the reason, for files not indexed


class Postings:
    """A BM25 weight matrix in CSC form: for each vocabulary id, the documents holding it and
    their weights. Scoring a query touches only its own words' columns."""

    __slots__ = ("data", "docs", "indices", "indptr")

    def __init__(self, data, indices, indptr, docs: int) -> None:
        self.data, self.indices, self.indptr, self.docs = data, indices, indptr, docs

    def scores(self, ids: Sequence[int], weights: Sequence[float] | None = None):
        """Sum of the query words' weights per document (float32), optionally weighted per word."""
        import numpy as np

        out = np.zeros(self.docs, dtype=np.float32)
        columns = len(self.indptr) - 1
        for n, token in enumerate(ids):
            if token >= columns:
                continue
            a, b = int(self.indptr[token]), int(self.indptr[token + 1])
            if a == b:
                continue
            values = self.data[a:b]
            out[self.indices[a:b]] += values if weights is None else values * weights[n]
        return out


class ChunkTable(Sequence):
    """Chunk metadata as columns; a `ChunkMeta` is made only for the chunks a caller looks at."""

    def __init__(self, paths: list[str], columns: dict, kinds: list[str], symbols) -> None:
        self._paths = paths
        self.file = columns["chunk_file"]
        self.lines = columns["chunk_lines"]
        self.kind = columns["chunk_kind"]
        self.symbol_ids = columns["chunk_symbol"]
        self.hashes = columns["chunk_hash"]
        self._kinds = kinds
        self._symbols = symbols  # a list, or a function that loads it

    @property
    def symbols(self) -> list[str]:
        if callable(self._symbols):
            self._symbols = self._symbols()
        return self._symbols

    def __len__(self) -> int:
        return len(self.file)

    def kind_names(self, number: int) -> str:
        return self._kinds[int(self.kind[number])]

    def symbol(self, number: int) -> str | None:
        found = int(self.symbol_ids[number])
        return self.symbols[found] if found >= 0 else None

    def __getitem__(self, number):  # type: ignore[override]
        if isinstance(number, slice):
            return [self[i] for i in range(*number.indices(len(self)))]
        start, end = self.lines[number]
        return ChunkMeta(
            self._paths[int(self.file[number])],
            self.symbol(number),
            self._kinds[int(self.kind[number])],
            int(start),
            int(end),
            bytes(self.hashes[number]).decode("ascii"),
        )

    def __iter__(self) -> Iterator[ChunkMeta]:
        return (self[i] for i in range(len(self)))


class Index:
    """One indexed work tree. Per-file columns (`paths`, `languages`, `roles`, `spans`) cover
    every tracked file in path order; skipped files have no chunks and a reason in `skip`."""

    def __init__(
        self,
        root: Path,
        key: str,
        status: str,
        paths: list[str],
        languages: list[str],
        roles: list[str],
        skip: dict[int, str],
        columns: dict,
        kinds: list[str],
        symbols,
        vocab: dict[str, int],
        extra,
        reread: int = 0,
    ) -> None:
        import numpy as np

        self.root, self.key, self.status, self.reread = root, key, status, reread
        self.paths, self.languages, self.roles, self.skip = paths, languages, roles, skip
        self.columns = columns
        self.spans = columns["file_spans"]
        self.chunks = ChunkTable(paths, columns, kinds, symbols)
        self.vocab = vocab
        self.readable_numbers = np.array(
            [n for n in range(len(paths)) if n not in skip], dtype=np.int64
        )
        self._extra = extra  # versions, raw imports, token ids: read on first use
        self._chunk_bm25 = Postings(
            columns["chunk_bm25_data"],
            columns["chunk_bm25_indices"],
            columns["chunk_bm25_indptr"],
            len(self.chunks),
        )
        self._file_bm25 = Postings(
            columns["file_bm25_data"],
            columns["file_bm25_indices"],
            columns["file_bm25_indptr"],
            len(self.readable_numbers),
        )
        self._lines: dict[str, list[str]] = {}
        self._edges: dict[str, list[str]] | None = None
        self._number: dict[str, int] | None = None
        self._words: list[str] | None = None
        self.memo: dict = {}  # what callers derive from the index once (ranking priors)

    # --- per-file views ---

    def number(self, path: str) -> int | None:
        if self._number is None:
            self._number = {p: n for n, p in enumerate(self.paths)}
        return self._number.get(path)

    @property
    def extra(self):
        """versions, imports (raw specifiers by file number), tokens, token_bounds."""
        return self._extra

    @property
    def files(self) -> list[FileEntry]:
        versions, imports = self.extra["versions"], self.extra["imports"]
        return [
            FileEntry(
                path,
                versions[n],
                self.languages[n],
                self.roles[n],
                tuple(imports.get(str(n), ())),
                int(self.spans[n][0]),
                int(self.spans[n][1]),
                self.skip.get(n),
            )
            for n, path in enumerate(self.paths)
        ]

    @property
    def readable(self) -> list[FileEntry]:
        return [f for f in self.files if f.skipped is None]

    @property
    def skipped(self) -> list[scan.Skipped]:
        return [scan.Skipped(self.paths[n], reason) for n, reason in sorted(self.skip.items())]

    @property
    def edges(self) -> dict[str, list[str]]:
        """file -> the repo files it imports."""
        if self._edges is None:
            bounds = self.columns["edge_bounds"].tolist()
            targets = self.columns["edge_targets"].tolist()
            paths = self.paths
            self._edges = {
                paths[n]: [paths[t] for t in targets[bounds[n] : bounds[n + 1]]]
                for n in range(len(paths))
                if bounds[n + 1] > bounds[n]
            }
        return self._edges

    # --- scoring ---

    @property
    def chunk_postings(self) -> Postings:
        return self._chunk_bm25

    def vocab_words(self, token: int) -> str:
        """The word with this vocabulary id."""
        if self._words is None:
            self._words = list(self.vocab)
        return self._words[token]

    def token_ids(self, tokens: Sequence[str]) -> list[int]:
        vocab = self.vocab
        return [vocab[t] for t in tokens if t in vocab]

    def chunk_scores(self, query: Sequence[str], weights: Sequence[float] | None = None):
        """BM25 score of every chunk for the query tokens (a numpy array, chunk order)."""
        return self._scores(self._chunk_bm25, query, weights)

    def file_scores(self, query: Sequence[str], weights: Sequence[float] | None = None):
        """BM25 score of every readable file (order of `readable_numbers`) against its whole
        text and path words."""
        return self._scores(self._file_bm25, query, weights)

    def _scores(self, postings: Postings, query, weights):
        vocab = self.vocab
        kept = [
            (vocab[t], 1.0 if weights is None else weights[n])
            for n, t in enumerate(query)
            if t in vocab
        ]
        kept = [(t, w) for t, w in kept if w]
        return postings.scores([t for t, _ in kept], [w for _, w in kept])

    def definitions(self, key: str):
        """Chunks whose symbol's normalized name (or dotted tail, `option.flagvalue`) is `key`."""
        import numpy as np

        keys = self.columns["def_keys"]
        probe = key[:KEY_CHARS]
        a = int(np.searchsorted(keys, probe, "left"))
        b = int(np.searchsorted(keys, probe, "right"))
        found = self.columns["def_chunks"][a:b].tolist()
        if len(key) >= KEY_CHARS:
            found = [c for c in found if key in _definition_keys(self.chunks.symbol(c) or "")]
        return found

    def tokens_of(self, number: int) -> list[int]:
        """The token ids of one chunk."""
        bounds = self.extra["token_bounds"]
        return self.extra["tokens"][bounds[number] : bounds[number + 1]].tolist()

    # --- text ---

    def chunk_text(self, number: int) -> str | None:
        """The chunk's text from the work tree; None when the file no longer matches the index."""
        path = self.paths[int(self.chunks.file[number])]
        start, end = (int(v) for v in self.chunks.lines[number])
        lines = self._file_lines(path)
        text = "\n".join(lines[start - 1 : end])
        expected = bytes(self.chunks.hashes[number]).decode("ascii")
        return text if scan.content_hash(text).startswith(expected) else None

    def _file_lines(self, path: str) -> list[str]:
        lines = self._lines.get(path)
        if lines is None:
            try:
                text = (self.root / path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                text = ""
            lines = text.removeprefix("\ufeff").replace("\r\n", "\n").split("\n")
            self._lines[path] = lines
        return lines


class _Lazy(dict):
    """A mapping whose values are loaded on first use (each loader runs once)."""

    def __init__(self, **loaders: Callable[[], object]) -> None:
        super().__init__()
        self._loaders = loaders

    def __missing__(self, name: str):
        value = self[name] = self._loaders[name]()
        return value


def _definition_keys(symbol: str) -> list[str]:
    """`Option.flag_value` -> ['flagvalue', 'option.flagvalue']: the name and its dotted tails."""
    parts = [normalize(p) for p in symbol.replace("::", ".").split(".") if p]
    return [".".join(parts[i:]) for i in range(len(parts) - 1, -1, -1)] if parts else []


# --- building -----------------------------------------------------------------------------------


def _index_file(root: Path, item: scan.TrackedFile, venvs: frozenset[str]):
    """Read, chunk and tokenize one file: (file record, chunk rows, token lists)."""
    source = scan.read_source(root, item, venvs)
    if isinstance(source, scan.Skipped):
        return (item.version, "", (), source.reason), [], []
    chunks = scan.chunk_file(source)
    tokens = [tokenize(c.text) + (symbol_tokens(c.symbol) if c.symbol else []) for c in chunks]
    rows = [
        (c.symbol, c.kind, c.start_line, c.end_line, c.content_hash[:HASH_CHARS]) for c in chunks
    ]
    record = (item.version, source.language, extract_imports(source.language, source.text), None)
    return record, rows, tokens


def open_index(
    repo: str | os.PathLike, progress: Callable[[int, int], None] | None = None
) -> Index:
    """The index for the repository's current tracked content: loaded from the cache when the tree
    is unchanged, updated from the previous index when it changed, built from scratch otherwise."""
    root = scan.repo_root(repo)
    items = scan.tracked_files(root)
    key = scan.tree_key(items)
    cache = root / CACHE_DIR
    latest = _read_latest(cache)
    if latest == key:
        loaded = _load(root, cache / key[:24], key)
        if loaded is not None:
            return loaded
    previous = _load(root, cache / latest[:24], latest) if latest else None
    index = _assemble(root, key, items, previous, progress)
    _save(index, cache)
    return index


def _assemble(
    root: Path,
    key: str,
    items: list[scan.TrackedFile],
    previous: Index | None,
    progress: Callable[[int, int], None] | None,
) -> Index:
    import numpy as np

    old: dict[str, int] = {}
    if previous is not None:
        try:
            for name in ("versions", "imports", "tokens", "token_bounds"):
                previous.extra[name]  # noqa: B018 - load now, so damage shows here
            old = {path: n for n, path in enumerate(previous.paths)}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            previous, old = None, {}
    # the previous vocabulary is kept (ids stay valid); new words are appended
    vocab: dict[str, int] = dict(previous.vocab) if previous is not None else {}
    venvs = scan.venv_roots(i.path for i in items)
    paths: list[str] = []
    languages: list[str] = []
    versions_out: list[str] = []
    imports_out: dict[str, list[str]] = {}
    skip: dict[int, str] = {}
    spans: list[tuple[int, int]] = []
    rows: list[tuple] = []  # (symbol, kind, start, end, hash)
    pieces: list = []  # token id arrays, chunk by chunk in runs
    lengths: list = []
    reread = 0
    total = 0
    for done, item in enumerate(sorted(items, key=lambda i: i.path), 1):
        number = len(paths)
        before = old.get(item.path)
        if before is not None and previous.extra["versions"][before] == item.version:
            language = previous.languages[before]
            reason = previous.skip.get(before)
            imports = previous.extra["imports"].get(str(before), [])
            a, b = (int(v) for v in previous.spans[before])
            table = previous.chunks
            for i in range(a, b):
                rows.append(
                    (
                        table.symbol(i),
                        table._kinds[int(table.kind[i])],
                        int(table.lines[i][0]),
                        int(table.lines[i][1]),
                        bytes(table.hashes[i]).decode("ascii"),
                    )
                )
            if b > a:
                bounds = previous.extra["token_bounds"]
                pieces.append(np.asarray(previous.extra["tokens"][bounds[a] : bounds[b]]))
                lengths.append(np.diff(np.asarray(bounds[a : b + 1])))
            count = b - a
        else:
            (version, language, imports, reason), new_rows, tokens = _index_file(root, item, venvs)
            reread += 1
            rows.extend(new_rows)
            ids = [[vocab.setdefault(t, len(vocab)) for t in chunk] for chunk in tokens]
            if ids:
                pieces.append(np.fromiter((t for chunk in ids for t in chunk), dtype=np.int32))
                lengths.append(np.array([len(chunk) for chunk in ids], dtype=np.int64))
            count = len(new_rows)
        paths.append(item.path)
        languages.append(language)
        versions_out.append(item.version)
        if imports:
            imports_out[str(number)] = list(imports)
        if reason is not None:
            skip[number] = reason
        spans.append((total, total + count))
        total += count
        if progress is not None:
            progress(done, len(items))
    if not total:
        reasons = sorted(set(skip.values()))
        detail = (
            f" (all {len(paths)} tracked files skipped: {'; '.join(reasons[:4])})" if paths else ""
        )
        raise UserError(f"{root}: no text files to index{detail}")
    path_bounds, path_ids, name_counts = [0], [], []
    for n, path in enumerate(paths):  # path words join the vocabulary for the file-level documents
        if n not in skip:
            name = dict.fromkeys(path_tokens(path.rsplit("/", 1)[-1]))
            folders = [t for t in dict.fromkeys(path_tokens(path)) if t not in name]
            path_ids.extend(vocab.setdefault(t, len(vocab)) for t in [*name, *folders])
            name_counts.append(len(name))
        else:
            name_counts.append(0)
        path_bounds.append(len(path_ids))
    tokens = np.concatenate(pieces).astype(np.int32) if pieces else np.zeros(0, np.int32)
    token_bounds = np.concatenate(([0], np.cumsum(np.concatenate(lengths)))).astype(np.int64)
    roles = [
        role_of(p, lang) if n not in skip else ""
        for n, (p, lang) in enumerate(zip(paths, languages, strict=True))
    ]
    columns, kinds, symbols = _chunk_columns(paths, spans, rows)
    columns["file_spans"] = np.array(spans, dtype=np.int32).reshape(-1, 2)
    columns["path_bounds"] = np.array(path_bounds, dtype=np.int64)
    columns["path_ids"] = np.array(path_ids, dtype=np.int32)
    columns["name_counts"] = np.array(name_counts, dtype=np.int32)
    extra = {
        "versions": versions_out,
        "imports": imports_out,
        "tokens": tokens,
        "token_bounds": token_bounds,
    }
    _edges(columns, paths, languages, skip, imports_out)
    _bm25(columns, paths, skip, spans, vocab, tokens, token_bounds)
    return Index(
        root,
        key,
        "updated" if previous is not None else "built",
        paths,
        languages,
        roles,
        skip,
        columns,
        kinds,
        symbols,
        vocab,
        extra,
        reread=reread,
    )


def _chunk_columns(paths, spans, rows):
    import numpy as np

    kinds: dict[str, int] = {}
    symbols: dict[str, int] = {}
    files = np.zeros(len(rows), dtype=np.int32)
    for n, (a, b) in enumerate(spans):
        files[a:b] = n
    lines = np.array([(r[2], r[3]) for r in rows], dtype=np.int32).reshape(-1, 2)
    kind = np.array([kinds.setdefault(r[1], len(kinds)) for r in rows], dtype=np.uint8)
    symbol = np.array(
        [symbols.setdefault(r[0], len(symbols)) if r[0] else -1 for r in rows], dtype=np.int32
    )
    hashes = np.array([r[4] for r in rows], dtype=f"S{HASH_CHARS}")
    keys: list[tuple[str, int]] = []
    names = list(symbols)
    for number in np.flatnonzero(symbol >= 0).tolist():
        for key in _definition_keys(names[symbol[number]]):
            keys.append((key[:KEY_CHARS], number))
    keys.sort()
    columns = {
        "chunk_file": files,
        "chunk_lines": lines,
        "chunk_kind": kind,
        "chunk_symbol": symbol,
        "chunk_hash": hashes,
        "def_keys": np.array([k for k, _ in keys], dtype=f"U{KEY_CHARS}"),
        "def_chunks": np.array([c for _, c in keys], dtype=np.int32),
    }
    return columns, list(kinds), names


def _edges(columns, paths, languages, skip, imports) -> None:
    """Resolve raw imports against the current file set (renames and new files are picked up)."""
    import numpy as np

    readable = [p for n, p in enumerate(paths) if n not in skip]
    modules = ModuleMap(readable)
    number = {p: n for n, p in enumerate(paths)}
    bounds = [0]
    targets: list[int] = []
    for n, path in enumerate(paths):
        specs = imports.get(str(n))
        if specs and n not in skip:
            targets.extend(number[t] for t in modules.resolve(path, languages[n], specs))
        bounds.append(len(targets))
    columns["edge_bounds"] = np.array(bounds, dtype=np.int64)
    columns["edge_targets"] = np.array(targets, dtype=np.int32)


def _bm25(columns, paths, skip, spans, vocab, tokens, token_bounds) -> None:
    """Both BM25 matrices, built with bm25s from the token ids."""
    import bm25s
    import numpy as np

    flat = tokens.tolist()
    bounds = token_bounds.tolist()
    chunk_docs = [flat[bounds[i] : bounds[i + 1]] for i in range(len(bounds) - 1)]
    file_docs = []
    for n, path in enumerate(paths):
        if n in skip:
            continue
        a, b = spans[n]
        file_docs.append([vocab[t] for t in path_tokens(path)] + flat[bounds[a] : bounds[b]])
    for name, docs, k1, b in (
        ("chunk", chunk_docs, CHUNK_K1, CHUNK_B),
        ("file", file_docs, FILE_K1, FILE_B),
    ):
        model = bm25s.BM25(k1=k1, b=b)
        model.index((docs, dict(vocab)), show_progress=False)
        columns[f"{name}_bm25_data"] = np.asarray(model.scores["data"], dtype=np.float32)
        columns[f"{name}_bm25_indices"] = np.asarray(model.scores["indices"], dtype=np.int32)
        columns[f"{name}_bm25_indptr"] = np.asarray(model.scores["indptr"], dtype=np.int64)


# --- the cache ----------------------------------------------------------------------------------


def _read_latest(cache: Path) -> str | None:
    try:
        data = json.loads((cache / "latest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    key = data.get("key") if isinstance(data, dict) else None
    return key if isinstance(key, str) and key.isalnum() else None


def _save(index: Index, cache: Path) -> None:
    """Write the index to a fresh folder, then point latest.json at it; older ones are removed."""
    import numpy as np

    cache.mkdir(parents=True, exist_ok=True)
    ignore = cache.parent / ".gitignore"
    if not ignore.exists():
        write_atomic(ignore, "# code-assistant's cache: never commit it\n*\n")
    staging = Path(tempfile.mkdtemp(prefix="tmp-", dir=cache))
    try:
        meta = {
            "schema": INDEX_SCHEMA,
            "key": index.key,
            "scanner": scan.SCANNER_VERSION,
            "roles_rules": _roles_fingerprint(),
            "files": len(index.paths),
            "chunks": len(index.chunks),
            "symbols": len(index.chunks.symbols),
            "vocab": len(index.vocab),
            "kinds": index.chunks._kinds,
            "paths": index.paths,
            "languages": index.languages,
            "roles": index.roles,
            "skipped": {str(n): reason for n, reason in index.skip.items()},
        }
        extra = index.extra
        (staging / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        (staging / "update.json").write_text(
            json.dumps({"versions": extra["versions"], "imports": extra["imports"]}),
            encoding="utf-8",
        )
        (staging / "symbols.json").write_text(json.dumps(index.chunks.symbols), encoding="utf-8")
        (staging / "vocab.txt").write_text("\n".join(index.vocab), encoding="ascii")
        for name in _ARRAYS:
            np.save(staging / f"{name}.npy", index.columns[name], allow_pickle=False)
        for name in _UPDATE_ARRAYS:
            np.save(staging / f"{name}.npy", extra[name], allow_pickle=False)
        final = cache / index.key[:24]
        if final.exists():
            shutil.rmtree(final, ignore_errors=True)
        os.rename(staging, final)
    except (OSError, UnicodeEncodeError):
        shutil.rmtree(staging, ignore_errors=True)
        return  # a read-only checkout still answers queries; it just cannot cache
    write_atomic(cache / "latest.json", json.dumps({"key": index.key}) + "\n")
    kept = sorted(
        (p for p in cache.iterdir() if p.is_dir() and not p.name.startswith("tmp-")),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for stale in kept[KEEP_INDEXES:]:
        shutil.rmtree(stale, ignore_errors=True)


def _array(folder: Path, name: str):
    import numpy as np

    return np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False)


def _load(root: Path, folder: Path, key: str) -> Index | None:
    """The cached index in `folder`, or None when it is missing, stale or unreadable."""
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        if not isinstance(meta, dict) or meta.get("schema") != INDEX_SCHEMA:
            return None
        if meta.get("key") != key or meta.get("scanner") != scan.SCANNER_VERSION:
            return None
        paths, languages = meta["paths"], meta["languages"]
        skip = {int(n): str(reason) for n, reason in meta["skipped"].items()}
        roles = meta["roles"]
        if meta.get("roles_rules") != _roles_fingerprint():  # the rules changed: recompute
            roles = [
                role_of(p, lang) if n not in skip else ""
                for n, (p, lang) in enumerate(zip(paths, languages, strict=False))
            ]
        words = (folder / "vocab.txt").read_text(encoding="ascii").split("\n")
        columns = {name: _array(folder, name) for name in _ARRAYS}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    files, chunks = meta.get("files"), meta.get("chunks")
    if not _consistent(columns, paths, languages, roles, words, meta, files, chunks):
        return None

    def symbols() -> list:
        names = json.loads((folder / "symbols.json").read_text(encoding="utf-8"))
        if not isinstance(names, list) or len(names) != meta["symbols"]:
            raise UserError(f"{folder}: the cached index is damaged; delete {CACHE_DIR}")
        return names

    @functools.cache
    def update_data() -> dict:
        data = json.loads((folder / "update.json").read_text(encoding="utf-8"))
        versions, imports = data["versions"], data["imports"]
        if len(versions) != files or not all(isinstance(v, str) for v in versions):
            raise ValueError("file versions do not match the index")
        if not all(
            isinstance(specs, list) and all(isinstance(s, str) for s in specs)
            for specs in imports.values()
        ):
            raise ValueError("imports are not lists of names")
        return {"versions": versions, "imports": imports}

    @functools.cache
    def token_arrays() -> dict:
        loaded = {name: _array(folder, name) for name in _UPDATE_ARRAYS}
        bounds = loaded["token_bounds"]
        if len(bounds) != chunks + 1 or (chunks and int(bounds[-1]) != len(loaded["tokens"])):
            raise ValueError("token ids do not match the index")
        return loaded

    vocab = dict(zip(words, range(len(words)), strict=True))
    return Index(
        root,
        key,
        "reused",
        paths,
        languages,
        roles,
        skip,
        columns,
        list(meta["kinds"]),
        symbols,
        vocab,
        _Lazy(
            versions=lambda: update_data()["versions"],
            imports=lambda: update_data()["imports"],
            tokens=lambda: token_arrays()["tokens"],
            token_bounds=lambda: token_arrays()["token_bounds"],
        ),
    )


def _consistent(columns, paths, languages, roles, words, meta, files, chunks) -> bool:
    """Every array has the shape the metadata promises, and every stored id is in range."""
    if not (isinstance(files, int) and isinstance(chunks, int) and files > 0):
        return False
    if not (len(paths) == len(languages) == len(roles) == files):
        return False
    if len(words) != meta.get("vocab") or len(set(words)) != len(words):
        return False
    if columns["file_spans"].shape != (files, 2) or columns["chunk_lines"].shape != (chunks, 2):
        return False
    if any(len(columns[n]) != chunks for n in ("chunk_file", "chunk_kind", "chunk_symbol")):
        return False
    if len(columns["chunk_hash"]) != chunks or len(columns["edge_bounds"]) != files + 1:
        return False
    if len(columns["path_bounds"]) != files + 1 or len(columns["name_counts"]) != files:
        return False
    if int(columns["path_bounds"][-1]) != len(columns["path_ids"]):
        return False
    if len(columns["path_ids"]) and int(columns["path_ids"].max()) >= len(words):
        return False
    if len(columns["def_keys"]) != len(columns["def_chunks"]):
        return False
    spans = columns["file_spans"]
    if chunks and (int(spans.min()) < 0 or int(spans.max()) > chunks):
        return False
    if len(columns["edge_targets"]) and int(columns["edge_targets"].max()) >= files:
        return False
    if len(columns["def_chunks"]) and int(columns["def_chunks"].max()) >= chunks:
        return False
    if chunks and int(columns["chunk_kind"].max()) >= len(meta["kinds"]):
        return False
    if chunks and int(columns["chunk_symbol"].max()) >= meta.get("symbols", 0):
        return False
    readable = files - len(meta["skipped"])
    for name, docs in (("chunk", chunks), ("file", readable)):
        indptr, indices = columns[f"{name}_bm25_indptr"], columns[f"{name}_bm25_indices"]
        if len(indptr) > len(words) + 2 or len(indices) != len(columns[f"{name}_bm25_data"]):
            return False
        if len(indptr) and int(indptr[-1]) != len(indices):
            return False
        if len(indices) and int(indices.max()) >= docs:
            return False
    return True
