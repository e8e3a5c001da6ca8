"""A small OpenAI-compatible chat client (vLLM, llama.cpp server, Ollama, `transformers serve`).

Every failure (refused connection, timeout, HTTP error, a body that is not a chat completion) is a
`ModelError` with one readable line: callers turn it into a skipped role, never a crash. Requests
are retried a bounded number of times with backoff on connection errors and 5xx/429 answers.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

API_KEY_ENV = "CODE_ASSISTANT_API_KEY"


class ModelError(Exception):
    """The model could not give an answer; the message says why in one line."""


@dataclass
class ChatClient:
    base_url: str
    timeout: float = 30.0
    retries: int = 2
    backoff: float = 0.5

    def __post_init__(self) -> None:
        import httpx

        headers = {"Content-Type": "application/json"}
        key = os.environ.get(API_KEY_ENV)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        self._http = httpx.Client(
            base_url=self.base_url.rstrip("/"), timeout=self.timeout, headers=headers
        )

    def close(self) -> None:
        self._http.close()

    def complete(
        self,
        model: str,
        messages: list[dict],
        max_tokens: int = 1024,
        temperature: float = 0.0,
    ) -> str:
        """The assistant message's text for a chat completion request."""
        import httpx

        payload = {
            "model": model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": temperature,
        }
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
            return _message_text(response, self.base_url)
        raise ModelError(last)


def _message_text(response, base_url: str) -> str:
    try:
        body = response.json()
        content = body["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise ModelError(f"{base_url} returned something that is not a chat completion") from None
    if not isinstance(content, str):
        raise ModelError(f"{base_url} returned a chat completion without text content")
    return content
