"""The retrieval index: every chunk of every readable tracked file, tokenized, with BM25 matrices at
chunk and file level, cached under `.code-assistant/index/` and keyed by the work tree's content.

A second query on an unchanged tree loads the cache and scans nothing. When the tree changed, only
files whose content changed (by git blob id, or content hash for unstaged edits) are read,
chunked and tokenized again; the rest are reused from the cache. The BM25 matrices are rebuilt from
the stored token ids because document frequencies are global (that step is cheap: no file is read).

Nothing in the cache is executable: JSON and plain numpy arrays (loaded with allow_pickle=False),
so a repository that ships a hostile `.code-assistant/` cannot run code through it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple

from .. import scan
from ..errors import UserError
from ..report import write_atomic
from .graph import ModuleMap, extract_imports
from .roles import role_of
from .tokenize import path_tokens, tokenize

INDEX_SCHEMA = "code-assistant/retrieval-index@2"
CACHE_DIR = Path(".code-assistant") / "index"
KEEP_INDEXES = 2
CHUNK_K1, CHUNK_B = 1.2, 0.75
FILE_K1, FILE_B = 1.2, 0.5  # whole files vary far more in length than chunks; normalize less


class ChunkMeta(NamedTuple):
    """Where a chunk is (its text is read back from the work tree when needed). A named tuple:
    large indexes load tens of thousands of these per query."""

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


@dataclass
class Index:
    root: Path
    key: str
    files: list[FileEntry]
    chunks: list[ChunkMeta]
    chunk_tokens: list[list[int]] | None  # None when loaded: token ids stay in _flat/_bounds
    vocab: dict[str, int]
    status: str  # built | updated | reused
    reread: int = 0  # files read and chunked for this index
    edges: dict[str, list[str]] = field(default_factory=dict)  # file -> repo files it imports
    _chunk_bm25: object = None
    _file_bm25: object = None
    _lines: dict[str, list[str]] = field(default_factory=dict)
    _flat: object = None
    _bounds: object = None

    def tokens_of(self, number: int) -> list[int]:
        """The token ids of one chunk."""
        if self.chunk_tokens is not None:
            return self.chunk_tokens[number]
        return self._flat[self._bounds[number] : self._bounds[number + 1]].tolist()

    @property
    def readable(self) -> list[FileEntry]:
        return [f for f in self.files if f.skipped is None]

    @property
    def skipped(self) -> list[scan.Skipped]:
        return [scan.Skipped(f.path, f.skipped) for f in self.files if f.skipped is not None]

    def entry(self, path: str) -> FileEntry | None:
        if not hasattr(self, "_by_path"):
            self._by_path = {f.path: f for f in self.files}
        return self._by_path.get(path)

    def chunk_scores(self, query: list[str]):
        """BM25 score of every chunk for the query tokens (a numpy array, chunk order)."""
        return self._chunk_bm25.get_scores(query)

    def file_scores(self, query: list[str]):
        """BM25 score of every readable file (order of `readable`) against its whole text."""
        return self._file_bm25.get_scores(query)

    def chunk_text(self, number: int) -> str | None:
        """The chunk's text from the work tree; None when the file no longer matches the index."""
        meta = self.chunks[number]
        lines = self._lines.get(meta.path)
        if lines is None:
            try:
                text = (self.root / meta.path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                text = ""
            lines = text.removeprefix("\ufeff").replace("\r\n", "\n").split("\n")
            self._lines[meta.path] = lines
        text = "\n".join(lines[meta.start_line - 1 : meta.end_line])
        return text if scan.content_hash(text).startswith(meta.content_hash[:16]) else None


# --- building -----------------------------------------------------------------------------------


def _index_file(root: Path, item: scan.TrackedFile, venvs: frozenset[str]):
    """Read, chunk and tokenize one file: (FileEntry without chunk range, chunks, token lists)."""
    source = scan.read_source(root, item, venvs)
    if isinstance(source, scan.Skipped):
        return FileEntry(item.path, item.version, skipped=source.reason), [], []
    chunks = scan.chunk_file(source)
    tokens = [tokenize(c.text) + (tokenize(c.symbol) if c.symbol else []) for c in chunks]
    entry = FileEntry(
        path=item.path,
        version=item.version,
        language=source.language,
        role=role_of(item.path, source.language),
        imports=extract_imports(source.language, source.text),
    )
    metas = [
        ChunkMeta(c.path, c.symbol, c.kind, c.start_line, c.end_line, c.content_hash)
        for c in chunks
    ]
    return entry, metas, tokens


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
            loaded.status = "reused"
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
    old: dict[str, tuple[FileEntry, list[ChunkMeta], list[list[str]]]] = {}
    if previous is not None:
        words = {i: w for w, i in previous.vocab.items()}
        for entry in previous.files:
            span = range(entry.first_chunk, entry.end_chunk)
            old[entry.path] = (
                entry,
                [previous.chunks[i] for i in span],
                [[words[t] for t in previous.tokens_of(i)] for i in span],
            )
    venvs = scan.venv_roots(i.path for i in items)
    files: list[FileEntry] = []
    chunks: list[ChunkMeta] = []
    token_lists: list[list[str]] = []
    reread = 0
    for done, item in enumerate(sorted(items, key=lambda i: i.path), 1):
        cached = old.get(item.path)
        if cached is not None and cached[0].version == item.version:
            entry, metas, tokens = cached
            if entry.language:
                entry = replace(entry, role=role_of(entry.path, entry.language))
        else:
            entry, metas, tokens = _index_file(root, item, venvs)
            reread += 1
        files.append(
            FileEntry(
                entry.path,
                entry.version,
                entry.language,
                entry.role,
                entry.imports,
                len(chunks),
                len(chunks) + len(metas),
                entry.skipped,
            )
        )
        chunks.extend(metas)
        token_lists.extend(tokens)
        if progress is not None:
            progress(done, len(items))
    if not chunks:
        reasons = sorted({f.skipped for f in files if f.skipped})
        detail = (
            f" (all {len(files)} tracked files skipped: {'; '.join(reasons[:4])})" if files else ""
        )
        raise UserError(f"{root}: no text files to index{detail}")
    vocab: dict[str, int] = {}
    chunk_ids = [[vocab.setdefault(t, len(vocab)) for t in tokens] for tokens in token_lists]
    for entry in files:  # path words join the vocabulary for the file-level documents
        for token in path_tokens(entry.path):
            vocab.setdefault(token, len(vocab))
    index = Index(
        root=root,
        key=key,
        files=files,
        chunks=chunks,
        chunk_tokens=chunk_ids,
        vocab=vocab,
        status="updated" if previous is not None else "built",
        reread=reread,
    )
    _finish(index)
    return index


def _finish(index: Index) -> None:
    """Resolve imports against the current file set and build both BM25 matrices."""
    import bm25s

    readable = index.readable
    modules = ModuleMap(f.path for f in readable)
    index.edges = {
        f.path: modules.resolve(f.path, f.language, f.imports) for f in readable if f.imports
    }
    vocab = index.vocab
    chunk_bm25 = bm25s.BM25(k1=CHUNK_K1, b=CHUNK_B)
    chunk_bm25.index((index.chunk_tokens, vocab), show_progress=False)
    file_docs = []
    for entry in readable:
        doc = [vocab[t] for t in path_tokens(entry.path)]
        for i in range(entry.first_chunk, entry.end_chunk):
            doc.extend(index.chunk_tokens[i])
        file_docs.append(doc)
    file_bm25 = bm25s.BM25(k1=FILE_K1, b=FILE_B)
    file_bm25.index((file_docs, vocab), show_progress=False)
    index._chunk_bm25 = chunk_bm25
    index._file_bm25 = file_bm25


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
        numbers = {f.path: n for n, f in enumerate(index.files)}
        meta = {
            "schema": INDEX_SCHEMA,
            "key": index.key,
            "scanner": scan.SCANNER_VERSION,
            "files": [
                [
                    f.path,
                    f.version,
                    f.language,
                    f.role,
                    list(f.imports),
                    f.first_chunk,
                    f.end_chunk,
                    f.skipped,
                ]
                for f in index.files
            ],
            # chunks by file number; a 16-hex-digit hash prefix is enough to notice a stale file
            "chunks": [
                [numbers[c.path], c.symbol, c.kind, c.start_line, c.end_line, c.content_hash[:16]]
                for c in index.chunks
            ],
            "edges": index.edges,
        }
        (staging / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        lengths = np.fromiter((len(t) for t in index.chunk_tokens), dtype=np.int64)
        flat = np.fromiter(
            (t for tokens in index.chunk_tokens for t in tokens),
            dtype=np.int32,
            count=int(lengths.sum()),
        )
        np.save(staging / "tokens.npy", flat, allow_pickle=False)
        np.save(staging / "lengths.npy", lengths, allow_pickle=False)
        index._chunk_bm25.save(str(staging / "chunks"))
        index._file_bm25.save(str(staging / "files"))
        final = cache / index.key[:24]
        if final.exists():
            shutil.rmtree(final, ignore_errors=True)
        os.rename(staging, final)
    except OSError:
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


def _load(root: Path, folder: Path, key: str) -> Index | None:
    """The cached index in `folder`, or None when it is missing, stale or unreadable."""
    import bm25s
    import numpy as np

    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        if meta.get("schema") != INDEX_SCHEMA or meta.get("key") != key:
            return None
        if meta.get("scanner") != scan.SCANNER_VERSION:
            return None
        flat = np.load(folder / "tokens.npy", allow_pickle=False)
        lengths = np.load(folder / "lengths.npy", allow_pickle=False)
        chunk_bm25 = bm25s.BM25.load(str(folder / "chunks"), mmap=False)
        file_bm25 = bm25s.BM25.load(str(folder / "files"), mmap=False)
        files = [
            # roles are recomputed, not trusted from the cache: the rules may have changed
            FileEntry(p, v, lang, role_of(p, lang) if lang else "", tuple(imports), a, b, skipped)
            for p, v, lang, _role, imports, a, b, skipped in meta["files"]
        ]
        names = [row[0] for row in meta["files"]]
        chunks = [ChunkMeta(names[n], *rest) for n, *rest in meta["chunks"]]
        bounds = np.concatenate(([0], np.cumsum(lengths)))
        vocab = chunk_bm25.vocab_dict  # the chunk matrix was built on our vocabulary
        edges = {k: list(v) for k, v in meta["edges"].items()}
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if len(lengths) != len(chunks) or int(bounds[-1]) != len(flat):
        return None
    index = Index(root, key, files, chunks, None, vocab, status="reused", edges=edges)
    index._flat, index._bounds = flat, bounds
    index._chunk_bm25 = chunk_bm25
    index._file_bm25 = file_bm25
    return index
