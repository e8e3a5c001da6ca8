"""An OpenAI-compatible server for one base model and any number of LoRA adapters.

The base is loaded once; each adapter is addressable as its own model name, the way vLLM's
`--lora-modules name=path` works, so the same client and the same model names work against this
server on a laptop and against vLLM on a GPU box. `transformers serve` cannot load a raw PEFT
adapter (only merged models), which at 31B would mean a full copy per specialist.

Endpoints: `GET /health` (readiness), `GET /v1/models`, `POST /v1/chat/completions` (greedy or
sampled generation; one request at a time, serialized by a lock). torch, transformers, peft, FastAPI
and uvicorn are imported only when a server is built.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UserError

DEFAULT_MAX_TOKENS = 512


@dataclass(frozen=True)
class AdapterSpec:
    name: str
    path: Path

    @classmethod
    def parse(cls, value: str) -> AdapterSpec:
        """`NAME=PATH`, or a bare PATH (named after its folder)."""
        name, sep, path = value.partition("=")
        if not sep:
            name, path = Path(value).name, value
        if not name or not path:
            raise UserError(f"--adapter {value!r}: expected NAME=PATH")
        return cls(name=name, path=Path(path))


def adapter_base_model(path: str | Path) -> str:
    """The base model an adapter was trained on, from its adapter_config.json."""
    config = Path(path) / "adapter_config.json"
    if not config.is_file():
        raise UserError(f"{path}: not a PEFT adapter (no adapter_config.json)")
    try:
        base = json.loads(config.read_text(encoding="utf-8")).get("base_model_name_or_path")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{config}: not valid JSON ({exc})") from None
    if not base:
        raise UserError(f"{config}: no base_model_name_or_path; pass --base explicitly")
    return str(base)


@dataclass
class LoadedModels:
    """The base model with its adapters attached, and the tokenizer."""

    base_name: str
    tokenizer: object
    model: object
    adapters: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def names(self) -> list[str]:
        return [self.base_name, *self.adapters]

    def prompt_ids(self, messages: list[dict]):
        tokenizer = self.tokenizer
        if getattr(tokenizer, "chat_template", None):
            return tokenizer.apply_chat_template(
                messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
            )["input_ids"]
        text = "".join(f"{m.get('role', 'user')}: {m.get('content', '')}\n" for m in messages)
        return tokenizer(text + "assistant: ", return_tensors="pt")["input_ids"]

    def generate(
        self, model_name: str, messages: list[dict], max_tokens: int, temperature: float
    ) -> tuple[str, int, int]:
        import torch

        input_ids = self.prompt_ids(messages).to(self.model.device)
        limit = getattr(self.model.config, "max_position_embeddings", None)
        if limit and input_ids.shape[1] >= limit:
            input_ids = input_ids[:, -(limit - max_tokens) :] if limit > max_tokens else input_ids
        options = {"max_new_tokens": max_tokens, "do_sample": temperature > 0}
        if temperature > 0:
            options["temperature"] = temperature
        pad = self.tokenizer.pad_token_id
        if pad is None:
            pad = self.tokenizer.eos_token_id
        with self.lock, torch.inference_mode():
            if not self.adapters:
                scope = nullcontext()
            elif model_name == self.base_name:
                scope = self.model.disable_adapter()
            else:
                self.model.set_adapter(model_name)
                scope = nullcontext()
            with scope:
                output = self.model.generate(
                    input_ids=input_ids,
                    attention_mask=torch.ones_like(input_ids),
                    pad_token_id=pad,
                    **options,
                )
        new = output[0, input_ids.shape[1] :]
        return self.tokenizer.decode(new, skip_special_tokens=True), input_ids.shape[1], len(new)


def load_models(
    base: str, adapters: list[AdapterSpec], load_in_4bit: bool = False, base_name: str | None = None
) -> LoadedModels:
    """Load the base once and attach every adapter under its name."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    for spec in adapters:
        if not (spec.path / "adapter_config.json").is_file():
            raise UserError(f"--adapter {spec.name}={spec.path}: not a PEFT adapter directory")
    options: dict = {}
    if load_in_4bit:
        if not torch.cuda.is_available():
            raise UserError("--load-in-4bit needs a CUDA device (bitsandbytes nf4)")
        from transformers import BitsAndBytesConfig

        options["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.bfloat16,
        )
        options["device_map"] = "auto"
    try:
        tokenizer = AutoTokenizer.from_pretrained(base)
        model = AutoModelForCausalLM.from_pretrained(base, **options)
    except OSError as exc:
        raise UserError(f"--base {base}: cannot load the model ({exc})".splitlines()[0]) from None
    model.eval()
    names: list[str] = []
    if adapters:
        from peft import PeftModel

        first, *rest = adapters
        model = PeftModel.from_pretrained(model, str(first.path), adapter_name=first.name)
        names.append(first.name)
        for spec in rest:
            model.load_adapter(str(spec.path), adapter_name=spec.name)
            names.append(spec.name)
        model.eval()
    return LoadedModels(
        base_name=base_name or Path(base).name or base,
        tokenizer=tokenizer,
        model=model,
        adapters=names,
    )


def build_app(models: LoadedModels):
    """The FastAPI application serving `models`."""
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse

    app = FastAPI(title="code-assistant serve")

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok", "models": models.names}

    @app.get("/v1/models")
    def list_models() -> dict:
        return {
            "object": "list",
            "data": [
                {"id": name, "object": "model", "owned_by": "code-assistant"}
                for name in models.names
            ],
        }

    @app.post("/v1/chat/completions")
    def chat(body: dict):
        name = body.get("model") or models.base_name
        messages = body.get("messages")
        if name not in models.names:
            return JSONResponse(
                {"error": {"message": f"unknown model {name!r}; serving {models.names}"}},
                status_code=404,
            )
        if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
            return JSONResponse(
                {"error": {"message": "messages must be a list of objects"}}, status_code=400
            )
        max_tokens = body.get("max_tokens") or DEFAULT_MAX_TOKENS
        temperature = float(body.get("temperature") or 0.0)
        if not isinstance(max_tokens, int) or not 0 < max_tokens <= 8192:
            return JSONResponse(
                {"error": {"message": "max_tokens must be 1..8192"}}, status_code=400
            )
        text, prompt_tokens, completion_tokens = models.generate(
            name, messages, max_tokens, temperature
        )
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": name,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }

    return app


class BackgroundServer:
    """A server on 127.0.0.1 in a thread of this process (the eval plugin's `--assistant-adapter`);
    `stop()` shuts it down and joins the thread."""

    def __init__(self, models: LoadedModels, host: str = "127.0.0.1", port: int = 0) -> None:
        import socket

        import uvicorn

        self.models = models
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.host, self.port = self._socket.getsockname()[:2]
        config = uvicorn.Config(build_app(models), log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def start(self, timeout: float = 30.0) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise UserError(f"the adapter server did not start on {self.host}:{self.port}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()


def serve_adapter_in_background(adapter: str | Path) -> BackgroundServer:
    """Load an adapter's base with the adapter on top and serve it on 127.0.0.1 (a free port);
    the adapter's model name is its folder name."""
    path = Path(adapter)
    spec = AdapterSpec(name=path.name, path=path)
    models = load_models(adapter_base_model(path), [spec])
    return BackgroundServer(models).start()
