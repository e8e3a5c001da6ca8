"""Exact and near-duplicate detection for training records, linear in the number of records.

Texts are normalised (lowercase, whitespace runs collapsed). Exact duplicates share a hash of the
normalised text. Near duplicates are found in three steps, so the pass is never quadratic:

1. blocking: each text gets a one-permutation MinHash signature over its 8-byte shingles (32 bins,
   numpy), cut into 8 bands of 4 bins; texts that share a band land in the same bucket. A bucket
   keeps its first `BUCKET_CAP` members, so boilerplate shared by thousands of texts costs a
   bounded amount.
2. ranking: of the texts met in its buckets, a text is compared with at most `MAX_VERIFY`, those
   sharing the most bands first, and only when their signatures agree on at least
   `MIN_ESTIMATE` of the bins.
3. verification: rapidfuzz's `fuzz.ratio` on the first `MAX_COMPARE_CHARS` characters must reach
   the threshold (default 90).

The result is deterministic: the hashes are fixed functions of the text, never Python's salted
`hash()`.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

NEAR_THRESHOLD = 90.0
SHINGLE = 8  # bytes: one uint64
BANDS = 8
ROWS = 4
BINS = BANDS * ROWS
BUCKET_CAP = 24
MAX_VERIFY = 6
MIN_ESTIMATE = 0.3
MAX_COMPARE_CHARS = 3000

_EMPTY = (1 << 64) - 1  # a bin no shingle fell into
_EMPTY_BAND = b"\xff" * (ROWS * 8)
SAMPLE_BITS = 2  # one shingle in 2**SAMPLE_BITS is kept


def normalize(text: str) -> str:
    """Lowercased with every whitespace run collapsed to one space: layout-only differences vanish."""
    return " ".join(text.split()).lower()


def exact_key(normalized: str) -> str:
    return hashlib.blake2b(normalized.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


class _Signer:
    """One-permutation MinHash signatures, computed for many texts per numpy pass; numpy is
    imported on first use, not at import."""

    def __init__(self) -> None:
        import numpy as np

        self.np = np
        self.shift = np.uint64(33)
        self.mul1 = np.uint64(0xFF51AFD7ED558CCD)
        self.mul2 = np.uint64(0xC4CEB9FE1A85EC53)
        self.odd = np.uint64(0x9E3779B97F4A7C15)
        self.empty = np.uint64(_EMPTY)
        self.sample_shift = np.uint64(64 - SAMPLE_BITS)
        self.bin_shift = np.uint64(64 - 5)

    def mix(self, h):
        """murmur3's 64-bit finaliser, in place on a uint64 array (wrapping is intended)."""
        h ^= h >> self.shift
        h *= self.mul1
        h ^= h >> self.shift
        h *= self.mul2
        h ^= h >> self.shift
        return h

    def sign_many(self, texts: Sequence[str]) -> list[tuple[bytes, tuple[bytes, ...]]]:
        """For each normalised text: its 32 bin minimums (uint64 bytes) and the keys of its
        bands that hold at least one shingle. A shingle is 8 bytes of the text, read in place as
        one uint64; one in four is kept, chosen by its hash (so the same ones in every text),
        which keeps the Jaccard estimate unbiased and the work small. Texts are concatenated so
        a batch takes a handful of numpy passes; windows across two texts are dropped."""
        np = self.np
        encoded = [t.encode("utf-8", "surrogatepass").ljust(SHINGLE, b"\0") for t in texts]
        lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
        buffer = b"".join(encoded)
        count = len(buffer) - SHINGLE + 1
        windows = np.ndarray((count,), dtype="<u8", buffer=buffer, strides=(1,))
        hashes = windows * self.odd
        keep = (hashes >> self.sample_shift) == 0
        ends = np.cumsum(lengths)
        across = (ends[:, None] - np.arange(1, SHINGLE)[None, :]).ravel()
        keep[across[across < count]] = False
        at = np.flatnonzero(keep)
        hashes = self.mix(hashes[at])
        starts = np.zeros(count, dtype=np.int64)
        starts[ends[:-1]] = 1
        owner = np.cumsum(starts)[at]
        slots = owner * BINS + (hashes >> self.bin_shift).astype(np.int64)
        mins = np.full(len(texts) * BINS, self.empty, dtype=np.uint64)
        np.minimum.at(mins, slots, hashes)
        raw = mins.tobytes()
        # Every filled bin's minimum carries its bin number in its top 5 bits, so equal band bytes
        # mean equal bins in the same band.
        width, size = ROWS * 8, BINS * 8
        out = []
        for base in range(0, len(raw), size):
            keys = tuple(
                raw[start : start + width]
                for start in range(base, base + size, width)
                if raw[start : start + width] != _EMPTY_BAND
            )
            out.append((raw[base : base + size], keys))
        return out


BATCH = 2000  # texts per numpy pass


@lru_cache(maxsize=1)
def _signer() -> _Signer:
    return _Signer()


