"""adapter.metadata.json: round trip, validation and dataset hashes."""

from __future__ import annotations

import hashlib
import json

import pytest
from code_assistant_lora.training.metadata import (
    METADATA_SCHEMA,
    AdapterMetadata,
    dataset_file,
    load_metadata,
    save_metadata,
)

from code_assistant_lora.errors import UserError


def _metadata(**overrides) -> AdapterMetadata:
    fields = {
        "name": "sql-reviewer",
        "role": "specialist",
        "base_model": "tiny",
        "base_revision": None,
    }
    return AdapterMetadata(**{**fields, **overrides})


def test_round_trip_through_the_file(tmp_path):
    data = tmp_path / "train.jsonl"
    data.write_text('{"messages": []}\n\n{"messages": []}\n', encoding="utf-8")
    meta = _metadata(specialist="sql", datasets=[dataset_file(data, "train")])
    path = save_metadata(tmp_path, meta)
    stored = json.loads(path.read_text(encoding="utf-8"))
    assert stored["schema"] == METADATA_SCHEMA
    loaded = load_metadata(tmp_path)
    assert loaded == meta
    assert loaded.datasets[0].records == 2
    assert loaded.datasets[0].sha256 == hashlib.sha256(data.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"schema": "other@1"}, "schema"),
        ({"role": "chef"}, "role 'chef'"),
        ({"name": ""}, "'name'"),
        ({"colour": "red"}, "unknown key 'colour'"),
        ({"datasets": [{"split": "train"}]}, "bad datasets entry"),
    ],
)
def test_invalid_metadata_is_a_one_line_error(tmp_path, change, message):
    (tmp_path / "adapter.metadata.json").write_text(
        json.dumps({**_metadata().to_dict(), **change}), encoding="utf-8"
    )
    with pytest.raises(UserError, match=message):
        load_metadata(tmp_path)


def test_missing_or_broken_file_is_named(tmp_path):
    with pytest.raises(UserError, match="no adapter.metadata.json"):
        load_metadata(tmp_path)
    (tmp_path / "adapter.metadata.json").write_text("{", encoding="utf-8")
    with pytest.raises(UserError, match="not valid JSON"):
        load_metadata(tmp_path)
