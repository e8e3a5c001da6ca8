"""The chat client against a real server on 127.0.0.1: cache, retries, timeouts, API keys."""

from __future__ import annotations

import time

import pytest
from openai_server import FakeOpenAIServer

from code_assistant_lora.config import parse_config
from code_assistant_lora.errors import UserError
from code_assistant_lora.models.cache import ResponseCache
from code_assistant_lora.models.client import ChatClient, ModelError
from code_assistant_lora.models.roles import open_client, resolve_role

HELLO = [{"role": "user", "content": "hi"}]


def test_a_cached_answer_makes_no_second_request(tmp_path):
    cache = ResponseCache(tmp_path / "cache")
    with FakeOpenAIServer(lambda body: '{"findings": []}') as server:
        with ChatClient(server.base_url, timeout=5, cache=cache) as client:
            first = client.request("m", HELLO)
            second = client.request("m", HELLO)
            other = client.request("m", HELLO, temperature=0.5)  # another payload, another key
        assert len(server.requests) == 2
    assert (first.cached, second.cached, other.cached) == (False, True, False)
    assert second.text == first.text
    stored = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert len(stored) == 2 and all(name.endswith(".json") for name in stored)  # no temp files


def test_answers_that_fail_the_check_are_not_cached(tmp_path):
    cache = ResponseCache(tmp_path / "cache")
    with FakeOpenAIServer(lambda body: "garbage") as server:
        with ChatClient(server.base_url, timeout=5, cache=cache) as client:
            for _ in range(2):
                assert client.request("m", HELLO, keep=lambda text: False).text == "garbage"
        assert len(server.requests) == 2


def test_a_damaged_cache_file_is_a_miss(tmp_path):
    cache = ResponseCache(tmp_path)
    with FakeOpenAIServer(lambda body: "fresh") as server:
        with ChatClient(server.base_url, timeout=5, cache=cache) as client:
            client.request("m", HELLO)
            [stored] = tmp_path.iterdir()
            stored.write_text("{trunc")
            again = client.request("m", HELLO)  # a miss: asked again and stored again
            assert (again.text, again.cached) == ("fresh", False)
            assert client.request("m", HELLO).cached
        assert len(server.requests) == 2


def test_5xx_is_retried_a_bounded_number_of_times():
    with FakeOpenAIServer(lambda body: (503, {"error": "busy"})) as server:
        with ChatClient(server.base_url, timeout=5, retries=2, backoff=0.01) as client:
            with pytest.raises(ModelError, match="HTTP 503 after 3 attempt"):
                client.complete("m", HELLO)
        assert len(server.requests) == 3


def test_a_recovering_server_answers_on_the_retry():
    answers = iter([(500, {"error": "boom"}), "ok"])
    with FakeOpenAIServer(lambda body: next(answers)) as server:
        with ChatClient(server.base_url, timeout=5, retries=1, backoff=0.01) as client:
            done = client.request("m", HELLO)
    assert (done.text, done.attempts) == ("ok", 2)


def test_a_stall_is_not_retried_so_the_wait_is_bounded():
    with FakeOpenAIServer(lambda body: 3.0) as server:
        started = time.monotonic()
        with ChatClient(server.base_url, timeout=0.3, retries=3, backoff=0.01) as client:
            with pytest.raises(ModelError, match="within 0.3 s"):
                client.complete("m", HELLO)
        assert time.monotonic() - started < 1.5
        assert len(server.requests) == 1


def test_api_key_comes_from_the_variable_the_role_names(monkeypatch, tmp_path):
    monkeypatch.setenv("SQL_REVIEWER_KEY", "role-key")
    monkeypatch.setenv("CODE_ASSISTANT_API_KEY", "shared-key")
    models = parse_config(
        {
            "models": {
                "base_url": "http://127.0.0.1:9/v1",
                "retries": 1,
                "roles": {
                    "sql": {"model": "s", "api_key_env": "SQL_REVIEWER_KEY"},
                    "python": {"model": "p"},
                },
            }
        },
        "test",
    ).models
    with open_client(resolve_role(models, "sql"), tmp_path) as client:
        assert client._http.headers["Authorization"] == "Bearer role-key"
        assert client.retries == 1 and client.cache is not None
    with open_client(resolve_role(models, "python")) as client:
        assert client._http.headers["Authorization"] == "Bearer shared-key"
        assert client.cache is None


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"api_key_env": "sk-live-1234"}, "name of an environment variable"),
        ({"timeout": 0}, "above 0"),
        ({"max_tokens": -5}, "above 0"),
        ({"api_key": "x"}, "unknown key 'api_key'"),
    ],
)
def test_bad_role_settings_are_errors_naming_the_key(table, message):
    with pytest.raises(UserError, match=message):
        parse_config({"models": {"roles": {"sql": {"model": "s", **table}}}}, "test")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"retries": 11}, r"models\.retries"),
        ({"retries": True}, r"models\.retries"),
        ({"concurrency": 0}, r"models\.concurrency"),
        ({"cache": "no"}, r"models\.cache"),
    ],
)
def test_bad_models_settings_are_errors_naming_the_key(table, message):
    with pytest.raises(UserError, match=message):
        parse_config({"models": table}, "test")


def test_models_settings_defaults_and_values():
    assert parse_config({}, "t").models.retries == 2
    models = parse_config({"models": {"retries": 0, "concurrency": 2, "cache": False}}, "t").models
    assert (models.retries, models.concurrency, models.cache) == (0, 2, False)
