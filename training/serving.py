"""An OpenAI-compatible server for one base model and any number of LoRA adapters.

The base is loaded once; each adapter is addressable as its own model name, the way vLLM's
`--lora-modules name=path` works, and the base keeps the name vLLM gives it (the `--base` string, or
`--served-model-name`), so the same client and the same model names work against this server on a
laptop and against vLLM on a GPU box. `transformers serve` cannot load a raw PEFT adapter (only
merged models), which at 31B would mean a full copy per specialist.

Endpoints: `GET /health` (readiness: answers once the models are loaded), `GET /v1/models`,
`POST /v1/chat/completions` (greedy or sampled generation; one request at a time, serialized by a
lock). When `CODE_ASSISTANT_API_KEY` is set, `/v1/*` requires it as a bearer token (the client
sends it from the same variable). torch, transformers, peft, FastAPI and uvicorn are imported only
when a server is built.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UserError
from ..json_input import read_json

DEFAULT_MAX_TOKENS = 1024  # the client's default max_tokens: its requests are never clipped
API_KEY_ENV = "CODE_ASSISTANT_API_KEY"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
SERVING_LIBRARIES = ("torch", "transformers", "peft", "fastapi", "uvicorn")


def require_serving_libraries(what: str = "serve") -> None:
    """A clear usage error naming the first missing library of the train extra."""
    for name in SERVING_LIBRARIES:
        if importlib.util.find_spec(name) is None:
            raise UserError(
                f"{what} needs the train extra ({name} is not installed): "
                "pip install 'code-assistant-lora[train]'"
            )


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
    data = read_json(config)
    base = data.get("base_model_name_or_path") if isinstance(data, dict) else None
    if not base:
        raise UserError(f"{config}: no base_model_name_or_path; pass --base explicitly")
    return str(base)


def same_base(trained_on: str, base: str) -> bool:
    """Whether an adapter trained on `trained_on` fits `base`: the same hub id or directory, or
    the same final name (a hub id served from a local snapshot, `org/model` vs `/models/model`)."""
    if trained_on == base:
        return True
    left, right = Path(trained_on).expanduser(), Path(base).expanduser()
    if left.exists() and right.exists():
        return left.resolve() == right.resolve()
    return left.name.lower() == right.name.lower()


def check_adapter(spec: AdapterSpec, base: str) -> None:
    """Exit-2 errors for an adapter that cannot be served on `base`, before anything loads."""
    where = f"--adapter {spec.name}={spec.path}"
    if not spec.path.is_dir():
        raise UserError(f"{where}: no such directory")
    if not (spec.path / "adapter_config.json").is_file():
        raise UserError(f"{where}: not a PEFT adapter directory (no adapter_config.json)")
    trained_on = adapter_base_model(spec.path)
    if not same_base(trained_on, base):
        raise UserError(
            f"{where}: trained on {trained_on!r}, not on --base {base!r} (the same model under "
            "another path? set base_model_name_or_path in its adapter_config.json)"
        )


def check_base(base: str) -> None:
    path = Path(base).expanduser()
    looks_local = base.startswith(("/", ".", "~")) or path.exists()
    if looks_local and not (path / "config.json").is_file():
        reason = "no such directory" if not path.exists() else "no config.json in it"
        raise UserError(f"--base {base}: not a model directory ({reason})")


@dataclass
class LoadedModels:
    """The base model with its adapters attached, and the tokenizer."""

    base_name: str
    tokenizer: object
    model: object
    adapters: list[str] = field(default_factory=list)
    quantized: bool = False
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
    ) -> tuple[str, int, int, str]:
        """(text, prompt tokens, completion tokens, finish reason) for one chat request;
        the base name runs with every adapter disabled."""
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
        ended = len(new) > 0 and int(new[-1]) == self.tokenizer.eos_token_id
        finish = "length" if len(new) >= max_tokens and not ended else "stop"
        text = self.tokenizer.decode(new, skip_special_tokens=True)
        return text, input_ids.shape[1], len(new), finish


def _load_options(load_in_4bit: bool) -> dict:
    """dtype, device placement and quantization for this machine: bf16 on CUDA, fp32 on the CPU;
    nf4 with double quantization when asked (bitsandbytes 0.50 also runs it on the CPU, slowly)."""
    import torch

    cuda = torch.cuda.is_available()
    if cuda:
        compute = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    else:
        compute = torch.float32
    options: dict = {"dtype": compute}
    if cuda:
        options["device_map"] = "auto"
    if load_in_4bit:
        if importlib.util.find_spec("bitsandbytes") is None:
            raise UserError(
                "--load-in-4bit needs bitsandbytes: pip install 'code-assistant-lora[train]'"
            )
        from transformers import BitsAndBytesConfig

        options["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=compute,
        )
    return options


def load_models(
    base: str,
    adapters: list[AdapterSpec],
    load_in_4bit: bool = False,
    base_name: str | None = None,
) -> LoadedModels:
    """Load the base once and attach every adapter under its name. The base is served as
    `base_name`, by default the `base` string itself (what vLLM calls it)."""
    check_base(base)
    seen = {base_name or base}
    for spec in adapters:
        if spec.name in seen:
            raise UserError(f"--adapter {spec.name}: the name is used twice (base or adapter)")
        seen.add(spec.name)
        check_adapter(spec, base)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    options = _load_options(load_in_4bit)
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
        try:
            model = PeftModel.from_pretrained(model, str(first.path), adapter_name=first.name)
            names.append(first.name)
            for spec in rest:
                model.load_adapter(str(spec.path), adapter_name=spec.name)
                names.append(spec.name)
        except RuntimeError as exc:  # shape mismatches: an adapter for another architecture
            failed = adapters[len(names)]
            raise UserError(
                f"--adapter {failed.name}={failed.path}: does not fit --base {base} "
                f"({str(exc).splitlines()[0][:200]})"
            ) from None
        model.eval()
    return LoadedModels(
        base_name=base_name or base,
        tokenizer=tokenizer,
        model=model,
        adapters=names,
        quantized=load_in_4bit,
    )


def _error(message: str, status: int):
    from fastapi.responses import JSONResponse

    return JSONResponse({"error": {"message": message}}, status_code=status)


def build_app(
    models: LoadedModels, max_new_tokens: int = DEFAULT_MAX_TOKENS, api_key: str | None = None
):
    """The FastAPI application serving `models`. Requests asking for more than `max_new_tokens`
    are clipped to it (finish reason `length`): one long request must not hold the lock for long."""
    from fastapi import FastAPI, Request

    app = FastAPI(title="code-assistant serve")

    if api_key:

        @app.middleware("http")
        async def require_key(request: Request, call_next):
            given = request.headers.get("authorization", "")
            if request.url.path.startswith("/v1/") and not secrets.compare_digest(
                given.encode(), f"Bearer {api_key}".encode()
            ):
                return _error(f"missing or wrong API key (set {API_KEY_ENV})", 401)
            return await call_next(request)

    @app.get("/health")
    def health() -> dict:
        return {
            "status": "ok",
            "models": models.names,
            "base": models.base_name,
            "adapters": models.adapters,
            "load_in_4bit": models.quantized,
        }

    @app.get("/v1/models")
    def list_models() -> dict:
        return {
            "object": "list",
            "data": [
                {
                    "id": name,
                    "object": "model",
                    "owned_by": "code-assistant",
                    "parent": None if name == models.base_name else models.base_name,
                }
                for name in models.names
            ],
        }

    @app.post("/v1/chat/completions")
    def chat(body: dict):
        name = body.get("model") or models.base_name
        messages = body.get("messages")
        if name not in models.names:
            return _error(f"unknown model {name!r}; serving {models.names}", 404)
        if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
            return _error("messages must be a list of objects", 400)
        requested = body.get("max_tokens") or body.get("max_completion_tokens") or max_new_tokens
        if isinstance(requested, bool) or not isinstance(requested, int) or requested < 1:
            return _error("max_tokens must be a positive integer", 400)
        try:
            temperature = float(body.get("temperature") or 0.0)
        except (TypeError, ValueError):
            return _error("temperature must be a number", 400)
        text, prompt_tokens, completion_tokens, finish = models.generate(
            name, messages, min(requested, max_new_tokens), temperature
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
                    "finish_reason": finish,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }

    return app


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind before the (slow) model load, so a busy port fails in a second, not after a minute."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UserError(f"--host {host} --port {port}: cannot bind ({exc.strerror})") from None
    return sock


class BackgroundServer:
    """A server on 127.0.0.1 in a thread of this process (the eval plugin's `--assistant-adapter`);
    `stop()` shuts it down and joins the thread."""

    def __init__(self, models: LoadedModels, host: str = "127.0.0.1", port: int = 0) -> None:
        import uvicorn

        self.models = models
        self._socket = bind_socket(host, port)
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
    require_serving_libraries("--assistant-adapter")
    path = Path(adapter)
    spec = AdapterSpec(name=path.name, path=path)
    models = load_models(adapter_base_model(path), [spec])
    return BackgroundServer(models).start()


@dataclass(frozen=True)
class ServeOptions:
    base: str
    adapters: tuple[str, ...] = ()  # NAME=PATH or PATH, as given on the command line
    served_model_name: str | None = None
    load_in_4bit: bool = False
    host: str = "127.0.0.1"
    port: int = 8000
    max_new_tokens: int = DEFAULT_MAX_TOKENS


def serve_forever(options: ServeOptions, say: Callable[[str], None] | None = None) -> None:
    """`code-assistant serve`: load, bind, serve until Ctrl-C (or SIGTERM), then shut down
    cleanly: uvicorn stops accepting, lets the request in flight finish, and returns."""
    say = say or (lambda line: print(line, file=sys.stderr, flush=True))
    require_serving_libraries()
    specs = [AdapterSpec.parse(value) for value in options.adapters]
    api_key = os.environ.get(API_KEY_ENV) or None
    if options.host not in LOCAL_HOSTS:
        say(
            f"warning: binding to {options.host} exposes the models to the network; "
            + (
                "requests must carry the API key"
                if api_key
                else f"set {API_KEY_ENV} to require a key"
            )
        )
    sock = bind_socket(options.host, options.port)
    try:
        import uvicorn

        if options.load_in_4bit:
            import torch

            if not torch.cuda.is_available():
                say("note: --load-in-4bit on the CPU works (bitsandbytes nf4) but is slow")
        say(f"loading {options.base} with {len(specs)} adapter(s)...")
        models = load_models(options.base, specs, options.load_in_4bit, options.served_model_name)
        host, port = sock.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        say(f"serving {', '.join(models.names)} on http://{shown}:{port}/v1 (Ctrl-C stops)")
        app = build_app(models, options.max_new_tokens, api_key)
        config = uvicorn.Config(app, log_level="info", lifespan="off", timeout_graceful_shutdown=10)
        try:
            uvicorn.Server(config).run(sockets=[sock])
        except KeyboardInterrupt:  # uvicorn re-raises the SIGINT it handled, once it has stopped
            pass
        say("stopped")
    finally:
        sock.close()
