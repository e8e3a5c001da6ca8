"""The tests rule pack: each rule on a realistic firing case and on its near-misses."""

from __future__ import annotations

import textwrap

import pytest
from rulekit import file_change, review, review_text, rule_ids

from code_assistant_lora.findings import Severity
from code_assistant_lora.review.rule import FileUnderReview, ReviewContext
from code_assistant_lora.review.rules.tests import PACK


def src(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


FIRING = [
    # (id, path, source, rule, line, severity)
    (
        "python-test-without-assert",
        "tests/test_orders.py",
        """
        def test_create_order(client):
            response = client.post("/orders", json={"sku": "A1", "qty": 2})
            order = response.json()
        """,
        "tests.test-without-assertion",
        1,
        Severity.MEDIUM,
    ),
    (
        "unittest-method-without-assert",
        "app/orders_test.py",
        """
        import unittest

        class OrdersTest(unittest.TestCase):
            def setUp(self):
                self.repo = Repo()

            async def test_cancel(self):
                await self.repo.cancel(1)
        """,
        "tests.test-without-assertion",
        7,
        Severity.MEDIUM,
    ),
    (
        "js-it-without-expect",
        "src/__tests__/cart.test.ts",
        """
        import { Cart } from "../cart";

        describe("Cart", () => {
          it("adds an item", () => {
            const cart = new Cart();
            cart.add({ sku: "A1", qty: 1 });
          });
        });
        """,
        "tests.test-without-assertion",
        4,
        Severity.MEDIUM,
    ),
    (
        "time-sleep-in-test",
        "tests/test_worker.py",
        """
        import time

        def test_job_finishes(worker):
            worker.start()
            time.sleep(2)
            assert worker.done
        """,
        "tests.sleep-in-test",
        5,
        Severity.MEDIUM,
    ),
    (
        "asyncio-sleep-in-async-test",
        "tests/test_events.py",
        """
        import asyncio

        async def test_event_delivered(bus):
            await bus.publish("x")
            await asyncio.sleep(0.5)
            assert bus.delivered
        """,
        "tests.sleep-in-test",
        5,
        Severity.MEDIUM,
    ),
    (
        "playwright-wait-for-timeout",
        "e2e/login.spec.ts",
        """
        test("logs in", async ({ page }) => {
          await page.click("#login");
          await page.waitForTimeout(1000);
          await expect(page).toHaveURL("/home");
        });
        """,
        "tests.sleep-in-test",
        3,
        Severity.MEDIUM,
    ),
    (
        "js-promise-settimeout",
        "src/queue.test.js",
        """
        it("drains", async () => {
          queue.push(1);
          await new Promise((resolve) => setTimeout(resolve, 500));
          expect(queue.size).toBe(0);
        });
        """,
        "tests.sleep-in-test",
        3,
        Severity.MEDIUM,
    ),
    (
        "bare-skip-mark",
        "tests/test_billing.py",
        """
        import pytest

        @pytest.mark.skip
        def test_refund():
            assert refund(1) == 1
        """,
        "tests.skip-without-reason",
        3,
        Severity.LOW,
    ),
    (
        "xfail-without-reason",
        "tests/test_billing.py",
        """
        import pytest

        @pytest.mark.xfail(strict=True)
        def test_refund():
            assert refund(1) == 1
        """,
        "tests.skip-without-reason",
        3,
        Severity.LOW,
    ),
    (
        "pytest-skip-call-without-message",
        "tests/test_billing.py",
        """
        import pytest

        def test_refund(gateway):
            if not gateway.available:
                pytest.skip()
            assert gateway.refund(1)
        """,
        "tests.skip-without-reason",
        5,
        Severity.LOW,
    ),
    (
        "unittest-skip-empty-reason",
        "tests/test_billing.py",
        """
        from unittest import TestCase, skip

        class BillingTest(TestCase):
            @skip("")
            def test_refund(self):
                self.assertTrue(refund(1))
        """,
        "tests.skip-without-reason",
        4,
        Severity.LOW,
    ),
    (
        "js-it-skip-without-comment",
        "src/cart.spec.js",
        """
        describe("cart", () => {
          it.skip("applies coupons", () => {
            expect(apply("X")).toBe(1);
          });
        });
        """,
        "tests.skip-without-reason",
        2,
        Severity.LOW,
    ),
    (
        "js-xit",
        "test/cart.js",
        """
        describe("cart", () => {
          xit("applies coupons", () => {
            expect(apply("X")).toBe(1);
          });
        });
        """,
        "tests.skip-without-reason",
        2,
        Severity.LOW,
    ),
    (
        "it-only",
        "src/__tests__/cart.test.tsx",
        """
        describe("Cart", () => {
          it.only("renders totals", () => {
            expect(render(<Cart />)).toBeTruthy();
          });
        });
        """,
        "tests.focused-test",
        2,
        Severity.HIGH,
    ),
    (
        "describe-only",
        "src/cart.test.js",
        """
        describe.only("Cart", () => {
          it("renders", () => expect(1).toBe(1));
        });
        """,
        "tests.focused-test",
        1,
        Severity.HIGH,
    ),
    (
        "jasmine-fit",
        "spec/cart.spec.ts",
        """
        describe("Cart", () => {
          fit('renders', () => expect(1).toBe(1));
        });
        """,
        "tests.focused-test",
        2,
        Severity.HIGH,
    ),
    (
        "new-public-python-function",
        "src/shop/pricing.py",
        """
        def _round(value):
            return round(value, 2)

        def apply_discount(price, percent):
            return _round(price * (100 - percent) / 100)
        """,
        "tests.public-api-without-test",
        4,
        Severity.INFO,
    ),
    (
        "new-exported-arrow-function",
        "src/utils/format.ts",
        """
        const SEP = ",";

        export const formatPrice = (cents: number): string => `${cents / 100}`;
        """,
        "tests.public-api-without-test",
        3,
        Severity.INFO,
    ),
]


@pytest.mark.parametrize(
    ("path", "source", "rule", "line", "severity"),
    [case[1:] for case in FIRING],
    ids=[case[0] for case in FIRING],
)
def test_rule_fires(path: str, source: str, rule: str, line: int, severity: Severity) -> None:
    findings = [f for f in review_text(path, src(source), only="tests") if f.rule == rule]
    assert [(f.line, f.severity) for f in findings] == [(line, severity)]


NEAR_MISSES = [
    # (id, path, source, rule that must stay quiet)
    (
        "python-tests-with-assertions",
        "tests/test_orders.py",
        """
        import pytest
        from unittest import mock

        from tests.helpers import assert_valid_order

        @pytest.fixture
        def client(app):
            return app.test_client()

        @pytest.fixture
        def test_user(db):
            return db.create_user()

        def make_order(client):
            return client.post("/orders")

        def expect_created(response):
            assert response.status_code == 201

        def test_plain_assert(client):
            assert make_order(client).status_code == 201

        def test_raises(client):
            with pytest.raises(ValueError):
                client.post("/orders", json=None)

        def test_helper_from_module(client):
            assert_valid_order(make_order(client))

        def test_local_helper(client):
            expect_created(make_order(client))

        def test_mock(client):
            sender = mock.Mock()
            client.notify(sender)
            sender.send.assert_called_once_with("created")

        def test_check_helper(client):
            check_response(make_order(client))

        @pytest.mark.skip(reason="gateway down")
        def test_placeholder():
            pass

        def test_speed(benchmark):
            benchmark(sum, range(100))

        class TestOrders:
            def test_unittest_style(self):
                self.assertEqual(1, 1)
        """,
        "tests.test-without-assertion",
    ),
    (
        "js-tests-with-assertions",
        "src/__tests__/cart.test.ts",
        """
        describe("Cart", () => {
          beforeEach(() => {
            cart = new Cart();
          });

          it("adds", () => {
            cart.add(item);
            expect(cart.size).toBe(1);
          });

          test("api", async () => {
            await request(app).get("/cart").expect(200);
          });

          it("renders", () => {
            render(<Cart />);
            screen.getByText("Total");
          });

          it.todo("removes items");

          test("page", async ({ page }) => {
            await expect(page).toHaveTitle(/Cart/);
          });
        });
        """,
        "tests.test-without-assertion",
    ),
    (
        "python-sleeps-that-are-fine",
        "tests/test_worker.py",
        """
        import asyncio
        import time

        def wait_until(predicate, timeout=5.0):
            deadline = time.monotonic() + timeout
            while not predicate():
                time.sleep(0.05)

        def test_yield():
            time.sleep(0)
            assert True

        async def test_async_yield():
            await asyncio.sleep(0)
            await asyncio.sleep(0.01)
            assert True
        """,
        "tests.sleep-in-test",
    ),
    (
        "sleep-in-library-code",
        "src/shop/retry.py",
        """
        import time

        def retry(fn):
            time.sleep(1)
            return fn()
        """,
        "tests.sleep-in-test",
    ),
    (
        "skips-with-reasons",
        "tests/test_billing.py",
        """
        import sys
        import unittest

        import pytest

        REASON = "needs a gateway"
        pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="posix only")

        @pytest.mark.skip(reason="gateway down, see #123")
        def test_a():
            assert True

        @pytest.mark.skip("flaky on CI")
        def test_b():
            assert True

        @pytest.mark.xfail(reason="rounding bug #77", strict=True)
        def test_c():
            assert True

        @pytest.mark.xfail(reason=REASON)
        def test_d():
            pytest.skip("no network")
            pytest.skip(reason="no network")
            pytest.xfail("known bug")

        class T(unittest.TestCase):
            @unittest.skip("not on windows")
            def test_e(self):
                self.skipTest("slow")

            @unittest.skipIf(sys.platform == "win32", "posix only")
            def test_f(self):
                self.assertTrue(True)
        """,
        "tests.skip-without-reason",
    ),
    (
        "js-skips-with-comments",
        "src/cart.test.ts",
        """
        describe("cart", () => {
          // flaky on CI until #42 is fixed
          it.skip("applies coupons", () => {
            expect(apply("X")).toBe(1);
          });
          xit("totals", () => expect(1).toBe(1)); // waiting on pricing API

          test("webkit only", async ({ browserName }) => {
            test.skip(browserName === "webkit", "no webkit on CI");
            expect(1).toBe(1);
          });
        });
        """,
        "tests.skip-without-reason",
    ),
    (
        "only-in-strings-comments-and-methods",
        "src/model.test.js",
        """
        // remember to remove it.only( before committing
        it("fits", () => {
          const title = "describe.only(";
          model.fit(data);
          expect(model.trained).toBe(true);
        });
        """,
        "tests.focused-test",
    ),
    (
        "only-outside-test-files",
        "src/query.js",
        """
        export function build() {
          return db.select().only("id");
        }
        """,
        "tests.focused-test",
    ),
    (
        "private-and-non-api-python",
        "src/shop/_internal.py",
        """
        def _helper():
            return 1

        class _Cache:
            pass
        """,
        "tests.public-api-without-test",
    ),
    (
        "package-init-reexports",
        "src/shop/__init__.py",
        """
        from .pricing import apply_discount

        def version():
            return "1.0"
        """,
        "tests.public-api-without-test",
    ),
    (
        "migration",
        "app/migrations/0002_add_price.py",
        """
        class Migration(migrations.Migration):
            operations = []
        """,
        "tests.public-api-without-test",
    ),
    (
        "settings-and-scripts",
        "scripts/seed.py",
        """
        def seed():
            pass
        """,
        "tests.public-api-without-test",
    ),
    (
        "js-non-function-exports-and-configs",
        "src/constants.ts",
        """
        export const API_URL = "https://api.example.com";
        export type Price = number;
        export { formatPrice } from "./format";
        """,
        "tests.public-api-without-test",
    ),
    (
        "js-config-file",
        "vite.config.ts",
        """
        export default function config() {
          return {};
        }
        """,
        "tests.public-api-without-test",
    ),
]


@pytest.mark.parametrize(
    ("path", "source", "rule"),
    [case[1:] for case in NEAR_MISSES],
    ids=[case[0] for case in NEAR_MISSES],
)
def test_near_miss_stays_quiet(path: str, source: str, rule: str) -> None:
    findings = review_text(path, src(source), only="tests")
    assert [f for f in findings if f.rule == rule] == []


OLD_TEST = "def test_total():\n    assert total([1, 2]) == 3\n"


def test_deleted_test_file_is_reported_anywhere() -> None:
    findings = review(file_change("tests/test_orders.py", None, OLD_TEST), only="tests")
    assert [(f.rule, f.line, f.severity) for f in findings] == [
        ("tests.test-file-deleted", 1, Severity.MEDIUM)
    ]


def test_deleted_js_test_file_is_reported() -> None:
    old = 'it("x", () => expect(1).toBe(1));\n'
    findings = review(file_change("src/cart.test.ts", None, old), only="tests")
    assert rule_ids(findings) == ["tests.test-file-deleted"]


@pytest.mark.parametrize(
    "others",
    [
        [file_change("tests/unit/test_orders.py", OLD_TEST)],  # moved
        [
            file_change("src/shop/orders.py", None, "def total(xs):\n    return sum(xs)\n")
        ],  # feature removed
    ],
    ids=["moved", "module-deleted-too"],
)
def test_deleted_test_file_near_misses(others: list[FileUnderReview]) -> None:
    findings = review(file_change("tests/test_orders.py", None, OLD_TEST), *others, only="tests")
    assert "tests.test-file-deleted" not in rule_ids(findings)


def test_deleting_a_test_helper_is_not_a_deleted_test() -> None:
    findings = review(
        file_change("tests/helpers.py", None, "def make():\n    return 1\n"), only="tests"
    )
    assert findings == []


def test_public_api_is_fine_when_a_test_changes() -> None:
    source = file_change("src/shop/pricing.py", "def apply_discount(price):\n    return price\n")
    test = file_change(
        "tests/test_pricing.py",
        "def test_discount():\n    assert apply_discount(1) == 1\n",
        "",
    )
    assert review(source, test, only="tests") == []


def test_public_api_only_for_added_defs() -> None:
    old = "def existing():\n    return 1\n"
    new = old + "\n\ndef added():\n    return 2\n"
    findings = review_text("src/shop/util.py", new, old, only="tests")
    assert [(f.rule, f.line) for f in findings] == [("tests.public-api-without-test", 5)]


def test_only_added_lines_are_reported() -> None:
    old = src(
        """
        import time

        def test_old():
            time.sleep(1)
            assert True
        """
    )
    new = old + "\n\ndef test_new():\n    time.sleep(2)\n    assert True\n"
    findings = review_text("tests/test_slow.py", new, old, only="tests")
    assert [(f.rule, f.line) for f in findings] == [("tests.sleep-in-test", 9)]


def test_inline_ignore_suppresses() -> None:
    new = src(
        """
        import time

        def test_timer():  # code-assistant: ignore[tests.test-without-assertion]
            # code-assistant: ignore[tests.sleep-in-test]
            time.sleep(1)
        """
    )
    assert review_text("tests/test_timer.py", new, only="tests") == []


def test_pack_rules_are_well_formed() -> None:
    assert all(
        PACK.matches(p) for p in ("tests/test_x.py", "src/a.test.tsx", "src/app.py", "src/a.mjs")
    )
    assert not PACK.matches("README.md")
    ids = [rule.id for rule in PACK.rules]
    assert len(ids) == len(set(ids)) == 6 and all(i.startswith("tests.") for i in ids)


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("tests/test_odd.py", None),
        ("tests/test_odd.py", ""),
        ("tests/test_odd.py", "def test_broken(:\n    pass\n"),
        ("src/odd.test.js", "it('unterminated', () => {\n  expect(`x"),
        ("src/odd.test.js", "\x00\x01it.only(\x00"),
        ("src/odd.ts", "export function"),
    ],
    ids=["none", "empty", "syntax-error", "unbalanced-js", "binary", "partial-export"],
)
def test_checks_never_raise_on_odd_input(path: str, text: str | None) -> None:
    status = "deleted" if text is None else "added"
    file = FileUnderReview(path=path, status=status, text=text, added_lines=frozenset({1, 2}))
    context = ReviewContext(files=(file,))
    for _rule, check in PACK.checks:
        list(check(file, context))


