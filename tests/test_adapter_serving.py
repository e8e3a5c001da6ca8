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
    # vLLM's names: the base as given (a path here), the adapter as its LoRA module name
    assert [m["id"] for m in listed] == [str(tiny_model), "python-reviewer"]


def test_chat_completions_with_the_adapter_and_the_base(server, tiny_model):
    client = ChatClient(server.base_url, timeout=60)
    try:
        for name in ("python-reviewer", str(tiny_model)):
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


def test_an_adapter_fits_a_base_by_id_directory_or_final_name(tmp_path, tiny_model, tiny_adapter):
    from code_assistant_lora.training.serving import AdapterSpec, check_adapter, same_base

    assert same_base("Qwen/Qwen2.5-Coder-7B-Instruct", "Qwen/Qwen2.5-Coder-7B-Instruct")
    assert same_base("Qwen/Qwen2.5-Coder-7B-Instruct", "/models/qwen2.5-coder-7b-instruct")
    assert not same_base("Qwen/Qwen2.5-Coder-7B-Instruct", "Qwen/Qwen2.5-Coder-32B-Instruct")
    link = tmp_path / "same-model"
    link.symlink_to(tiny_model)
    assert same_base(str(tiny_model), str(link))
    check_adapter(AdapterSpec("py", tiny_adapter), str(link))
    with pytest.raises(UserError, match="trained on .*, not on --base 'org/other'"):
        check_adapter(AdapterSpec("py", tiny_adapter), "org/other")
    with pytest.raises(UserError, match="no adapter_config.json"):
        check_adapter(AdapterSpec("empty", tmp_path), str(tiny_model))


def test_two_adapters_on_one_base_answer_under_their_own_names(tiny_model, tiny_adapter, tmp_path):
    import shutil

    from code_assistant_lora.training.serving import AdapterSpec, load_models

    second = tmp_path / "sql-reviewer"
    shutil.copytree(tiny_adapter, second)
    models = load_models(
        str(tiny_model), [AdapterSpec("python-reviewer", tiny_adapter), AdapterSpec("sql", second)],
        base_name="base",
    )  # fmt: skip
    assert models.names == ["base", "python-reviewer", "sql"]
    for name in models.names:
        text, prompt, completion, finish = models.generate(
            name, [{"role": "user", "content": "x"}], 4, 0.0
        )
        assert prompt > 0 and 0 < completion <= 4 and finish in ("stop", "length")
    assert models.model.active_adapter == "sql"
    with pytest.raises(UserError, match="the name is used twice"):
        load_models(str(tiny_model), [AdapterSpec("base", tiny_adapter)], base_name="base")


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
