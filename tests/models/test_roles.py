"""Role settings resolved from the [models] config."""

from __future__ import annotations

import pytest

from code_assistant_lora.config import parse_config
from code_assistant_lora.errors import UserError
from code_assistant_lora.models.roles import configured_roles, resolve_role


def _models(table: dict):
    return parse_config({"models": table}, "test").models


def test_role_inherits_endpoint_and_timeout_from_models_table():
    models = _models(
        {"base_url": "http://a/v1", "timeout": 7, "roles": {"sql": {"model": "sql-lora"}}}
    )
    role = resolve_role(models, "sql")
    assert (role.base_url, role.model, role.timeout) == ("http://a/v1", "sql-lora", 7.0)


def test_role_settings_override_the_table():
    models = _models(
        {
            "base_url": "http://a/v1",
            "roles": {
                "verifier": {
                    "model": "v",
                    "base_url": "http://spark:8000/v1",
                    "timeout": 90,
                    "max_tokens": 64,
                    "temperature": 0.2,
                }
            },
        }
    )
    role = resolve_role(models, "verifier")
    assert role.base_url == "http://spark:8000/v1"
    assert (role.timeout, role.max_tokens, role.temperature) == (90.0, 64, 0.2)


def test_role_without_model_is_not_configured():
    models = _models({"base_url": "http://a/v1", "roles": {"python": {"timeout": 3}}})
    assert resolve_role(models, "python") is None
    assert configured_roles(models) == {}


def test_model_without_any_endpoint_is_an_error_naming_the_role():
    models = _models({"roles": {"tests": {"model": "t"}}})
    with pytest.raises(UserError, match=r"models\.roles\.tests"):
        resolve_role(models, "tests")


def test_unknown_role_is_an_error():
    with pytest.raises(UserError, match="unknown model role 'golang'"):
        resolve_role(_models({}), "golang")