# --- behaviours added with the testing eval suite ---------------------------------------------


def _lines(path: str, source: str, rule: str) -> list[int]:
    return [f.line for f in review_text(path, src(source), only="tests") if f.rule == rule]


def test_queries_that_only_find_something_to_act_on_are_not_assertions() -> None:
    source = """
        it("expects a redirect", async () => {
          await user.click(screen.getByRole("button", { name: /save/i }));
        });

        it("types", async () => {
          const input = screen.getByLabelText(/email/i);
          await user.type(input, "a@b.c"); // TODO: expect the value
        });

        it("renders the heading", () => {
          render(<Page />);
          screen.getByRole("heading", { name: "Hi" });
        });

        it("waits for the toast", async () => {
          render(<Page />);
          await waitFor(() => screen.getByText("Saved"));
          await screen.findByRole("status");
        });
        """
    assert _lines("src/__tests__/page.test.tsx", source, "tests.test-without-assertion") == [1, 5]


def test_playwright_locators_are_not_assertions() -> None:
    source = """
        import { expect, test } from "@playwright/test";

        test("checks out", async ({ page }) => {
          await page.getByRole("button", { name: "Pay" }).click();
          await page.waitForURL("**/done");
        });

        test("shows the receipt", async ({ page }) => {
          await expect(page.getByRole("heading", { name: "Thanks" })).toBeVisible();
        });
        """
    assert _lines("e2e/checkout.spec.ts", source, "tests.test-without-assertion") == [3]


