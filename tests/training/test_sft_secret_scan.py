"""The strict secret scan: canaries found wherever they hide, ordinary code left alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from code_assistant_lora.training.parallel import PARALLEL_FROM
from code_assistant_lora.training.secret_scan import (
    find_secrets,
    holds_secret,
    scan_values,
    value_secrets,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from sft_canaries import (
    AWS_KEY_ID,
    AWS_SECRET,
    DOTENV,
    GITHUB_TOKEN,
    PASSWORD,
    PRIVATE_KEY,
)

PROJECT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("text", "line", "kind"),
    [
        (f'client = boto3.client("s3", aws_access_key_id="{AWS_KEY_ID}")', 1, "AWS Access Key"),
        (f"import os\n\nTOKEN = '{GITHUB_TOKEN}'\n", 3, "GitHub Token"),
        (PRIVATE_KEY, 1, "Private Key"),
        (DOTENV, 1, "AWS Access Key"),
        (f'DB_PASSWORD = "{PASSWORD}"', 1, "credential"),
        (f"db_password: {PASSWORD}", 1, "credential"),
        (f"export SESSION_TOKEN={AWS_SECRET}", 1, "high-entropy value"),
        ('url = "postgres://app:Zx9vQ2mL7pK4@prod-7.example.net/app"', 1, "credential"),
        # a key in the middle of a minified line longer than any slice
        ("var a=1;" * 400 + f'k="{AWS_KEY_ID}";' + "b=2;" * 400, 1, "AWS Access Key"),
    ],
)
def test_canaries_are_found_and_named_without_their_value(text, line, kind):
    hits = find_secrets(text)
    assert hits and hits[0].line == line
    assert hits[0].kind.startswith(kind)
    assert all(set(h.to_dict()) == {"line", "kind"} for h in hits)


def test_test_code_gets_no_exemption():
    # the review pack lets keyword hits in tests pass as fixtures; a training set does not
    text = f'def test_login(client):\n    client.login("ada", password="{PASSWORD}")\n'
    assert find_secrets(text, "tests/test_login.py")


@pytest.mark.parametrize(
    "text",
    [
        'password = os.environ["DB_PASSWORD"]',
        "api_key = settings.API_KEY  # read at start-up",
        'password = "changeme"',
        "token: ${{ secrets.GITHUB_TOKEN }}",
        "def check_hardcoded_credential(file, context):",
        "handleSubmitButtonClick(event)",
        "sha = 'da39a3ee5e6b4b0d3255bfef95601890afd80709'",
        "if not password:\n    raise ValueError('missing password')",
    ],
)
def test_ordinary_code_is_not_flagged(text):
    assert find_secrets(text) == []


def test_this_repositorys_training_code_is_clean():
    for path in sorted((PROJECT / "training").glob("*.py")):
        assert find_secrets(path.read_text(encoding="utf-8"), path.name) == [], path.name


def test_every_string_of_a_record_is_scanned_and_mapped_back():
    record = {
        "messages": [
            {"role": "user", "content": "Fix the upload\nplease"},
            {"role": "assistant", "content": f"ok\n\nkey = '{AWS_KEY_ID}'"},
        ],
        "meta": {"paths": ["a.py", f"b/{GITHUB_TOKEN}.py"], "note": f"pwd='{PASSWORD}'"},
    }
    found = {(field, hit.line) for field, hit in value_secrets(record)}
    assert found == {("messages[1].content", 3), ("meta.paths[1]", 1), ("meta.note", 1)}


def test_parallel_and_serial_scans_agree():
    values = [{"text": f"line {i}\nvalue = 'x{i}'"} for i in range(PARALLEL_FROM)]
    values[17] = {"text": f"ok\nkey='{AWS_KEY_ID}'"}
    values[-1] = {"deep": [{"x": PRIVATE_KEY}]}
    serial = scan_values(values, workers=1)
    assert scan_values(values, workers=2) == serial
    assert [i for i, found in enumerate(serial) if found] == [17, len(values) - 1]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_property_any_text_scans_without_error(text):
    hits = find_secrets(text)
    assert all(1 <= h.line <= text.count("\n") + 1 for h in hits)


code_lines = st.sampled_from(
    [
        "def total(items):",
        "    return sum(i.price for i in items)",
        'logger.info("saved %s", path)',
        "",
        "x = compute(a, b)  # why: the cache is cold",
        'config = {"retries": 3, "timeout": 10}',
    ]
)


@settings(max_examples=80, deadline=None)
@given(st.lists(code_lines, max_size=15), st.integers(0, 15), st.sampled_from([0, 1, 2]))
def test_property_a_planted_canary_is_found_on_its_line(lines, at, which):
    planted = [
        f'aws_key = "{AWS_KEY_ID}"',
        f"auth = '{GITHUB_TOKEN}'",
        f'admin_password = "{PASSWORD}"',
    ][which]
    at = min(at, len(lines))
    text = "\n".join([*lines[:at], planted, *lines[at:]])
    assert at + 1 in {h.line for h in find_secrets(text)}
    assert holds_secret(text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("aZ09+/_=-. \n\u00e9\u4e2dx"), max_size=300))
def test_property_runs_match_their_regex_definition(text):
    import re

    from code_assistant_lora.training.secret_scan import _runs

    expected = [(m.start(), m.group()) for m in re.finditer(r"[A-Za-z0-9+/_=\-]{20,}", text)]
    assert list(_runs(text)) == expected
