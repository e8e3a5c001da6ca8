"""`code-assistant serve` as a real subprocess on 127.0.0.1: the tiny local model and adapter,
vLLM-style model names through the project's own client and role config, Ctrl-C shutdown, and the
exit-2 errors that come before any model loads."""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

import httpx
import pytest

from code_assistant_lora.models.client import ChatClient, ModelError

pytest.importorskip("peft", reason="needs the train extra (make test installs it)")

from serve_process import ENV, SERVE, ServeProcess  # noqa: E402


@pytest.fixture(scope="module")
def served(tiny_model, tiny_adapter, tmp_path_factory):
    """One server for the module: the base plus the adapter as `python-reviewer`, on a free
    port (--port 0). Stopped with Ctrl-C at the end, which must exit 0 and say so."""
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    server = ServeProcess(
        [
            "--base",
            str(tiny_model),
            "--adapter",
            f"python-reviewer={tiny_adapter}",
            "--port",
            "0",
            "--max-new-tokens",
            "16",
        ],  # fmt: skip
        log,
    )
    try:
        url = server.wait_ready()
        yield url
        assert server.interrupt() == 0, log.read_text()
        assert "code-assistant serve: stopped" in log.read_text()
        with pytest.raises(httpx.TransportError):
            httpx.get(url + "/models", timeout=2)
    finally:
        server.stop()


def test_models_and_health_list_the_base_and_the_adapter(served, tiny_model):
    health = httpx.get(served.removesuffix("/v1") + "/health", timeout=10).json()
    assert health["status"] == "ok" and health["adapters"] == ["python-reviewer"]
    listed = httpx.get(served + "/models", timeout=10).json()["data"]
    # vLLM's names: the base as given to --base, each LoRA module under its own name
    assert [m["id"] for m in listed] == [str(tiny_model), "python-reviewer"]
    assert listed[1]["parent"] == str(tiny_model)


def test_chat_completion_on_the_adapter_name(served):
    body = {
        "model": "python-reviewer",
        "messages": [{"role": "user", "content": "review this diff"}],
        "max_tokens": 500,
    }
    answer = httpx.post(served + "/chat/completions", json=body, timeout=60).json()
    assert answer["model"] == "python-reviewer"
    assert isinstance(answer["choices"][0]["message"]["content"], str)
    assert answer["usage"]["completion_tokens"] <= 16  # clipped to --max-new-tokens
    assert answer["usage"]["prompt_tokens"] > 0


def test_the_client_reaches_roles_configured_with_vllm_module_names(served, tiny_model):
    from code_assistant_lora.config import parse_config
    from code_assistant_lora.models.roles import configured_roles

    config = parse_config(
        {
            "models": {
                "base_url": served,
                "timeout": 60,
                "roles": {
                    "python": {"model": "python-reviewer"},
                    "patcher": {"model": str(tiny_model)},
                },
            }
        },
        "test config",
    )
    roles = configured_roles(config.models)
    assert set(roles) == {"python", "patcher"}
    for role in roles.values():
        client = ChatClient(role.base_url, timeout=role.timeout)
        try:
            text = client.complete(role.model, [{"role": "user", "content": "hi"}], max_tokens=8)
        finally:
            client.close()
        assert isinstance(text, str)
    client = ChatClient(served, timeout=30, retries=0)
    try:
        with pytest.raises(ModelError, match="HTTP 404"):
            client.complete("sql-reviewer", [{"role": "user", "content": "x"}], max_tokens=4)
    finally:
        client.close()


def run_serve(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*SERVE, *args], capture_output=True, text=True, env=ENV, timeout=timeout, check=False
    )


def test_a_missing_adapter_path_exits_2_and_other_hosts_are_warned(tiny_model, tmp_path):
    missing = tmp_path / "nowhere"
    result = run_serve(
        "--base", str(tiny_model), "--adapter", f"sql={missing}", "--host", "0.0.0.0"
    )
    assert result.returncode == 2, result.stderr
    assert f"--adapter sql={missing}: no such directory" in result.stderr
    assert "warning: binding to 0.0.0.0 exposes the models to the network" in result.stderr
    assert "CODE_ASSISTANT_API_KEY" in result.stderr


def test_an_adapter_of_another_base_exits_2(tiny_model, tiny_adapter, tmp_path):
    other = tmp_path / "other-adapter"
    other.mkdir()
    config = json.loads((tiny_adapter / "adapter_config.json").read_text())
    config["base_model_name_or_path"] = "meta-llama/Llama-3.1-8B"
    (other / "adapter_config.json").write_text(json.dumps(config))
    result = run_serve("--base", str(tiny_model), "--adapter", f"x={other}")
    assert result.returncode == 2
    assert "trained on 'meta-llama/Llama-3.1-8B', not on --base" in result.stderr


def test_a_missing_base_or_a_busy_port_exits_2(tiny_model, tmp_path):
    result = run_serve("--base", str(tmp_path / "no-model"))
    assert result.returncode == 2 and "not a model directory (no such directory)" in result.stderr
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_serve("--base", str(tiny_model), "--port", str(port))
    assert result.returncode == 2 and f"--port {port}: cannot bind" in result.stderr


def _tiny_model_for_nf4(tiny_model: Path, target: Path) -> tuple[Path, Path]:
    """bitsandbytes' CPU nf4 kernels pack weights in blocks of 64 input features: the 32-wide
    tiny model is too narrow, so widen it to 64 (same tokenizer), with its own adapter."""
    import shutil

    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoConfig, LlamaForCausalLM

    model_dir = target / "tiny-64"
    shutil.copytree(tiny_model, model_dir)
    config = AutoConfig.from_pretrained(tiny_model)
    config.hidden_size, config.intermediate_size, config.head_dim = 64, 128, 32
    torch.manual_seed(0)
    model = LlamaForCausalLM(config)
    model.save_pretrained(model_dir)
    lora = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM")
    adapter_dir = target / "python-reviewer-64"
    get_peft_model(model, lora).save_pretrained(adapter_dir)
    config_path = adapter_dir / "adapter_config.json"
    adapter_config = json.loads(config_path.read_text())
    adapter_config["base_model_name_or_path"] = str(model_dir)
    config_path.write_text(json.dumps(adapter_config))
    return model_dir, adapter_dir


@pytest.mark.slow
def test_load_in_4bit_serves_the_adapter_on_an_nf4_base(tiny_model, tmp_path):
    pytest.importorskip("bitsandbytes", reason="--load-in-4bit needs bitsandbytes")
    model_dir, adapter_dir = _tiny_model_for_nf4(tiny_model, tmp_path)
    server = ServeProcess(
        [
            "--base",
            str(model_dir),
            "--adapter",
            f"python-reviewer={adapter_dir}",
            "--load-in-4bit",
            "--port",
            "0",
            "--max-new-tokens",
            "8",
        ],  # fmt: skip
        tmp_path / "serve.log",
    )
    try:
        url = server.wait_ready()
        health = httpx.get(url.removesuffix("/v1") + "/health", timeout=10).json()
        assert health["load_in_4bit"] is True
        client = ChatClient(url, timeout=120)
        try:
            for name in ("python-reviewer", str(model_dir)):
                text = client.complete(name, [{"role": "user", "content": "hi"}], max_tokens=8)
                assert isinstance(text, str)
        finally:
            client.close()
        assert server.interrupt() == 0
    finally:
        server.stop()