def sign_many(normalized: Sequence[str]) -> list[tuple[bytes, tuple[bytes, ...]]]:
    """MinHash signatures (32 bin minimums as bytes) and band keys of normalised texts."""
    out: list[tuple[bytes, tuple[bytes, ...]]] = []
    for start in range(0, len(normalized), BATCH):
        out.extend(_signer().sign_many(normalized[start : start + BATCH]))
    return out


def sign(normalized: str) -> tuple[bytes, tuple[bytes, ...]]:
    """The signature of one normalised text."""
    return sign_many([normalized])[0]


@dataclass(frozen=True)
class Fingerprint:
    """What deduplication needs of one text: the exact key of its normalised form, the form
    itself cut to MAX_COMPARE_CHARS (for rapidfuzz), its MinHash bins and band keys."""

    key: str
    text: str
    bins: bytes
    bands: tuple[bytes, ...]


def fingerprints(texts: Sequence[str]) -> list[Fingerprint]:
    """Fingerprints of raw texts, signed in numpy batches."""
    normalized = [normalize(t) for t in texts]
    return [
        Fingerprint(exact_key(n), n[:MAX_COMPARE_CHARS], bins, bands)
        for n, (bins, bands) in zip(normalized, sign_many(normalized), strict=True)
    ]


def _estimate(a: bytes, b: bytes) -> float:
    """Jaccard estimate from two signatures: agreeing bins over bins filled in either."""
    same = filled = 0
    for x, y in zip(memoryview(a).cast("Q"), memoryview(b).cast("Q"), strict=True):
        if x == _EMPTY and y == _EMPTY:
            continue
        filled += 1
        same += x == y
    return same / filled if filled else 0.0


@dataclass(frozen=True)
class Match:
    """`item` (an index into what was added) is a near duplicate, at `score` (0-100)."""

    item: int
    score: float


class NearDuplicateIndex:
    """Fingerprints added so far, searchable for near duplicates of a new one."""

    def __init__(self, threshold: float = NEAR_THRESHOLD) -> None:
        self.threshold = threshold
        self._buckets: dict[bytes, int | list[int]] = {}
        self._prints: list[Fingerprint] = []
        self.comparisons = 0

    def __len__(self) -> int:
        return len(self._prints)

    def add(self, fingerprint: Fingerprint) -> int:
        """Add a fingerprint; returns its index."""
        item = len(self._prints)
        self._prints.append(fingerprint)
        for key in fingerprint.bands:
            members = self._buckets.get(key)
            if members is None:
                self._buckets[key] = item
            elif isinstance(members, int):
                self._buckets[key] = [members, item]
            elif len(members) < BUCKET_CAP:
                members.append(item)
        return item

    def find(self, fingerprint: Fingerprint) -> Match | None:
        """The most similar added text at or above the threshold, if any."""
        from rapidfuzz import fuzz

        shared: Counter[int] = Counter()
        for key in fingerprint.bands:
            members = self._buckets.get(key)
            if members is None:
                continue
            shared.update((members,) if isinstance(members, int) else members)
        if not shared:
            return None
        best: Match | None = None
        ranked = sorted(shared.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_VERIFY]
        for item, _count in ranked:
            other = self._prints[item]
            if _estimate(fingerprint.bins, other.bins) < MIN_ESTIMATE:
                continue
            self.comparisons += 1
            score = fuzz.ratio(fingerprint.text, other.text, score_cutoff=self.threshold)
            if score and (best is None or score > best.score):
                best = Match(item, round(score, 2))
        return best


@dataclass(frozen=True)
class Verdict:
    """What deduplication decided about one text: kept, or a duplicate of `of` (an input index)."""

    kept: bool
    reason: str | None = None  # "exact-duplicate" | "near-duplicate"
    of: int | None = None
    score: float | None = None


def deduplicate(
    prints: Sequence[Fingerprint],
    priority: Sequence[float] | None = None,
    threshold: float = NEAR_THRESHOLD,
    progress: Callable[[int, int], None] | None = None,
) -> list[Verdict]:
    """One verdict per fingerprint. Within a set of duplicates the one with the highest priority
    is kept (then the earliest); the others point at it."""
    order: list[int] = list(range(len(prints)))
    if priority is not None:
        order.sort(key=lambda i: (-priority[i], i))
    verdicts: list[Verdict | None] = [None] * len(prints)
    exact: dict[str, int] = {}
    index = NearDuplicateIndex(threshold)
    owners: list[int] = []  # index item -> input position
    for done, position in enumerate(order, 1):
        fingerprint = prints[position]
        if fingerprint.key in exact:
            verdicts[position] = Verdict(False, "exact-duplicate", exact[fingerprint.key], 100.0)
        else:
            exact[fingerprint.key] = position
            match = index.find(fingerprint)
            if match is not None:
                verdicts[position] = Verdict(
                    False, "near-duplicate", owners[match.item], match.score
                )
            else:
                index.add(fingerprint)
                owners.append(position)
                verdicts[position] = Verdict(True)
        if progress is not None and done % BATCH == 0:
            progress(done, len(prints))
    return [v for v in verdicts if v is not None]
