"""Ranking on a small real repo: names written as code find their definitions, docs stay context,
tests are linked, the import graph lends weight; plus the tokenizer, query parser, graph and
conventions it relies on."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from code_assistant_lora.retrieve import retrieve
from code_assistant_lora.retrieve.graph import ModuleMap, extract_imports
from code_assistant_lora.retrieve.query import parse_query
from code_assistant_lora.retrieve.roles import role_of
from code_assistant_lora.retrieve.tokenize import tokenize

REPO = {
    "pyproject.toml": "[project]\nname = 'shop'\n\n[tool.ruff]\nline-length = 100\n\n[tool.pytest.ini_options]\naddopts = '-q'\n",
    "src/shop/__init__.py": "",
    "src/shop/errors.py": "class ShopError(Exception):\n    '''Bad input.'''\n",
    "src/shop/orders.py": (
        "from shop.errors import ShopError\n\n\n"
        "def place_order(cart, coupon=None):\n    '''Place an order for the cart.'''\n"
        "    if not cart:\n        raise ShopError('empty cart')\n    return apply_coupon(cart, coupon)\n\n\n"
        "def apply_coupon(cart, coupon):\n    '''Discount the cart total by the coupon.'''\n"
        "    return cart if coupon is None else [item * 0.9 for item in cart]\n"
    ),
    "src/shop/shipping.py": (
        "from shop.orders import place_order\n\n\n"
        "class ShippingQuote:\n    '''Carrier rates for a parcel.'''\n\n"
        "    def rate(self, weight_kg):\n        return 5 + weight_kg * 2\n"
    ),
    "src/shop/refunds.py": "def refund(order):\n    '''Refund an order in full.'''\n    return order\n",
    "tests/test_orders.py": "from shop.orders import place_order\n\n\ndef test_place_order():\n    assert place_order([1])\n",
    "tests/test_shipping.py": "def test_rate():\n    assert True\n",
    "docs/coupons.md": "# Coupons\n\nA coupon discounts the cart. Coupons coupon coupon discount cart apply_coupon.\n",
    "CHANGELOG.md": "# Changes\n\n- coupon discount for the cart total\n- coupon coupon coupon\n",
}


@pytest.fixture
def shop(git_repo):
    repo = git_repo()
    repo.commit("shop", **REPO)
    return repo


def test_a_named_function_ranks_its_file_first_and_docs_stay_context(shop):
    result = retrieve(shop.path, "`apply_coupon` rounds the coupon discount wrongly")
    paths = [f.path for f in result.files]
    assert paths[0] == "src/shop/orders.py"
    assert "docs/coupons.md" not in paths and "CHANGELOG.md" not in paths
    assert "docs/coupons.md" in [d.path for d in result.ranking.docs]
    top = result.files[0]
    assert any(r == "defines `apply_coupon`, named in the task" for r in top.reasons)
    assert any(c.symbol == "apply_coupon" and "def apply_coupon" in c.text for c in top.chunks)
    assert [t.test for t in result.tests][:1] == ["tests/test_orders.py"]
    assert result.tests[0].reason == "imports src/shop/orders.py"


def test_path_and_graph_signals_and_test_names(shop):
    result = retrieve(shop.path, "Shipping rates are wrong for heavy parcels")
    assert result.files[0].path == "src/shop/shipping.py"
    assert any(r.startswith("path matches 'ship'") for r in result.files[0].reasons)
    linked = {t.test: t.reason for t in result.tests}
    assert linked.get("tests/test_shipping.py") == "named after src/shop/shipping.py"
    neighbour = next(f for f in result.files if f.path == "src/shop/orders.py")
    assert "imported by src/shop/shipping.py (a strong hit)" in neighbour.reasons


def test_conventions_are_detected_with_evidence(shop):
    conventions = retrieve(shop.path, "refund an order").conventions
    assert conventions["tests"]["frameworks"] == ["pytest"]
    assert "tests/ at the root" in conventions["tests"]["layout"]
    assert conventions["tests"]["naming"] == ["test_*.py (2)"]
    assert "ShopError: src/shop/errors.py (Exception)" in conventions["errors"]
    assert {"ruff", "pytest"} <= set(conventions["tools"])
    assert conventions["naming"]["python_functions"].startswith("snake_case")


def test_ranking_is_deterministic(shop):
    first = retrieve(shop.path, "discount the cart with a coupon")
    second = retrieve(shop.path, "discount the cart with a coupon")
    assert [f.to_dict() for f in first.files] == [f.to_dict() for f in second.files]


def test_tokenize_splits_identifiers_and_keeps_them_whole():
    assert (
        tokenize("RetryBudget retry_budget retryBudget") == ["retrybudget", "retry", "budget"] * 3
    )
    assert tokenize("caching cached caches") == ["cach"] * 3
    assert tokenize("the and self return") == []


def test_query_parser_finds_names_paths_and_options():
    query = parse_query(
        "Fix `click.Option` when flag_value is set in src/click/core.py; see --dry-run and getItem()"
    )
    assert {"Option", "flag_value", "dry_run", "getItem"} <= set(query.names)
    assert "click.Option" in query.qualified
    assert query.paths == ("src/click/core.py",)


@given(st.text(max_size=300))
def test_query_parser_and_tokenizer_accept_any_text(text):
    query = parse_query(text)
    assert all(isinstance(t, str) and t for t in query.tokens)


def test_imports_resolve_relative_absolute_and_js():
    modules = ModuleMap(
        [
            "src/pkg/__init__.py",
            "src/pkg/a.py",
            "src/pkg/sub/b.py",
            "json.py",
            "web/util.ts",
            "web/app.ts",
        ]
    )
    specs = extract_imports(
        "python",
        "from . import a\nfrom .sub.b import thing\nimport json, os\nfrom pkg.a import x\n",
    )
    assert set(modules.resolve("src/pkg/c.py", "python", specs)) >= {
        "src/pkg/a.py",
        "src/pkg/sub/b.py",
        "json.py",
    }
    assert modules.resolve(
        "web/app.ts",
        "typescript",
        extract_imports("typescript", "import { u } from './util';\nimport React from 'react';\n"),
    ) == ["web/util.ts"]


def test_roles():
    assert role_of("tests/test_x.py", "python") == "test"
    assert role_of("web/a.spec.ts", "typescript") == "test"
    assert role_of("CHANGELOG.md", "markdown") == "doc"
    assert role_of("CHANGES", "text") == "doc"
    assert role_of("src/changes.py", "python") == "code"
    assert role_of("Dockerfile", "dockerfile") == "config"
    assert role_of(".github/workflows/ci.yml", "yaml") == "config"
    assert role_of("docs/conf.py", "python") == "config"
    assert role_of("PKG-INFO", "text") == "doc"
    assert role_of("migrations/001_init.sql", "sql") == "code"
    # changelog fragments are notes about changes, not where changes go
    assert role_of("releasenotes/notes/fix-timeout-1fecab21.yaml", "yaml") == "doc"
    assert role_of("newsfragments/123.bugfix", "text") == "doc"
    assert role_of("releasenotes/source/conf.py", "python") == "config"


def test_a_list_of_changes_is_split_into_entries_and_headings_are_dropped():
    notes = (
        "### Bug Fixes\n"
        "- Coupons now round the discount to whole cents, as the cart total did before.\n"
        "  Several users reported totals off by a cent.\n"
        "**Dependencies**\n"
        "- Carrier rates for parcels over 30 kg.\n"
    )
    query = parse_query(notes)
    assert [p.text.split("\n")[0] for p in query.parts] == [
        "- Coupons now round the discount to whole cents, as the cart total did before.",
        "- Carrier rates for parcels over 30 kg.",
    ]
    assert "bug" not in query.tokens and "dependency" not in query.tokens
    assert query.text == notes  # the task as written is kept
    commit = parse_query("Fix crash in refunds\n\n- refunds of empty orders\n- partial refunds")
    assert "crash" in commit.tokens and len(commit.parts) == 2  # a subject is not a heading
    assert parse_query("Add a retry budget to the webhook worker").parts == ()


def test_each_entry_of_a_multi_change_task_reaches_the_top(shop):
    task = (
        "- Coupons now round the discount on the cart total; applying a coupon to an empty "
        "cart raises a clearer error, and coupon discounts are listed per item in the order.\n"
        "- Carrier rates for heavy parcels.\n"
    )
    paths = [f.path for f in retrieve(shop.path, task).files]
    assert set(paths[:2]) == {"src/shop/orders.py", "src/shop/shipping.py"}
    reasons = {f.path: f.reasons for f in retrieve(shop.path, task).files}
    assert "among the best matches for entry 2 of the task" in reasons["src/shop/shipping.py"]


def test_stubs_version_files_and_examples_rank_below_the_code_they_mirror(git_repo):
    body = "".join(f"    step_{i} = len(items) + {i}\n" for i in range(8))
    code = f"def apply_coupon(cart, coupon):\n    '''Discount the cart by the coupon.'''\n{body}    return cart\n"
    repo = git_repo()
    repo.commit(
        "shop",
        **{
            "src/shop/orders.py": code,
            # lexically the stub and the version file match better than the code...
            "src/shop/orders.pyi": "def apply_coupon(cart: Cart, coupon: Coupon) -> Cart: ...\n"
            "# discount the cart by the coupon\n",
            "src/shop/_version.py": "version = 'coupon apply_coupon discount cart coupon'\n",
            "examples/coupons.py": code.replace("def apply_coupon", "def apply_coupon_example"),
        },
    )
    paths = [f.path for f in retrieve(repo.path, "`apply_coupon` discount cart coupon").files]
    assert paths[0] == "src/shop/orders.py"  # ...but the implementation comes first
    assert paths.index("src/shop/orders.pyi") == 1
    assert paths.index("src/shop/_version.py") > paths.index("examples/coupons.py")


def test_a_task_naming_types_finds_the_classes_named_after_them(git_repo):
    repo = git_repo()
    repo.commit(
        "toml",
        **{
            "toml/items.py": (
                "class Float(float):\n    '''A TOML float.'''\n\n    def as_string(self):\n"
                "        return str(self)\n\n\nclass Integer(int):\n    '''A TOML integer.'''\n"
            ),
            "toml/parser.py": (
                "def parse_value(text: str) -> object:\n    number = int(text)\n"
                "    return float(number) if '.' in text else number\n"
            ),
        },
    )
    # "make", "float" and "int" are stopwords in code bodies; without type words the task
    # would reduce to "hashable", which no file says
    paths = [f.path for f in retrieve(repo.path, "Make float and int hashable.").files]
    assert paths[:1] == ["toml/items.py"]
