"""Record schema: both input shapes, chat conversion, and errors that name the field."""

from __future__ import annotations

import json

import pytest
from code_assistant_lora.training.records import (
    RecordError,
    approx_tokens,
    empty_reason,
    parse_record,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from sft_canaries import AWS_KEY_ID


def test_instruction_input_output_becomes_a_user_and_an_assistant_turn():
    record = parse_record(
        {
            "instruction": "Add a --json flag",
            "input": "cli.py:\n```python\n...\n```",
            "output": "diff --git ...",
            "meta": {"task": "feature", "paths": ["src/pkg/cli.py"], "quality": 0.8},
        }
    )
    assert [m.role for m in record.messages] == ["user", "assistant"]
    assert record.messages[0].content == "Add a --json flag\n\ncli.py:\n```python\n...\n```"
    assert record.messages[1].content == "diff --git ..."
    assert record.task == "feature"
    assert record.language == "python"  # from the first path
    assert record.quality == 0.8
    assert len(record.id) == 16
    assert list(record.to_dict()) == ["messages", "meta"]


def test_blank_input_is_left_out_and_defaults_fill_meta():
    record = parse_record({"instruction": "Explain X", "input": "  ", "output": "X is ..."})
    assert record.messages[0].content == "Explain X"
    assert record.meta["task"] == "general"
    assert record.meta["language"] == "text"


def test_messages_pass_through_with_a_system_prompt():
    messages = [
        {"role": "system", "content": "You review diffs."},
        {"role": "user", "content": "Review this"},
        {"role": "assistant", "content": '{"findings": []}'},
        {"role": "user", "content": "And this?"},
        {"role": "assistant", "content": '{"findings": []}'},
    ]
    record = parse_record({"messages": messages, "meta": {"id": "case-1", "language": "sql"}})
    assert record.to_dict()["messages"] == messages
    assert record.id == "case-1"
    assert record.text().startswith("Review this")  # the system prompt is not compared


def test_the_id_is_stable_and_follows_the_content():
    first = parse_record({"instruction": "a", "output": "b"})
    again = parse_record({"instruction": "a", "output": "b", "meta": {"task": "qa"}})
    other = parse_record({"instruction": "a", "output": "c"})
    assert first.id == again.id != other.id


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ([], "<record>"),
        ({"instruction": "x", "output": "y", "extra": 1}, "extra"),
        ({"instruction": "x"}, "output"),
        ({"output": "y"}, "instruction"),
        ({"instruction": 3, "output": "y"}, "instruction"),
        ({"instruction": "x", "input": ["a"], "output": "y"}, "input"),
        ({"messages": [], "meta": {}}, "messages"),
        ({"messages": [{"role": "bot", "content": "hi"}]}, "messages[0].role"),
        ({"messages": [{"role": "user", "content": "hi", "name": "x"}]}, "messages[0].name"),
        ({"messages": [{"role": "user", "content": None}]}, "messages[0].content"),
        (
            {"messages": [{"role": "assistant", "content": "a"}, {"role": "user", "content": "q"}]},
            "messages[0].role",
        ),
        ({"messages": [{"role": "user", "content": "q"}]}, "messages"),
        (
            {
                "messages": [
                    {"role": "user", "content": "q"},
                    {"role": "system", "content": "s"},
                    {"role": "assistant", "content": "a"},
                ]
            },
            "messages[1].role",
        ),
        ({"messages": [{"role": "user", "content": "q"}], "instruction": "x"}, "instruction"),
        ({"instruction": "x", "output": "y", "meta": []}, "meta"),
        ({"instruction": "x", "output": "y", "meta": {"quality": 1.5}}, "meta.quality"),
        ({"instruction": "x", "output": "y", "meta": {"quality": True}}, "meta.quality"),
        ({"instruction": "x", "output": "y", "meta": {"paths": "a.py"}}, "meta.paths"),
        ({"instruction": "x", "output": "y", "meta": {"task": "Bug Fix"}}, "meta.task"),
        ({"instruction": "x", "output": "y", "meta": {"commit": ""}}, "meta.commit"),
        ({"instruction": "x", "output": "y", "meta": {"note": {"a": 1}}}, "meta.note"),
    ],
)
def test_invalid_records_name_the_field(data, field):
    with pytest.raises(RecordError) as caught:
        parse_record(data)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")


def test_errors_never_repeat_the_value():
    for data in (
        {"instruction": "x", "output": "y", "meta": {"commit": 7, "task": AWS_KEY_ID}},
        {"messages": [{"role": AWS_KEY_ID, "content": "x"}]},
        {"instruction": "x", "output": "y", "meta": {"quality": AWS_KEY_ID}},
    ):
        with pytest.raises(RecordError) as caught:
            parse_record(data)
        assert AWS_KEY_ID not in str(caught.value)


def test_empty_turns_are_reported_not_rejected():
    record = parse_record({"instruction": "x", "output": "   "})
    assert empty_reason(record) == "messages[1] (assistant) is empty"
    assert empty_reason(parse_record({"instruction": "x", "output": "y"})) is None


def test_token_estimate_is_about_four_characters_each():
    assert approx_tokens(0) == 0
    assert approx_tokens(4) == 1
    assert approx_tokens(4001) == 1001


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                ["instruction", "input", "output", "messages", "meta", "role", "content"]
            )
            | st.text(max_size=8),
            inner,
            max_size=5,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_any_json_value_is_a_record_or_a_record_error(value):
    try:
        record = parse_record(value)
    except RecordError as exc:
        assert exc.field and exc.message
        return
    again = parse_record(json.loads(json.dumps(record.to_dict())))
    assert again.messages == record.messages
    assert again.id == record.id


turn_text = st.text(min_size=1, max_size=40)


@settings(max_examples=100, deadline=None)
@given(
    st.booleans(),
    st.lists(st.tuples(turn_text, turn_text), min_size=1, max_size=4),
    st.dictionaries(
        st.sampled_from(["task", "language"]),
        st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True),
    ),
)
def test_valid_conversations_round_trip(with_system, turns, meta):
    messages = [{"role": "system", "content": "sys"}] if with_system else []
    for question, answer in turns:
        messages += [
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer},
        ]
    record = parse_record({"messages": messages, "meta": meta})
    assert record.to_dict()["messages"] == messages
    assert parse_record(record.to_dict()).to_dict() == record.to_dict()
