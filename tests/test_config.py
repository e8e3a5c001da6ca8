"""Configuration: defaults, both file locations, and errors that name the bad key."""

from __future__ import annotations

import pytest

from code_assistant_lora.config import load_config
from code_assistant_lora.errors import UserError
from code_assistant_lora.findings import Severity


def test_defaults_without_any_file(tmp_path):
    config = load_config(tmp_path)
    assert config.review.fail_on is Severity.HIGH
    assert config.review.skip_rules == ()


def test_pyproject_table(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.code-assistant.review]\nfail_on = "medium"\nskip_rules = ["python.print-left-in-code"]\n'
        '[tool.code-assistant.models]\nbase_url = "http://127.0.0.1:8000/v1"\n'
        '[tool.code-assistant.models.roles.python]\nmodel = "python-reviewer"\n'
    )
    config = load_config(tmp_path)
    assert config.review.fail_on is Severity.MEDIUM
    assert config.review.skip_rules == ("python.print-left-in-code",)
    assert config.models.roles["python"].model == "python-reviewer"


def test_dedicated_file_wins(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.code-assistant.review]\nfail_on = "low"\n')
    (tmp_path / ".code-assistant.toml").write_text('[review]\nfail_on = "critical"\n')
    assert load_config(tmp_path).review.fail_on is Severity.CRITICAL


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[review]\nfail_onn = 'high'\n", "unknown key 'fail_onn'"),
        ("[reviews]\n", "unknown key 'reviews'"),
        ("[review]\nfail_on = 'severe'\n", "unknown severity 'severe'"),
        ("[review]\nskip_rules = 'x'\n", "review.skip_rules: expected list"),
        ("[models.roles.golang]\nmodel = 'x'\n", "unknown role 'golang'"),
        ("[models]\ntimeout = true\n", "expected a number"),
        ("[review]\nlinters = ['eslint']\n", "unknown linter 'eslint'"),
        ("[review\n", "invalid TOML"),
    ],
)
def test_bad_config_names_the_problem(tmp_path, text, message):
    (tmp_path / ".code-assistant.toml").write_text(text)
    with pytest.raises(UserError, match=message):
        load_config(tmp_path)
