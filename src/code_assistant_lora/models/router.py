"""Which specialists see which part of a change: routing by path, language and risk. Pure: no I/O.

The routing table (the order is the order roles are listed in review.json):

| role        | its slice                                                                       |
|-------------|---------------------------------------------------------------------------------|
| python      | `*.py`, `*.pyi`                                                                 |
| typescript  | `*.ts`, `*.tsx`, `*.js`, `*.jsx`, `*.mjs`, `*.cjs`, `*.mts`, `*.cts`, `*.vue`   |
| sql         | `*.sql`, `*.pgsql`, and every file under a migrations folder (any language)     |
| docker_ci   | Dockerfiles/Containerfiles, compose files, CI configs, `*.sh`, `*.yml`/`*.yaml`  |
| tests       | test files (`test_*.py`, `*_test.py`, `conftest.py`, `*.test.ts`, `tests/`...)  |

Risk widens and ranks. A security-relevant path (auth, login, session, crypto, secrets, tokens,
permissions...) marks its routes risky (the prompt asks to weigh security first) and raises their
priority; so do migrations, CI configs, a large change (>= LARGE_CHANGE added lines) and a
deterministic finding at `high` or above on the slice. When risky or large source changes arrive
with no test file changed, the `tests` specialist is asked too, on those source files, whether
the change needs a test. Higher priority is asked first when the concurrency limit queues roles.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..findings import Finding, Severity
from ..review.rule import FileUnderReview
from ..review.rules.python import is_test_path

SPECIALISTS = ("python", "typescript", "sql", "docker_ci", "tests")
LARGE_CHANGE = 300  # added lines

_SECURITY = re.compile(
    r"(?:^|[/_.-])(?:auth(?:n|z|entication|orization|ori[sz]e\w*|enticat\w*)?|login|logout|"
    r"sign[-_]?in|sessions?|passwords?|passwd|secrets?|"
    r"crypto\w*|crypt|encrypt\w*|decrypt\w*|tokens?|oauth\w*|oidc|jwt|saml|permissions?|acl|"
    r"rbac|policy|policies|security|credentials?|keys?|certs?|signing|sanitiz\w*|csrf)(?=$|[/_.-])"
)
_MIGRATION = re.compile(r"(?:^|/)(?:migrations?|alembic|migrate|db/changelog|flyway)/")
_CI = re.compile(
    r"(?:^|/)(?:\.github/workflows/|\.gitlab-ci\.ya?ml$|Jenkinsfile|\.circleci/|"
    r"azure-pipelines\.ya?ml$|bitbucket-pipelines\.ya?ml$|\.buildkite/|\.drone\.ya?ml$)"
)
_TS = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts", ".vue")


def _name(path: str) -> str:
    return path.rsplit("/", 1)[-1].lower()


def is_security_path(path: str) -> bool:
    return bool(_SECURITY.search(path.lower()))


def is_migration(path: str) -> bool:
    return bool(_MIGRATION.search(path.lower()))


def is_ci_config(path: str) -> bool:
    return bool(_CI.search(path))


def _docker_ci(path: str) -> bool:
    name = _name(path)
    return (
        "dockerfile" in name
        or "containerfile" in name
        or name.endswith((".yml", ".yaml", ".sh", ".bash"))
        or is_ci_config(path)
    )


ROUTING_TABLE: dict[str, Callable[[str], bool]] = {
    "python": lambda path: _name(path).endswith((".py", ".pyi")),
    "typescript": lambda path: _name(path).endswith(_TS),
    "sql": lambda path: _name(path).endswith((".sql", ".pgsql")) or is_migration(path),
    "docker_ci": _docker_ci,
    "tests": is_test_path,
}


@dataclass(frozen=True)
class Route:
    """One specialist to ask: its slice of the change, why, and how urgently."""

    role: str
    files: tuple[FileUnderReview, ...]
    reasons: tuple[str, ...]
    priority: int = 1
    risky: bool = False

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(f.path for f in self.files)


def _reviewable(file: FileUnderReview) -> bool:
    """Only files with added lines can carry a model finding."""
    return file.text is not None and bool(file.added_lines or file.is_new)


def route(files: Sequence[FileUnderReview], rule_findings: Sequence[Finding] = ()) -> list[Route]:
    """The specialists whose slice changed, most urgent first."""
    reviewable = [f for f in files if _reviewable(f)]
    added = sum(len(f.added_lines) for f in reviewable)
    large = added >= LARGE_CHANGE
    severe = {f.file for f in rule_findings if f.severity.at_least(Severity.HIGH)}
    slices: dict[str, list[FileUnderReview]] = {
        role: [f for f in reviewable if claims(f.path)] for role, claims in ROUTING_TABLE.items()
    }
    if not slices["tests"]:
        untested = [
            f
            for f in reviewable
            if (is_security_path(f.path) or large)
            and (ROUTING_TABLE["python"](f.path) or ROUTING_TABLE["typescript"](f.path))
        ]
        slices["tests"] = untested
    routes = []
    for role in SPECIALISTS:
        picked = slices[role]
        if not picked:
            continue
        reasons = [f"{len(picked)} file(s) in its slice changed"]
        priority = 1
        risky_paths = [f.path for f in picked if is_security_path(f.path)]
        if risky_paths:
            reasons.append(f"security-relevant path {risky_paths[0]}")
            priority += 2
        if any(is_migration(f.path) for f in picked):
            reasons.append("migration")
            priority += 1
        if any(is_ci_config(f.path) for f in picked):
            reasons.append("CI config")
            priority += 1
        if large:
            reasons.append(f"large change ({added} added lines)")
            priority += 1
        if severe.intersection(f.path for f in picked):
            reasons.append("rules found high-severity problems here")
            priority += 1
        if role == "tests" and not any(is_test_path(f.path) for f in picked):
            reasons[0] = "risky or large source change with no test change"
        routes.append(
            Route(
                role=role,
                files=tuple(picked),
                reasons=tuple(reasons),
                priority=priority,
                risky=bool(risky_paths),
            )
        )
    order = {role: index for index, role in enumerate(SPECIALISTS)}
    return sorted(routes, key=lambda r: (-r.priority, order[r.role]))
