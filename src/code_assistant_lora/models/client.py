"""A small OpenAI-compatible chat client (vLLM, llama.cpp server, Ollama, `transformers serve`).

Every failure (refused connection, timeout, HTTP error, a body that is not a chat completion) is a
`ModelError` with one readable line: callers turn it into a skipped role, never a crash. Refused
connections and 5xx/429 answers are retried `retries` times with exponential backoff; a timeout is
not retried, so a stalled server costs at most `timeout` seconds per request. API keys come only
from the environment (`CODE_ASSISTANT_API_KEY`, or the variable a role names in `api_key_env`).
With a `ResponseCache`, an answer already given for the same endpoint, model and payload is reused
without a request.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from .cache import ResponseCache, cache_key

API_KEY_ENV = "CODE_ASSISTANT_API_KEY"


class ModelError(Exception):
    """The model could not give an answer; the message says why in one line."""


@dataclass(frozen=True)
class Completion:
    """One answer: its text, whether it came from the cache, and the attempts it took."""

    text: str
    cached: bool = False
    attempts: int = 0


@dataclass
class ChatClient:
    base_url: str
    timeout: float = 30.0
    retries: int = 2
    backoff: float = 0.5
    api_key_env: str = API_KEY_ENV
    cache: ResponseCache | None = None

    def __post_init__(self) -> None:
        import httpx

        headers = {"Content-Type": "application/json"}
        key = os.environ.get(self.api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        self._http = httpx.Client(
            base_url=self.base_url.rstrip("/"),
            timeout=self.timeout,
            headers=headers,
            verify=_ssl_context(),
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ChatClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def complete(
        self,
        model: str,
        messages: list[dict],
        max_tokens: int = 1024,
        temperature: float = 0.0,
    ) -> str:
        """The assistant message's text for a chat completion request."""
        return self.request(model, messages, max_tokens=max_tokens, temperature=temperature).text

    def request(
        self,
        model: str,
        messages: list[dict],
        max_tokens: int = 1024,
        temperature: float = 0.0,
        keep: Callable[[str], bool] | None = None,
    ) -> Completion:
        """Like `complete`, with the cache: an answer is stored only when `keep(text)` holds (so
        garbage is asked for again next time) and reused without a request when present."""
        payload = {
            "model": model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": temperature,
        }
        key = cache_key(self.base_url, model, payload) if self.cache is not None else None
        if key is not None:
            hit = self.cache.get(key)
            if hit is not None:
                return Completion(hit, cached=True)
        text, attempts = self._post(payload)
        if key is not None and (keep is None or keep(text)):
            self.cache.put(key, self.base_url, model, text)
        return Completion(text, cached=False, attempts=attempts)

    def _post(self, payload: dict) -> tuple[str, int]:
        import httpx

        last = "no attempt made"
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                response = self._http.post("/chat/completions", json=payload)
            except httpx.TimeoutException:
                raise ModelError(
                    f"{self.base_url} did not answer within {self.timeout:g} s"
                ) from None
            except httpx.HTTPError as exc:
                last = f"{self.base_url} unreachable ({type(exc).__name__})"
                continue
            if response.status_code == 429 or response.status_code >= 500:
                last = f"{self.base_url} answered HTTP {response.status_code}"
                continue
            if response.status_code != 200:
                raise ModelError(
                    f"{self.base_url} answered HTTP {response.status_code}: {response.text[:200]!r}"
                )
            return _message_text(response, self.base_url), attempt + 1
        raise ModelError(f"{last} after {self.retries + 1} attempt(s)")


@lru_cache(maxsize=1)
def _ssl_context():
    """One certificate store for every client: building it costs ~20 ms, a client ~1 ms after."""
    import ssl

    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def _message_text(response, base_url: str) -> str:
    try:
        body = response.json()
        content = body["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise ModelError(f"{base_url} returned something that is not a chat completion") from None
    if not isinstance(content, str):
        raise ModelError(f"{base_url} returned a chat completion without text content")
    return content