def test_focused_variants() -> None:
    source = """
        test.describe.only("a", () => {});
        it.only.each([1, 2])("n %i", (n) => expect(n).toBeTruthy());
        describe.concurrent.only("c", () => {});
        test.describe.serial.only("s", () => {});
        fdescribe("f", () => {});
        describe("Query.only()", () => {
          it("calls only()", () => expect(q.only("id").sql).toBe("x"));
        });
        """
    assert _lines("src/a.test.ts", source, "tests.focused-test") == [1, 2, 3, 4, 5]


def test_skip_variants() -> None:
    source = """
        test.describe.skip("a", () => {});
        test.fixme("broken", async ({ page }) => {});
        test("y", async ({ page }) => {
          test.skip();
        });
        it.skip.each([1])("n", () => {});
        xdescribe("old", () => {});
        test("z", async ({ browserName }) => {
          test.skip(browserName === "webkit", "no clipboard in WebKit");
          expect(1).toBe(1);
        });
        """
    assert _lines("tests/e2e/a.spec.ts", source, "tests.skip-without-reason") == [1, 2, 4, 6, 7]


def test_js_sleep_variants() -> None:
    source = """
        it("a", async () => { await sleep(100); expect(1).toBe(1); });
        it("b", async () => { await delay(250); expect(1).toBe(1); });
        it("c", async () => { await setTimeout(50); expect(1).toBe(1); });
        it("d", async () => { await new Promise((r) => setTimeout(r, 10)); expect(1).toBe(1); });
        it("e", async () => { await new Promise((r) => setTimeout(r, 0)); expect(1).toBe(1); });
        it("f", async () => { await new Promise((r) => setTimeout(r)); expect(1).toBe(1); });
        it("g", async () => { vi.advanceTimersByTime(1000); expect(1).toBe(1); });
        it("h", async () => { await page.waitForTimeout(0); expect(1).toBe(1); });
        """
    assert _lines("src/a.test.ts", source, "tests.sleep-in-test") == [1, 2, 3, 4]


