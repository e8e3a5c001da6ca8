"""Project configuration: `.code-assistant.toml` at the repo root, or `[tool.code-assistant]` in
pyproject.toml (the dedicated file wins). Every key is optional; unknown keys are errors that name
the key, so a typo never silently does nothing."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import UserError
from .findings import Severity

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

ROLES = ("patcher", "python", "typescript", "sql", "docker_ci", "tests", "verifier")
LINTERS = ("ruff", "shellcheck", "hadolint", "sqlfluff", "actionlint")


@dataclass(frozen=True)
class RoleConfig:
    base_url: str | None = None
    model: str | None = None
    timeout: float | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    api_key_env: str | None = None  # the NAME of an environment variable holding the key


@dataclass(frozen=True)
class ModelsConfig:
    base_url: str | None = None
    timeout: float = 30.0
    retries: int = 2  # extra attempts after a refused connection or a 5xx/429 answer
    concurrency: int = 4  # specialists asked at the same time
    cache: bool = True  # reuse answers from <repo>/.code-assistant/cache/
    roles: dict[str, RoleConfig] = field(default_factory=dict)


@dataclass(frozen=True)
class ReviewConfig:
    fail_on: Severity = Severity.HIGH
    rules: tuple[str, ...] = ()
    skip_rules: tuple[str, ...] = ()
    baseline: str | None = None
    linters: tuple[str, ...] = ()
    models: bool = False
    exclude: tuple[
        str, ...
    ] = ()  # path globs never reviewed (planted-problem fixtures, vendored code)


@dataclass(frozen=True)
class SuiteThresholds:
    min_precision: float | None = None
    min_recall: float | None = None


@dataclass(frozen=True)
class EvalsConfig:
    """Reviewer regression evals: thresholds (all suites, then per suite) and the lowest severity
    scored (`info` findings are advisory and not scored by default)."""

    min_precision: float | None = None
    min_recall: float | None = None
    min_severity: Severity = Severity.LOW
    suites: dict[str, SuiteThresholds] = field(default_factory=dict)

    def thresholds(self, suite: str) -> SuiteThresholds:
        own = self.suites.get(suite, SuiteThresholds())
        return SuiteThresholds(
            min_precision=own.min_precision
            if own.min_precision is not None
            else self.min_precision,
            min_recall=own.min_recall if own.min_recall is not None else self.min_recall,
        )


@dataclass(frozen=True)
class Config:
    review: ReviewConfig = field(default_factory=ReviewConfig)
    models: ModelsConfig = field(default_factory=ModelsConfig)
    evals: EvalsConfig = field(default_factory=EvalsConfig)
    source: str | None = None  # the file it came from, for messages


def _expect(value: Any, kind: type | tuple[type, ...], where: str) -> Any:
    if isinstance(value, bool) and kind in (int, float, (int, float)):
        raise UserError(f"{where}: expected a number, got {value!r}")
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise UserError(f"{where}: expected {names}, got {value!r}")
    return value


def _strings(value: Any, where: str) -> tuple[str, ...]:
    _expect(value, list, where)
    for item in value:
        _expect(item, str, where)
    return tuple(value)


def _reject_unknown(table: dict, allowed: set[str], where: str) -> None:
    for key in table:
        if key not in allowed:
            raise UserError(
                f"{where}: unknown key {key!r} (expected one of: {', '.join(sorted(allowed))})"
            )


def _review(table: dict, where: str) -> ReviewConfig:
    _reject_unknown(
        table, {"fail_on", "rules", "skip_rules", "baseline", "linters", "models", "exclude"}, where
    )
    linters = _strings(table.get("linters", []), f"{where}.linters")
    for name in linters:
        if name not in LINTERS and name != "auto":
            raise UserError(
                f"{where}.linters: unknown linter {name!r} (expected auto or: {', '.join(LINTERS)})"
            )
    fail_on = table.get("fail_on", "high")
    return ReviewConfig(
        fail_on=Severity.parse(_expect(fail_on, str, f"{where}.fail_on")),
        rules=_strings(table.get("rules", []), f"{where}.rules"),
        skip_rules=_strings(table.get("skip_rules", []), f"{where}.skip_rules"),
        baseline=_expect(table["baseline"], str, f"{where}.baseline")
        if "baseline" in table
        else None,
        linters=linters,
        models=_expect(table.get("models", False), bool, f"{where}.models"),
        exclude=_strings(table.get("exclude", []), f"{where}.exclude"),
    )


def _positive(value: Any, where: str, kind: type = float) -> Any:
    value = _expect(value, (int, float) if kind is float else kind, where)
    if value <= 0:
        raise UserError(f"{where}: expected a number above 0, got {value!r}")
    return kind(value)


def _env_name(value: Any, where: str) -> str:
    name = _expect(value, str, where)
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise UserError(
            f"{where}: expected the name of an environment variable (API keys never go in files)"
        )
    return name


def _role(table: dict, where: str) -> RoleConfig:
    _reject_unknown(
        table,
        {"base_url", "model", "timeout", "max_tokens", "temperature", "api_key_env"},
        where,
    )
    return RoleConfig(
        base_url=_expect(table["base_url"], str, f"{where}.base_url")
        if "base_url" in table
        else None,
        model=_expect(table["model"], str, f"{where}.model") if "model" in table else None,
        timeout=_positive(table["timeout"], f"{where}.timeout") if "timeout" in table else None,
        max_tokens=_positive(table["max_tokens"], f"{where}.max_tokens", int)
        if "max_tokens" in table
        else None,
        temperature=float(_expect(table["temperature"], (int, float), f"{where}.temperature"))
        if "temperature" in table
        else None,
        api_key_env=_env_name(table["api_key_env"], f"{where}.api_key_env")
        if "api_key_env" in table
        else None,
    )


def _models(table: dict, where: str) -> ModelsConfig:
    _reject_unknown(
        table, {"base_url", "timeout", "retries", "concurrency", "cache", "roles"}, where
    )
    retries = _expect(table.get("retries", 2), int, f"{where}.retries")
    if not 0 <= retries <= 10:
        raise UserError(f"{where}.retries: expected a whole number from 0 to 10, got {retries!r}")
    roles_table = _expect(table.get("roles", {}), dict, f"{where}.roles")
    roles = {}
    for name, role in roles_table.items():
        if name not in ROLES:
            raise UserError(
                f"{where}.roles: unknown role {name!r} (expected one of: {', '.join(ROLES)})"
            )
        roles[name] = _role(_expect(role, dict, f"{where}.roles.{name}"), f"{where}.roles.{name}")
    return ModelsConfig(
        base_url=_expect(table["base_url"], str, f"{where}.base_url")
        if "base_url" in table
        else None,
        timeout=_positive(table.get("timeout", 30), f"{where}.timeout"),
        retries=retries,
        concurrency=_positive(table.get("concurrency", 4), f"{where}.concurrency", int),
        cache=_expect(table.get("cache", True), bool, f"{where}.cache"),
        roles=roles,
    )


def _ratio(table: dict, key: str, where: str) -> float | None:
    if key not in table:
        return None
    value = float(_expect(table[key], (int, float), f"{where}.{key}"))
    if not 0.0 <= value <= 1.0:
        raise UserError(f"{where}.{key}: expected a number between 0 and 1, got {value!r}")
    return value


def _evals(table: dict, where: str) -> EvalsConfig:
    _reject_unknown(table, {"min_precision", "min_recall", "min_severity", "suites"}, where)
    suites_table = _expect(table.get("suites", {}), dict, f"{where}.suites")
    suites = {}
    for name, suite in suites_table.items():
        here = f"{where}.suites.{name}"
        _reject_unknown(_expect(suite, dict, here), {"min_precision", "min_recall"}, here)
        suites[name] = SuiteThresholds(
            min_precision=_ratio(suite, "min_precision", here),
            min_recall=_ratio(suite, "min_recall", here),
        )
    return EvalsConfig(
        min_precision=_ratio(table, "min_precision", where),
        min_recall=_ratio(table, "min_recall", where),
        min_severity=Severity.parse(
            _expect(table.get("min_severity", "low"), str, f"{where}.min_severity")
        ),
        suites=suites,
    )


def parse_config(data: dict, source: str) -> Config:
    _reject_unknown(data, {"review", "models", "evals"}, source)
    return Config(
        review=_review(
            _expect(data.get("review", {}), dict, f"{source}: [review]"), f"{source}: review"
        ),
        models=_models(
            _expect(data.get("models", {}), dict, f"{source}: [models]"), f"{source}: models"
        ),
        evals=_evals(
            _expect(data.get("evals", {}), dict, f"{source}: [evals]"), f"{source}: evals"
        ),
        source=source,
    )


def _read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: invalid TOML ({exc})") from None


def load_config(repo_root: str | Path | None) -> Config:
    """The repo's configuration, or defaults when it has none."""
    if repo_root is None:
        return Config()
    root = Path(repo_root)
    dedicated = root / ".code-assistant.toml"
    if dedicated.is_file():
        return parse_config(_read_toml(dedicated), str(dedicated.name))
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        table = _read_toml(pyproject).get("tool", {}).get("code-assistant")
        if table is not None:
            return parse_config(
                _expect(table, dict, "pyproject.toml: [tool.code-assistant]"),
                "pyproject.toml: [tool.code-assistant]",
            )
    return Config()
