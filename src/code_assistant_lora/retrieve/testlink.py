"""Which tests exercise which files: a test that imports a file, or one named after it
(`test_invoice.py`, `invoice_test.go`, `invoice.test.ts`, `InvoiceTest.java`).

This is retrieval's own linkage, from the index alone (no coverage data): good enough to name the
tests a patch author should run or extend."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from .roles import CODE, TEST

_TEST_AFFIX = re.compile(r"^(?:test_)?(.+?)(?:_test|_tests|\.test|\.spec|Test|Tests|IT|_spec)?$")


@dataclass(frozen=True)
class LinkedTest:
    test: str
    source: str
    reason: str  # "imports <source>" | "named after <source>"

    def to_dict(self) -> dict:
        return {"test": self.test, "source": self.source, "reason": self.reason}


def _base(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    stem = name.split(".", 1)[0] if not name.endswith((".test.ts", ".spec.ts")) else name
    stem = re.sub(r"\.(?:test|spec)\.[cm]?[jt]sx?$", "", stem)
    match = _TEST_AFFIX.match(stem)
    return (match.group(1) if match else stem).lower()


def link_tests(
    roles: dict[str, str],
    edges: dict[str, list[str]],
    sources: list[str] | None = None,
) -> dict[str, list[LinkedTest]]:
    """source path -> the tests linked to it, best evidence first (imports before names); only
    for `sources` when given (the ranker links its top targets, not the whole repo)."""
    by_base: dict[str, list[str]] = defaultdict(list)
    wanted = set(sources) if sources is not None else None
    for path in sources if sources is not None else roles:
        if roles.get(path) == CODE:
            by_base[_base(path)].append(path)
    links: dict[str, dict[str, LinkedTest]] = defaultdict(dict)
    for test, role in roles.items():
        if role != TEST:
            continue
        for target in edges.get(test, ()):
            if roles.get(target) == CODE and (wanted is None or target in wanted):
                links[target][test] = LinkedTest(test, target, f"imports {target}")
        base = _base(test)
        if base in ("conftest", "__init__", "test", "tests", "index"):
            continue
        for source in by_base.get(base, ()):
            if test not in links[source]:
                links[source][test] = LinkedTest(test, source, f"named after {source}")
    return {
        source: sorted(
            found.values(), key=lambda link: (not link.reason.startswith("imports"), link.test)
        )
        for source, found in links.items()
    }
