"""The tests rule pack: what a change does to the test suite.

Python test files are read through the syntax tree shared with the python pack. JS/TS test files
are read line by line after blanking string contents and stripping comments, and a test block's
extent is found by matching its parentheses. The pack also claims source files, for the one rule
that asks whether a change adding public API touches any test at all.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator

from ...findings import Severity
from ..rule import FileUnderReview, Hit, ReviewContext, Rule, RulePack
from .python import (
    PythonSource,
    Site,
    enclosing_functions,
    guarded,
    is_script_path,
    is_test_path,
    python_source,
)

_JS_SUFFIXES = (".js", ".jsx", ".ts", ".tsx", ".mjs", ".cjs", ".mts", ".cts")
_HOLDS_TESTS = re.compile(r"(?:^test_.*\.py|_test\.py|\.(?:test|spec|cy)\.[cm]?[jt]sx?)$")
_TEST_NAME_PARTS = re.compile(r"^test_|_test$|\.(?:test|spec|cy)$")


def _is_python(path: str) -> bool:
    return path.endswith(".py")


def _is_js(path: str) -> bool:
    return path.endswith(_JS_SUFFIXES)


def _holds_tests(path: str) -> bool:
    """A file whose name says it is a test module (helpers under tests/ are not)."""
    name = path.rsplit("/", 1)[-1]
    return bool(_HOLDS_TESTS.search(name)) or ("/__tests__/" in f"/{path}" and _is_js(path))


def _stem(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return name.split(".", 1)[0] if _is_js(name) else name.rsplit(".", 1)[0]


def _subject(path: str) -> str:
    """The module a test file is named after: `test_orders.py`, `orders.test.ts` -> `orders`."""
    name = path.rsplit("/", 1)[-1]
    base = name.rsplit(".", 1)[0]
    return _TEST_NAME_PARTS.sub("", base)


# --- JS/TS text helpers ----------------------------------------------------------------------------

_JS_STRING = re.compile(r"""'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"|`(?:\\.|[^`\\])*`""")
_JS_BLOCK_COMMENT = re.compile(r"/\*.*?\*/")


def _js_code(line: str) -> str:
    """The line with string contents blanked (the quotes stay) and comments removed."""
    code = _JS_STRING.sub(lambda m: m.group(0)[0] * 2, line)
    code = _JS_BLOCK_COMMENT.sub(" ", code)
    cut = code.find("//")
    return code if cut < 0 else code[:cut]


def _has_comment(line: str) -> bool:
    code = _JS_STRING.sub(lambda m: m.group(0)[0] * 2, line)
    return "//" in code or "/*" in code or code.lstrip().startswith("*")


def _js_added_code(file: FileUnderReview) -> Iterator[tuple[int, str]]:
    for number, text in file.added():
        stripped = text.lstrip()
        if stripped.startswith(("*", "/*", "//")):
            continue
        yield number, _js_code(text)


def _call_extent(text: str, open_paren: int) -> str:
    """The text from `open_paren` to its matching `)`, skipping strings and comments; to the end
    of the file when unbalanced."""
    depth = 0
    i = open_paren
    n = len(text)
    while i < n:
        char = text[i]
        if char in "'\"`":
            i += 1
            while i < n and text[i] != char:
                if text[i] == "\\":
                    i += 1
                elif text[i] == "\n" and char != "`":
                    break
                i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 1
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return text[open_paren : i + 1]
        i += 1
    return text[open_paren:]


def _line_offsets(text: str) -> list[int]:
    offsets = [0]
    for index, char in enumerate(text):
        if char == "\n":
            offsets.append(index + 1)
    return offsets


# --- tests without assertions ------------------------------------------------------------------------

_ASSERTING_PREFIXES = ("assert", "check", "verify", "expect", "validate")
_ASSERTING_NAMES = frozenset({"raises", "warns", "deprecated_call", "fail", "assert_match"})
_SKIP_MARKS = frozenset({"skip", "skipif", "xfail", "skipIf", "skipUnless", "expectedFailure"})


