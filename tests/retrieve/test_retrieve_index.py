"""The index cache: keyed by the work tree's content, reused when nothing changed, updated file by
file when something did, and never trusted blindly."""

from __future__ import annotations

import json

import pytest

from code_assistant_lora.errors import UserError
from code_assistant_lora.retrieve import open_index
from code_assistant_lora.retrieve.index import CACHE_DIR

FILES = {
    "shop/orders.py": "def place_order(cart):\n    return cart\n",
    "shop/refunds.py": "from shop.orders import place_order\n\n\ndef refund_order(order):\n    return order\n",
    "README.md": "# Shop\n\nOrders and refunds.\n",
}


@pytest.fixture
def shop(git_repo):
    repo = git_repo()
    repo.commit("shop", **FILES)
    return repo


def test_second_open_reuses_the_cache_and_reads_nothing(shop):
    first = open_index(shop.path)
    assert (first.status, first.reread) == ("built", 3)
    second = open_index(shop.path)
    assert (second.status, second.reread) == ("reused", 0)
    assert second.key == first.key
    assert [c.symbol for c in second.chunks] == [c.symbol for c in first.chunks]
    assert (shop.path / ".code-assistant" / ".gitignore").read_text().strip().endswith("*")
    assert shop.git("status", "--porcelain") == ""  # the cache never shows up as untracked


def test_a_changed_tree_rereads_only_the_changed_files(shop):
    open_index(shop.path)
    shop.write(
        "shop/refunds.py",
        FILES["shop/refunds.py"] + "\n\ndef partial_refund(order):\n    return 0\n",
    )
    updated = open_index(shop.path)  # an unstaged edit counts
    assert (updated.status, updated.reread) == ("updated", 1)
    assert "partial_refund" in {c.symbol for c in updated.chunks}
    shop.commit("new file", **{"shop/tax.py": "def tax_rate():\n    return 0.2\n"})
    again = open_index(shop.path)
    assert (again.status, again.reread) == ("updated", 1)
    assert again.edges["shop/refunds.py"] == ["shop/orders.py"]
    scores = again.chunk_scores(["partial", "refund"])
    best = again.chunks[int(scores.argmax())]
    assert best.symbol == "partial_refund"


def test_a_corrupt_or_foreign_cache_is_rebuilt_not_trusted(shop):
    first = open_index(shop.path)
    folder = shop.path / CACHE_DIR / first.key[:24]
    (folder / "meta.json").write_text(json.dumps({"schema": "evil", "key": first.key}))
    rebuilt = open_index(shop.path)
    assert rebuilt.status == "built" and rebuilt.reread == 3
    (shop.path / CACHE_DIR / "latest.json").write_text("not json")
    assert open_index(shop.path).status == "built"


def test_a_repo_without_text_files_is_a_user_error(git_repo):
    repo = git_repo()
    repo.commit("binary", **{"logo.png": b"\x89PNG\x00\x00"})
    with pytest.raises(
        UserError, match=r"no text files to index \(all 1 tracked files skipped: binary file\)"
    ):
        open_index(repo.path)


def test_a_warm_open_maps_the_arrays_and_reads_only_what_the_query_needs(shop):
    import numpy as np

    from code_assistant_lora.retrieve import parse_query, rank

    open_index(shop.path)
    warm = open_index(shop.path)
    assert warm.status == "reused"
    assert isinstance(warm.columns["chunk_bm25_data"], np.memmap)
    ranking = rank(warm, parse_query("refund an order"), top=3)
    assert ranking.files[0].path == "shop/refunds.py"
    # file versions, raw imports and token ids are for updates: a query never loads them
    assert dict(warm.extra) == {}
    assert warm.files[1].version  # ...but they are there when asked for
    assert set(dict(warm.extra)) == {"versions", "imports"}


def test_an_update_keeps_unchanged_files_searchable(shop):
    open_index(shop.path)
    shop.commit("tax", **{"shop/tax.py": "def tax_rate():\n    return 0.2\n"})
    updated = open_index(shop.path)
    assert (updated.status, updated.reread) == ("updated", 1)
    for words, symbol in ((["cart"], "place_order"), (["tax", "rate"], "tax_rate")):
        scores = updated.chunk_scores(words)
        assert updated.chunks[int(scores.argmax())].symbol == symbol
    assert updated.definitions("placeorder") and updated.definitions("taxrate")


@pytest.mark.parametrize(
    ("name", "damage"),
    [
        ("chunk_file", lambda np: np.zeros(1, dtype=np.int32)),  # wrong length
        ("def_chunks", lambda np: np.full(4, 10_000, dtype=np.int32)),  # ids out of range
        ("edge_targets", lambda np: np.array([99], dtype=np.int32)),
        ("chunk_bm25_indices", lambda np: np.array([5000], dtype=np.int32)),
    ],
)
def test_damaged_arrays_are_rebuilt_not_trusted(shop, name, damage):
    import numpy as np

    first = open_index(shop.path)
    folder = shop.path / CACHE_DIR / first.key[:24]
    np.save(folder / f"{name}.npy", damage(np), allow_pickle=False)
    again = open_index(shop.path)
    assert (again.status, again.reread) == ("built", 3)


def test_pickled_arrays_are_refused(shop):
    import numpy as np

    first = open_index(shop.path)
    folder = shop.path / CACHE_DIR / first.key[:24]
    np.save(folder / "chunk_kind.npy", np.array([object()], dtype=object), allow_pickle=True)
    assert open_index(shop.path).status == "built"


def test_cached_roles_are_recomputed_when_the_rules_changed(shop):
    first = open_index(shop.path)
    meta_path = shop.path / CACHE_DIR / first.key[:24] / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["roles"] = ["doc"] * len(meta["roles"])
    meta["roles_rules"] = "older-rules"
    meta_path.write_text(json.dumps(meta))
    again = open_index(shop.path)
    assert again.status == "reused"
    assert dict(zip(again.paths, again.roles, strict=True))["shop/orders.py"] == "code"
