"""Which model answers for which role: the `[models]` config resolved into one record per role.

A role is configured when it has a model name (its own, nothing is inherited for `model`); its
endpoint, timeout and sampling settings fall back to the `[models]` table's, then to defaults.
`open_client` turns a resolved role into a `ChatClient` with the table's retries and the role's
API-key variable.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import ROLES, ModelsConfig
from ..errors import UserError
from .client import API_KEY_ENV

if TYPE_CHECKING:
    from .client import ChatClient

SPECIALISTS = ("python", "typescript", "sql", "docker_ci", "tests")
# The reviewer regression suites each specialist answers for: its training records and its evals.
SUITES_BY_SPECIALIST = {
    "python": ("python",),
    "typescript": ("typescript", "react", "vue"),
    "sql": ("sql",),
    "docker_ci": ("docker_ci", "orchestration"),
    "tests": ("testing",),
}
DEFAULT_MAX_TOKENS = 1024
DEFAULT_TEMPERATURE = 0.0


@dataclass(frozen=True)
class ResolvedRole:
    role: str
    base_url: str
    model: str
    timeout: float
    max_tokens: int = DEFAULT_MAX_TOKENS
    temperature: float = DEFAULT_TEMPERATURE
    retries: int = 2
    api_key_env: str = API_KEY_ENV


def resolve_role(models: ModelsConfig, role: str) -> ResolvedRole | None:
    """The settings for ROLE, or None when the config gives it no model."""
    if role not in ROLES:
        raise UserError(f"unknown model role {role!r} (expected one of: {', '.join(ROLES)})")
    own = models.roles.get(role)
    if own is None or not own.model:
        return None
    base_url = own.base_url or models.base_url
    if not base_url:
        raise UserError(
            f"[models.roles.{role}] has a model but no base_url, and [models] sets none"
        )
    return ResolvedRole(
        role=role,
        base_url=base_url,
        model=own.model,
        timeout=own.timeout if own.timeout is not None else models.timeout,
        max_tokens=own.max_tokens if own.max_tokens is not None else DEFAULT_MAX_TOKENS,
        temperature=own.temperature if own.temperature is not None else DEFAULT_TEMPERATURE,
        retries=models.retries,
        api_key_env=own.api_key_env or API_KEY_ENV,
    )


def configured_roles(models: ModelsConfig) -> dict[str, ResolvedRole]:
    """Every role the config gives a model, by name."""
    resolved = {role: resolve_role(models, role) for role in ROLES}
    return {role: settings for role, settings in resolved.items() if settings is not None}


def open_client(
    role: ResolvedRole, repo_root: str | Path | None = None, backoff: float = 0.5
) -> ChatClient:
    """A client for ROLE; answers are cached under `repo_root/.code-assistant/cache/` when a
    repo root is given (pass None to switch the cache off)."""
    from .cache import ResponseCache
    from .client import ChatClient

    return ChatClient(
        role.base_url,
        timeout=role.timeout,
        retries=role.retries,
        backoff=backoff,
        api_key_env=role.api_key_env,
        cache=ResponseCache.for_repo(repo_root) if repo_root is not None else None,
    )


def specialist_for_suite(suite: str) -> str | None:
    """The specialist that reviews a regression suite's cases (None for a suite none owns)."""
    return next((name for name, suites in SUITES_BY_SPECIALIST.items() if suite in suites), None)
