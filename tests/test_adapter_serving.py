"""Serving a base model with LoRA adapters over the OpenAI API, and evaluating an adapter through
the pytest plugin: a real tiny model, a real HTTP server on 127.0.0.1, no mocks."""

from __future__ import annotations

import json

import httpx
import pytest
from test_evals_plugin import CLEAN_CASE, SQL_CASE, write_case

from code_assistant_lora.errors import UserError
from code_assistant_lora.models.client import ChatClient, ModelError

pytest_plugins = ["pytester"]
pytest.importorskip("peft", reason="needs the train extra (make test installs it)")


@pytest.fixture(scope="module")
def server(tiny_model, tiny_adapter):
    from code_assistant_lora.training.serving import AdapterSpec, BackgroundServer, load_models

    models = load_models(str(tiny_model), [AdapterSpec("python-reviewer", tiny_adapter)])
    running = BackgroundServer(models).start()
    yield running
    running.stop()


def test_models_and_health_list_the_base_and_each_adapter(server, tiny_model):
    health = httpx.get(server.base_url.removesuffix("/v1") + "/health", timeout=10).json()
    assert health["status"] == "ok"
    listed = httpx.get(server.base_url + "/models", timeout=10).json()["data"]
    assert [m["id"] for m in listed] == [tiny_model.name, "python-reviewer"]


def test_chat_completions_with_the_adapter_and_the_base(server, tiny_model):
    client = ChatClient(server.base_url, timeout=60)
    try:
        for name in ("python-reviewer", tiny_model.name):
            text = client.complete(name, [{"role": "user", "content": "review this"}], max_tokens=8)
            assert isinstance(text, str)
        with pytest.raises(ModelError, match="HTTP 404"):
            client.complete("no-such-adapter", [{"role": "user", "content": "x"}], max_tokens=4)
    finally:
        client.close()
    bad = httpx.post(server.base_url + "/chat/completions", json={"messages": "hi"}, timeout=10)
    assert bad.status_code == 400


def test_adapter_spec_and_base_lookup_errors(tmp_path, tiny_adapter, tiny_model):
    from code_assistant_lora.training.serving import AdapterSpec, adapter_base_model

    assert AdapterSpec.parse(f"sql={tmp_path}").name == "sql"
    assert AdapterSpec.parse(str(tiny_adapter)).name == "python-reviewer"
    assert adapter_base_model(tiny_adapter) == str(tiny_model)
    with pytest.raises(UserError, match="not a PEFT adapter"):
        adapter_base_model(tmp_path)


def test_eval_plugin_serves_and_scores_a_local_adapter(pytester, tiny_adapter):
    write_case(pytester, "python", "sql_fstring", SQL_CASE)
    write_case(pytester, "python", "clean_param_query", CLEAN_CASE)
    result = pytester.runpytest(
        "evals", "--assistant-adapter", str(tiny_adapter), "--assistant-eval-report", "eval.json"
    )
    # an untrained adapter answers noise: the clean case passes, the flagged one is missed
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*- missing  app/reports.py:9 sql-injection*"])
    summary = json.loads((pytester.path / "eval.json").read_text())
    assert summary["reviewer"] == "model" and summary["model"] == str(tiny_adapter)
    assert summary["overall"]["recall"] == 0.0


def test_eval_plugin_rejects_a_folder_that_is_not_an_adapter(pytester, tmp_path):
    write_case(pytester, "python", "clean_param_query", CLEAN_CASE)
    result = pytester.runpytest("evals", "--assistant-adapter", str(tmp_path))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--assistant-adapter: *not a PEFT adapter*"])