def test_python_playwright_wait_for_timeout() -> None:
    source = """
        def test_banner(page):
            page.goto("/")
            page.wait_for_timeout(500)
            assert page.title() == "Home"
        """
    assert _lines("tests/e2e/test_home.py", source, "tests.sleep-in-test") == [3]


THREE_TESTS = (
    "def test_a():\n    assert total([1, 2]) == 3\n\n\n"
    "def test_b():\n    assert total([]) == 0\n\n\n"
    "def test_c():\n    assert total([5]) == 5\n"
)


def test_deleted_test_file_moved_under_a_new_name_or_split() -> None:
    deleted = file_change("tests/test_orders.py", None, THREE_TESTS)
    renamed = file_change("tests/unit/test_order_totals.py", "import pytest\n\n\n" + THREE_TESTS)
    split = [
        file_change("tests/unit/test_totals.py", THREE_TESTS.split("\n\n\n", 2)[0] + "\n"),
        file_change("tests/unit/test_more.py", THREE_TESTS.split("\n\n\n", 1)[1]),
    ]
    assert "tests.test-file-deleted" not in rule_ids(review(deleted, renamed, only="tests"))
    assert "tests.test-file-deleted" not in rule_ids(review(deleted, *split, only="tests"))
    # only a third of it survives: coverage is lost
    assert "tests.test-file-deleted" in rule_ids(review(deleted, split[0], only="tests"))
