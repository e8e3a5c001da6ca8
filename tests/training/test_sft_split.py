"""The grouped split: deterministic, order-independent, and never a file or commit on both sides."""

from __future__ import annotations

import random

import pytest
from code_assistant_lora.training.split import group_names, split_records
from hypothesis import given, settings
from hypothesis import strategies as st


def _provenance(count: int, seed: int = 1):
    rng = random.Random(seed)
    files = [f"pkg/mod{i}.py" for i in range(count // 3)]
    return [
        (rng.sample(files, rng.randint(1, 2)), f"c{rng.randrange(count // 2)}", f"r{i}")
        for i in range(count)
    ]


def test_records_sharing_files_form_one_group():
    names = group_names(
        [(["a.py", "b.py"], None, "1"), (["b.py", "c.py"], None, "2"), (["c.py"], None, "3"),
         (["d.py"], None, "4"), ([], None, "5")],
        "file",
    )  # fmt: skip
    assert names[0] == names[1] == names[2] == "file:a.py"
    assert names[3] == "file:d.py"
    assert names[4] == "record:5"  # nothing to link by: a group of its own


def test_group_by_commit_ignores_paths():
    names = group_names(
        [(["a.py"], "c1", "1"), (["a.py"], "c2", "2"), (["b.py"], "c1", "3")], "commit"
    )
    assert names == ["commit:c1", "commit:c2", "commit:c1"]


@pytest.mark.parametrize("group_by", ["file", "commit"])
def test_no_file_or_commit_lands_on_both_sides(group_by):
    provenance = _provenance(600)
    split = split_records(provenance, 0.2, seed=7, group_by=group_by)
    assert sorted(split.train + split.eval) == list(range(600))
    index = 1 if group_by == "commit" else 0

    def keys(side):
        found = set()
        for i in side:
            value = provenance[i][index]
            found.update(value if isinstance(value, list) else [value])
        return found

    assert split.eval
    assert not keys(split.train) & keys(split.eval)


def test_the_split_ignores_input_order_and_follows_the_seed():
    provenance = [([f"f{i}.py"], None, f"r{i}") for i in range(500)]
    first = split_records(provenance, 0.1, seed=3)
    shuffled = provenance[:]
    random.Random(9).shuffle(shuffled)
    again = split_records(shuffled, 0.1, seed=3)
    evaluated = {provenance[i][2] for i in first.eval}
    assert {shuffled[i][2] for i in again.eval} == evaluated
    assert len(first.eval) == 50  # singleton groups: the fraction is met exactly
    other = split_records(provenance, 0.1, seed=4)
    assert {provenance[i][2] for i in other.eval} != evaluated


def test_a_group_too_large_for_eval_stays_in_train():
    provenance = [(["core.py"], None, f"r{i}") for i in range(50)] + [(["x.py"], None, "x")]
    split = split_records(provenance, 0.1, seed=1)
    assert [provenance[i][2] for i in split.eval] == ["x"]
    assert split_records(provenance, 0.0, seed=1).eval == ()


def test_eval_never_takes_everything():
    provenance = [(["a.py"], None, "1"), (["a.py"], None, "2")]
    split = split_records(provenance, 0.9, seed=1)
    assert split.train  # one group only: it stays in train


paths = st.lists(st.sampled_from([f"p{i}.py" for i in range(12)]), max_size=3)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(paths, st.sampled_from(["c1", "c2", "c3", None])), max_size=40),
    st.floats(min_value=0, max_value=0.9),
    st.integers(0, 5),
    st.sampled_from(["file", "commit"]),
)
def test_property_groups_never_straddle(items, fraction, seed, group_by):
    provenance = [(p, c, str(i)) for i, (p, c) in enumerate(items)]
    split = split_records(provenance, fraction, seed, group_by)
    assert sorted(split.train + split.eval) == list(range(len(items)))
    train_groups = {split.groups[i] for i in split.train}
    assert not train_groups & {split.groups[i] for i in split.eval}
    if group_by == "file":
        train_files = {p for i in split.train for p in provenance[i][0]}
        assert not train_files & {p for i in split.eval for p in provenance[i][0]}
    else:
        train_commits = {provenance[i][1] for i in split.train} - {None}
        assert not train_commits & {provenance[i][1] for i in split.eval}
