"""data/curated/examples.jsonl: real examples about working in this repository, kept honest."""

from __future__ import annotations

from pathlib import Path

from code_assistant_lora.training.audit import audit
from code_assistant_lora.training.build_sft import (
    BuildOptions,
    load_records,
    prepare,
    write_dataset,
)

PROJECT = Path(__file__).resolve().parents[2]
EXAMPLES = PROJECT / "data" / "curated" / "examples.jsonl"


def test_the_examples_are_valid_varied_and_point_at_real_files():
    records, _ = load_records([EXAMPLES])
    assert len(records) >= 30
    assert len({r.task for r in records}) >= 6
    for record in records:
        assert record.meta["source"] == "curated" and record.paths
        for path in record.paths:
            assert (PROJECT / path).exists(), f"{record.id} names a missing file {path}"


def test_the_examples_build_and_pass_the_audit(tmp_path):
    records, sources = load_records([EXAMPLES])
    prepared = prepare(records, BuildOptions(eval_fraction=0.15))
    assert prepared.dropped == {}  # nothing empty, oversize, secret or duplicated
    built = write_dataset(prepared, sources, tmp_path / "train.jsonl", tmp_path / "eval.jsonl")
    checked = audit([built.train_path, built.eval_path])
    assert checked.passed, checked.document["problems"]