def _asserting_call(name: str | None, helpers: frozenset[str]) -> bool:
    last = (name or "").rsplit(".", 1)[-1]
    word = last.lstrip("_").lower()
    return word.startswith(_ASSERTING_PREFIXES) or word in _ASSERTING_NAMES or last in helpers


def _asserting_functions(source: PythonSource, helpers: frozenset[str]) -> set[int]:
    """Ids of the functions whose body (nested functions included) asserts something."""
    marked: set[int] = set()
    for site in source.sites:
        if isinstance(site.node, ast.Assert):
            marked.update(map(id, site.funcs))
    for site, _call, name in source.calls:
        if _asserting_call(name, helpers):
            marked.update(map(id, site.funcs))
    return marked


def _is_skipped(function: ast.FunctionDef | ast.AsyncFunctionDef, source: PythonSource) -> bool:
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if (source.name_of(target) or "").rsplit(".", 1)[-1] in _SKIP_MARKS:
            return True
    return False


def _python_tests(source: PythonSource) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    """Test functions at module level or in a class at module level (fragments are see-through)."""
    for site in source.sites:
        node = site.node
        if not isinstance(
            node, (ast.FunctionDef, ast.AsyncFunctionDef)
        ) or not node.name.startswith("test"):
            continue
        if not enclosing_functions(site):
            yield node


