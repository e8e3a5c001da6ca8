"""The dataset stats report (`code-assistant/sft-stats@1`): what went in, what was dropped and why,
and the shape of each split (records per task and language, token length percentiles).

Token lengths are estimates (`records.approx_tokens`); no tokenizer is loaded to build a dataset.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from .records import SftRecord, approx_tokens

STATS_SCHEMA = "code-assistant/sft-stats@1"
PERCENTILES = (50, 90, 95, 99)


def percentiles(values: Sequence[int]) -> dict[str, int]:
    """Nearest-rank percentiles, plus min, max and mean; zeros for an empty list."""
    if not values:
        return {"min": 0, **{f"p{p}": 0 for p in PERCENTILES}, "max": 0, "mean": 0}
    ordered = sorted(values)
    n = len(ordered)
    out = {"min": ordered[0]}
    for p in PERCENTILES:
        rank = max(1, -(-p * n // 100))  # ceil(p/100 * n)
        out[f"p{p}"] = ordered[rank - 1]
    out["max"] = ordered[-1]
    out["mean"] = round(sum(ordered) / n)
    return out


def split_stats(records: Sequence[SftRecord]) -> dict:
    tokens = [approx_tokens(r.chars()) for r in records]
    return {
        "records": len(records),
        "by_task": dict(sorted(Counter(r.task for r in records).items())),
        "by_language": dict(sorted(Counter(r.language for r in records).items())),
        "tokens": percentiles(tokens),
        "total_tokens": sum(tokens),
    }


def stats_document(
    inputs: Sequence[dict],
    train: Sequence[SftRecord],
    evaluation: Sequence[SftRecord],
    dropped: dict[str, int],
    split: dict,
    outputs: dict,
) -> dict:
    """The whole report; `inputs` and `outputs` name files with their sha256 (dataset hashes for
    adapter metadata)."""
    return {
        "schema": STATS_SCHEMA,
        "inputs": list(inputs),
        "outputs": outputs,
        "split": split,
        "dropped": dict(sorted(dropped.items())),
        "all": split_stats([*train, *evaluation]),
        "train": split_stats(train),
        "eval": split_stats(evaluation),
    }