def _check_python_assertions(file: FileUnderReview) -> Iterator[Hit]:
    source = python_source(file)
    if source is None:
        return
    functions = [
        site.node
        for site in source.sites
        if isinstance(site.node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and not site.node.name.startswith("test")
    ]
    helpers: frozenset[str] = frozenset()
    asserting = _asserting_functions(source, helpers)
    for _ in range(3):  # helpers that call asserting helpers, a few levels deep
        found = frozenset(f.name for f in functions if id(f) in asserting)
        if found == helpers:
            break
        helpers = found
        asserting = _asserting_functions(source, helpers)
    for test in _python_tests(source):
        params = {arg.arg for arg in test.args.args}
        if "benchmark" in params or _is_skipped(test, source):
            continue
        decorators = {
            (source.name_of(d.func if isinstance(d, ast.Call) else d) or "").rsplit(".", 1)[-1]
            for d in test.decorator_list
        }
        if "fixture" in decorators:
            continue
        if id(test) not in asserting and not decorators & helpers:
            yield Hit(
                line=test.lineno,
                rationale=f"`{test.name}` asserts nothing: it passes whatever the code does, so it "
                "cannot catch a regression.",
            )


_JS_TEST_START = re.compile(r"(?<![\w.$])(?:it|test)\s*\(\s*['\"`]")
_JS_ASSERTION = re.compile(
    r"\bexpect\w*\b|\bassert\w*\b|\.should\b|\bshould\.|\bt\.(?:is|not|true|false|truthy|falsy|"
    r"deepEqual|equal|throws|throwsAsync|snapshot|regex|like|pass|fail)\b|\b(?:check|verify)\w*\s*\(|"
    r"toMatchSnapshot"
)
# A Testing Library query as a statement of its own (or a `waitFor` callback) throws when the
# element is missing, so it asserts presence. The same query passed to `user.click(...)` or
# assigned to a variable only finds something to act on, and a Playwright `page.getBy*` is a
# lazy locator: neither asserts anything.
_JS_QUERY_STATEMENT = re.compile(
    r"(?:^|[;{]|=>)\s*(?:await\s+)?(?:screen\s*\.\s*|within\s*\([^()]*\)\s*\.\s*)?"
    r"(?:getBy|getAllBy|findBy|findAllBy)\w*\s*\(",
    re.M,
)


def _mask_block(block: str) -> str:
    """`block` with string contents blanked and comments removed, so a test title like
    "expects a 404" or a commented-out `// expect(...)` is not taken for an assertion."""
    code = _JS_STRING.sub(lambda m: m.group(0)[0] * 2, block)
    code = re.sub(r"/\*.*?\*/", " ", code, flags=re.S)
    return "\n".join(line.split("//", 1)[0] for line in code.split("\n"))


def _asserts_by_query(block: str) -> bool:
    for match in _JS_QUERY_STATEMENT.finditer(block):
        call = _call_extent(block, match.end() - 1)
        rest = block[match.end() - 1 + len(call) :].lstrip(" \t")
        if not rest or rest[0] in ";\n)}":
            return True
    return False


def _check_js_assertions(file: FileUnderReview) -> Iterator[Hit]:
    text = file.text or ""
    offsets = _line_offsets(text)
    for number, code in _js_added_code(file):
        original = _JS_TEST_START.search(file.line(number))
        if not _JS_TEST_START.search(code) or original is None or number > len(offsets):
            continue
        start = offsets[number - 1] + file.line(number).index("(", original.start())
        block = _call_extent(text, start)
        code = _mask_block(block)
        if (
            ("=>" in code or "function" in code)
            and not _JS_ASSERTION.search(code)
            and not _asserts_by_query(code)
        ):
            yield Hit(
                line=number,
                rationale="This test has no `expect`/`assert`: it passes whatever the code does, "
                "so it cannot catch a regression.",
            )


def check_test_without_assertion(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """A new Python `def test_*` whose body has no `assert`, `pytest.raises`/`warns`,
    `self.assert*`, `mock.assert_*`, or call to an `assert_*`/`check_*`/`verify_*`/`expect*`
    helper (or to a function, method or decorator of the same file that asserts, a few calls
    deep); a new JS `it(`/`test(` block with no `expect`/`assert`/`should`. Fixtures and helpers
    are not tests; skipped tests and benchmarks are excused; a Testing Library `getBy*`/`findBy*`
    query standing as its own statement counts as an assertion (it throws), one that only finds
    an element to click or type into does not."""
    if file.text is None or not is_test_path(file.path):
        return ()
    if _is_python(file.path):
        return _check_python_assertions(file)
    return _check_js_assertions(file) if _is_js(file.path) else ()


# --- sleeps in tests ------------------------------------------------------------------------------

_ASYNC_SLEEPS = frozenset({"asyncio.sleep", "anyio.sleep", "trio.sleep"})
_JS_SLEEP = re.compile(
    r"\bwaitForTimeout\s*\(\s*[1-9]|\bcy\s*\.\s*wait\s*\(\s*[1-9]|"
    r"\bnew\s+Promise\b.*\bsetTimeout\s*\([^()]*(?:\([^()]*\)[^()]*)*,\s*(?:[1-9]|[A-Za-z_$])|"
    r"(?<![\w.$])(?:sleep|delay|wait)\s*\(\s*[1-9]|\bawait\s+(?:setTimeout|setTimeoutPromise)\s*\(\s*[1-9]"
)


def _number(node: ast.expr | None) -> float | None:
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, (int, float))
        and not isinstance(node.value, bool)
    ):
        return float(node.value)
    return None


def _python_sleeps(file: FileUnderReview) -> Iterator[Hit]:
    source = python_source(file)
    if source is None:
        return
    for site, call, name in source.calls:
        if site.in_while:
            continue
        seconds = _number(call.args[0] if call.args else None)
        fixed_wait = (
            (name == "time.sleep" and seconds != 0)
            or (name in _ASYNC_SLEEPS and seconds is not None and seconds >= 0.1)
            # Playwright for Python: page.wait_for_timeout(ms)
            or ((name or "").endswith(".wait_for_timeout") and bool(seconds))
        )
        if fixed_wait:
            yield Hit(
                line=call.lineno,
                rationale=f"`{ast.unparse(call)}` in a test waits a fixed time: too short and the "
                "test flakes on a slow runner, too long and the suite crawls.",
            )


def check_sleep_in_test(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """`time.sleep(...)` in Python tests (and `asyncio`/`anyio`/`trio.sleep` of 0.1 s or more),
    Playwright's `page.wait_for_timeout(ms)`, and fixed waits in JS tests (`waitForTimeout(n)`,
    `cy.wait(n)`, `sleep(n)`/`delay(n)`, `await setTimeout(n)` from `timers/promises`, a
    `new Promise(... setTimeout(resolve, n))`). Zero-length waits (a yield, a promise flush) and
    sleeps inside a `while` loop (a poll for a condition) are fine."""
    if file.text is None or not is_test_path(file.path):
        return
    if _is_python(file.path):
        yield from _python_sleeps(file)
    elif _is_js(file.path):
        for number, code in _js_added_code(file):
            if _JS_SLEEP.search(code):
                yield Hit(line=number)


# `it`, `test.describe`, `describe.concurrent`, `test.describe.serial`, ... (Jest, Vitest, Mocha,
# Jasmine, Playwright)
_JS_BLOCK = (
    r"(?<![\w.$])(?:it|test|describe|context|suite|bench)"
    r"(?:\s*\.\s*(?:describe|serial|parallel|concurrent|sequential))*"
)


# --- skips without a reason --------------------------------------------------------------------------


def _text(node: ast.expr | None) -> str | None:
    """A literal string's stripped text; "?" for a non-literal (a reason we cannot read); None."""
    if node is None:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.strip()
    return "?"


def _reason_missing(name: str, node: ast.AST, site: Site) -> bool:
    """Whether a skip/xfail mark or call (by its resolved name) lacks a reason."""
    call = site.parent if isinstance(site.parent, ast.Call) and site.parent.func is node else None
    if call is None:
        return name.startswith("pytest.mark.")
    keywords = {keyword.arg: keyword.value for keyword in call.keywords}
    if None in keywords:
        return False
    reason = keywords.get("reason") or keywords.get("msg")
    if name in ("pytest.mark.skip", "pytest.skip", "pytest.xfail", "unittest.skip", "skipTest"):
        reason = reason or (call.args[0] if call.args else None)
    elif name in ("unittest.skipIf", "unittest.skipUnless"):
        reason = reason or (call.args[1] if len(call.args) > 1 else None)
    return not _text(reason)


_PYTHON_SKIPS = frozenset(
    {
        "pytest.mark.skip",
        "pytest.mark.xfail",
        "pytest.skip",
        "pytest.xfail",
        "unittest.skip",
        "unittest.skipIf",
        "unittest.skipUnless",
    }
)
_SKIP_NAMES = frozenset({"skip", "xfail", "skipIf", "skipUnless", "skipTest"})
_JS_SKIP = re.compile(
    rf"{_JS_BLOCK}\s*\.\s*(?:skip|fixme)(?:\s*\.\s*each\s*[(`]|\s*\(\s*(?:['\"`]|\)))|"
    r"(?<![\w.$])(?:xit|xtest|xdescribe|xcontext)\s*[(.]"
)


def check_skip_without_reason(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """`@pytest.mark.skip`/`xfail` (bare or without `reason=`), `pytest.skip()`/`pytest.xfail()`
    without a message, `unittest.skip*`/`self.skipTest` with an empty reason; JS `it.skip`,
    `describe.skip`, `test.describe.skip`, `test.fixme`, `xit`, a bare Playwright `test.skip()`,
    ... with no comment on the same or the previous line. A reason given
    as a variable counts as a reason; `skipif` with a reason and Playwright's conditional
    `test.skip(cond, "why")` are fine."""
    if file.text is None or not is_test_path(file.path):
        return
    if _is_python(file.path):
        source = python_source(file)
        if source is None:
            return
        for site in source.sites:
            node = site.node
            last = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", None)
            if last in _SKIP_NAMES or (isinstance(node, ast.Name) and last in source.imports):
                is_skip_test = isinstance(node, ast.Attribute) and node.attr == "skipTest"
                name = "skipTest" if is_skip_test else source.name_of(node) or ""
                if (name in _PYTHON_SKIPS or is_skip_test) and _reason_missing(name, node, site):
                    yield Hit(line=node.lineno)
    elif _is_js(file.path):
        for number, code in _js_added_code(file):
            if _JS_SKIP.search(code) and not (
                _has_comment(file.line(number)) or _has_comment(file.line(number - 1))
            ):
                yield Hit(line=number)


# --- deleted test files ----------------------------------------------------------------------------


_MOVED_SHARE = 0.6  # of the deleted file's substantial lines re-added in other test files


def _moved_elsewhere(file: FileUnderReview, context: ReviewContext) -> bool:
    """Whether most of the deleted file's lines reappear among the lines the change adds to
    other test files: a move under a new name, a split, or a merge into another module."""
    lines = [line.strip() for line in file.removed_text]
    substantial = [line for line in lines if len(line) >= 8]
    if not substantial:
        return False
    added: set[str] = set()
    for other in context.files:
        if other is file or other.text is None or not is_test_path(other.path):
            continue
        added.update(text.strip() for _, text in other.added())
    kept = sum(1 for line in substantial if line in added)
    return kept >= _MOVED_SHARE * len(substantial)


def check_test_file_deleted(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """A deleted test module. Not flagged when the change adds a test file with the same name (a
    move), re-adds most of its lines in other test files (a move under a new name, a split or a
    merge), or deletes the module the test is named after (the feature went with its tests)."""
    if not file.is_deleted or not _holds_tests(file.path):
        return
    name = file.path.rsplit("/", 1)[-1]
    subject = _subject(file.path)
    for other in context.files:
        if other.status in ("added", "renamed") and other.path.rsplit("/", 1)[-1] == name:
            return
        if other.is_deleted and not is_test_path(other.path) and _stem(other.path) == subject:
            return
    if _moved_elsewhere(file, context):
        return
    yield Hit(
        line=1,
        anywhere=True,
        rationale=f"The test file `{file.path}` is deleted: the coverage it gave is lost.",
    )


# --- focused tests -------------------------------------------------------------------------------------

_JS_ONLY = re.compile(
    rf"{_JS_BLOCK}\s*\.\s*only(?:\s*\.\s*each)?\s*[(`]|"
    r"(?<![\w.$])(?:fit|fdescribe|fcontext)\s*\(\s*['\"`]"
)


def check_focused_test(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """`.only` (`it.only`, `describe.only`, `test.only`, `test.describe.only`, `it.only.each`,
    `describe.concurrent.only`, ...) or Jasmine's `fit`/`fdescribe` in a JS/TS test: the runner then skips every other test, and CI stays green. Mentions in strings and
    comments, and method calls like `model.fit(`, are not matched."""
    if file.text is None or not _is_js(file.path) or not is_test_path(file.path):
        return
    for number, code in _js_added_code(file):
        if _JS_ONLY.search(code):
            yield Hit(line=number)


# --- public API without a test -------------------------------------------------------------------

_NOT_API_NAMES = frozenset(
    {"__init__.py", "settings.py", "conftest.py", "setup.py", "conf.py", "noxfile.py"}
)
_NOT_API_FOLDERS = frozenset({"migrations", "alembic", "docs", "settings"})
_JS_CONFIG = re.compile(r"\.(?:config|conf|stories|d)\.[cm]?[jt]sx?$")
_JS_EXPORT = re.compile(
    r"^\s*export\s+(?:default\s+)?(?:"
    r"(?:async\s+)?function\s*\*?\s*(?P<function>[A-Za-z$][\w$]*)|"
    r"(?:abstract\s+)?class\s+(?P<class>[A-Za-z$][\w$]*)|"
    r"const\s+(?P<const>[A-Za-z$][\w$]*)\s*(?::[^=]*)?=\s*(?:async\s*)?(?:\(|function\b|[A-Za-z$][\w$]*\s*=>))"
)


def _is_api_source(path: str) -> bool:
    *folders, name = path.split("/")
    if is_test_path(path) or is_script_path(path) or name in _NOT_API_NAMES:
        return False
    if _NOT_API_FOLDERS.intersection(folders) or _JS_CONFIG.search(name):
        return False
    return _is_python(path) or _is_js(path)


def check_public_api_without_test(file: FileUnderReview, context: ReviewContext) -> Iterable[Hit]:
    """A new public top-level `def`/`class` in Python source, or `export function`/`export class`/
    `export const f = (...) =>` in JS/TS, when no test file is added or changed anywhere in the
    change. Private names (`_x`), `__init__.py` re-exports, migrations, scripts, settings and
    config files, stubs and story files are not API to test."""
    if file.text is None or file.is_deleted or not _is_api_source(file.path):
        return
    key = "tests.change-touches-tests"
    if key not in context.memo:
        context.memo[key] = any(
            is_test_path(other.path) and not other.is_deleted for other in context.files
        )
    if context.memo[key]:
        return
    found: list[tuple[int, str]] = []
    if _is_python(file.path):
        source = python_source(file)
        if source is None:
            return
        for node in source.tree.body:
            if (
                isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                and not node.name.startswith("_")
                and file.is_changed(node.lineno)
            ):
                found.append((node.lineno, node.name))
    else:
        for number, code in _js_added_code(file):
            match = _JS_EXPORT.match(code)
            if match:
                name = match.group("function") or match.group("class") or match.group("const")
                if not name.startswith("_"):
                    found.append((number, name))
    if found:
        # One finding per file: the point is "this change has no test", not a list of names.
        names = ", ".join(f"`{name}`" for _, name in found[:5]) + (" ..." if len(found) > 5 else "")
        yield Hit(
            line=found[0][0], rationale=f"New public API ({names}) and no test added or changed."
        )


# --- the pack -------------------------------------------------------------------------------------------

PACK = RulePack(
    name="tests",
    matches=lambda path: _is_python(path) or _is_js(path),
    checks=(
        (
            Rule(
                id="tests.test-without-assertion",
                category="test-without-assertion",
                severity=Severity.MEDIUM,
                rationale="A test without an assertion passes whatever the code does, so it gives "
                "false confidence.",
                suggested_fix="Assert on the result or the side effect the test is about (`assert`, "
                "`pytest.raises`, `expect(...)`).",
            ),
            guarded(check_test_without_assertion),
        ),
        (
            Rule(
                id="tests.sleep-in-test",
                category="sleep-in-test",
                severity=Severity.MEDIUM,
                rationale="A fixed sleep in a test is both slow and flaky: it is too long on fast "
                "machines and too short on a loaded CI runner.",
                suggested_fix="Wait for the condition itself (poll with a deadline, an event, "
                "`await expect(...).toBeVisible()`), or use a fake clock.",
            ),
            guarded(check_sleep_in_test),
        ),
        (
            Rule(
                id="tests.skip-without-reason",
                category="skip-without-reason",
                severity=Severity.LOW,
                rationale="A skip or xfail without a reason is soon forgotten: nobody knows when "
                "the test can be turned back on.",
                suggested_fix='Give the reason (and a link to the issue): `@pytest.mark.skip(reason="...")`, '
                "or a comment next to `it.skip`.",
            ),
            guarded(check_skip_without_reason),
        ),
        (
            Rule(
                id="tests.test-file-deleted",
                category="test-file-deleted",
                severity=Severity.MEDIUM,
                rationale="Deleting a test file silently drops the coverage it gave.",
                suggested_fix="Keep the tests (moving them if the code moved), or explain in the "
                "change why the behaviour no longer needs them.",
            ),
            guarded(check_test_file_deleted),
        ),
        (
            Rule(
                id="tests.focused-test",
                category="focused-test",
                severity=Severity.HIGH,
                rationale="A focused test (`.only`, `fit`) makes the runner skip every other test, "
                "so CI passes while most of the suite never runs.",
                suggested_fix="Remove `.only` (or the `f` prefix) before committing.",
            ),
            guarded(check_focused_test),
        ),
        (
            Rule(
                id="tests.public-api-without-test",
                category="untested-change",
                severity=Severity.INFO,
                rationale="New public API arrives with no test added or changed in the same change.",
                suggested_fix="Add a test that exercises the new function or class.",
            ),
            guarded(check_public_api_without_test),
        ),
    ),
)
