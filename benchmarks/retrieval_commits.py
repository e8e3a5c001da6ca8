"""File localization from real commit messages: single-commit releases of pbr projects.

    python benchmarks/retrieval_commits.py [--download] [--work build/commit-pairs]
        [--sdists build/commit-sdists] [--log logs/retrieval_commits.json] [--per-project 4]

`--download` fetches (pip download --no-deps --no-binary :all:) the newest sdist of each project
in PROJECTS, then B and A for the newest `--per-project` candidate releases of each (about 20 min
for the default 4; cached, so later runs need no network). The candidates are chosen from the
ChangeLog alone (newest first), never from the code.

Issue #4 asks: take commits whose message describes the change; query = the message, gold = the
changed non-test source files, corpus = the parent commit. Git history is unreachable here
(package registries only), but projects built with pbr (OpenStack style) ship a `ChangeLog` in
every sdist, written by pbr from `git log`: one section per version tag, one `* <subject>` bullet
per commit (merge commits left out). When release B holds exactly ONE commit since the previous
release A, the diff A -> B is that commit's diff, and A's sdist is its parent's tree as packaged.
So, per pair:
- query = the commit subject (pbr's `\\_`, `\\*`, `` \\` `` escapes undone);
- gold = `gold_files(A, B)` from benchmarks/retrieval.py (non-test `.py` files that exist in A and
  differ in B, version-only edits, `setup.py` and docs/examples left out), less the `conf.py` of
  OpenStack's other Sphinx trees (`releasenotes/`, `api-ref/`, ...: see SPHINX_TREES);
- corpus = A's whole sdist, committed into a tmp git repo (as benchmarks/retrieval.py does).

Which commits B adds. The sections of one ChangeLog are cut by `git log` date order, which can
misfile a commit whose author date predates the previous tag (OpenStack merges with merge
commits). So the commits of A -> B are taken as the multiset difference of the bullets of B's
own ChangeLog minus those of A's own ChangeLog (each sdist lists every commit reachable from its
tag): exact whatever the order. A must be an ancestor of B (A's bullets a sub-multiset of B's),
else the pair is skipped (a stable-branch release, say). A is the section just below B in B's
ChangeLog (the previous tag on B's history); pre-releases (`b1`, `rc1`) are not used.

Housekeeping commits (dropped before counting; decided from the SUBJECT alone, never from the gold
files, so the filter cannot favour easy targets): a release whose remaining commits number exactly
one is kept. Dropped subjects (case-insensitive, see HOUSEKEEPING):
- "Merge ..."; "Updated from global requirements"; requirements / constraints / lower-constraints
  / upper-constraints updates; "Update TOX_CONSTRAINTS_FILE"; tox.ini / tox / zuul / jobs / CI /
  gate / pre-commit / bandit-job / pep8-job subjects; "tox:", "zuul:", "ci:", "pre-commit:",
  "reno:", "doc:", "docs:", "releasenote:" prefixes;
- "Update .gitreview", "Update master for stable/..." (and unmaintained/...), "OpenDev Migration
  Patch", git.openstack.org / opendev URL rewrites, "Change openstack-dev to openstack-discuss",
  "Replace repository link", pypi URL updates, `.gitignore` edits;
- "Imported Translations from Zanata/Transifex";
- "Add Python 3.x classifier(s)", "Add Python 3 <release> unit tests", "Use py3 as the default
  runtime for tox", python-version classifier/"support" declarations in setup.cfg, "setup.cfg:"
  subjects;
- documentation-only subjects: docs / documentation / README / release note(s) / releasenote /
  reno / api-ref / install guide / contributor guide / openstackdocstheme; pep8-job and
  Sphinx-pin subjects (a subject that names a docstring, a "sphinx extension" or "pep8 issues"
  is NOT dropped: those live in `.py` files).
Code-touching cleanups ("Remove six", "Update hacking", "Drop Python 2.7 support", "Apply ruff")
are NOT housekeeping: a release holding one of them and another commit has two commits and is
skipped. A housekeeping commit that still edits a `.py` file adds its files to the gold (noise).

Kept: 1-5 gold files and a subject of >= 3 words. Every project here is held out: the ranker was
never tuned on any of them. Systems and metrics are benchmarks/retrieval.py's (`bm25-files`,
`bm25-code`, `ours` = `code_assistant_lora.retrieve`), imported, not copied.

Caveats: the corpus is the sdist, not the git tree (pbr sdists hold every tracked file plus
generated `ChangeLog`, `AUTHORS`, `PKG-INFO`, `*.egg-info`; the `ChangeLog` holds the subjects of
older commits); a commit subject is one line, shorter than a full message body (pbr keeps only
the subject); duplicated subjects collapse in the multiset difference.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import sys
import tarfile
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "benchmarks"))
sys.path.insert(0, str(PROJECT / "src"))

import retrieval as base  # noqa: E402  (benchmarks/retrieval.py)

# pbr projects with many small releases whose sdists ship a pbr `ChangeLog` (checked: fixtures,
# stestr, testtools and doc8 are pbr-built or related but ship none, so they are not listed).
PROJECTS = (
    "automaton bandit castellan cliff debtcollector futurist hacking keystoneauth1 "
    "keystonemiddleware metalsmith mox3 openstacksdk os-testr os-win os-brick os-client-config "
    "os-ken os-service-types osc-lib oslo.cache oslo.concurrency oslo.config oslo.context oslo.db "
    "oslo.i18n oslo.limit oslo.log oslo.messaging oslo.middleware oslo.policy oslo.privsep "
    "oslo.reports oslo.rootwrap oslo.serialization oslo.service oslo.upgradecheck oslo.utils "
    "oslo.versionedobjects oslotest pbr pycadf python-barbicanclient python-cinderclient "
    "python-designateclient python-glanceclient python-heatclient python-ironicclient "
    "python-keystoneclient python-neutronclient python-novaclient python-openstackclient "
    "python-swiftclient python-troveclient reno sqlalchemy-migrate stevedore sushy taskflow tooz"
).split()

# candidate releases per project, newest first: a bound on downloads (two sdists a candidate)
PER_PROJECT = 12
HOUSEKEEPING = [
    re.compile(p, re.I)
    for p in (
        r"^merge\b",
        r"updated? from (?:global|openstack/)?\s*requirements",
        r"\b(?:global|upper|lower)[- _]?(?:requirements|constraints)\b",
        r"\b(?:tox|upper)_constraints(?:_file)?\b",
        r"^(?:update|bump|sync|fix|raise|cap|drop|remove|add)\b.*\brequirements?\b"
        r"(?!.*\b(?:check|checking|parse|parser|marker)s?\b)",
        r"\btox(?:\.ini)?\b",
        r"\bzuul\b|\bci\b|\bgate\b|\bjobs?\b|\bpre-commit\b|\btemplates? for\b",
        r"\bpep8 (?:job|target|test requirements)\b|\bto speed up pep8\b",
        r"^(?:blacklist|denylist|exclude)\b.*\bsphinx\b",
        r"^(?:tox|zuul|ci|pre-commit|reno|docs?|releasenotes?|release notes?)\s*:",
        r"\.gitreview\b|\.gitignore\b|\.mailmap\b|\.stestr\.conf\b|\.coveragerc\b",
        r"^update master for (?:stable|unmaintained)/",
        r"opendev|git\.openstack\.org|openstack-dev\b.*openstack-discuss|"
        r"replace repository link|pypi url|\burls?\b.*\bhttps\b",
        r"imported translations",
        r"\bclassifiers?\b",
        r"python ?3(?:\.\d+)? .*\bunit tests?\b|\bpy3 as the default\b",
        r"^setup\.cfg\s*:",
        r"^(?:add|declare|update)\b.*\bpython ?3(?:\.\d+)?\b.*\bsupport\b.*\bsetup\.cfg\b",
        r"\b(?:docs?|documentation|readme|release ?notes?|releasenotes?|reno|api-ref|"
        r"install(?:ation)? guide|contributor guide|openstackdocstheme)\b",
    )
]
# Sphinx trees that retrieval.py's `gold_files` does not know (it drops docs/ and doc/): their
# `conf.py` is documentation configuration, not source
SPHINX_TREES = ("releasenotes/", "api-ref/", "install-guide/", "deploy-guide/")
_DOCSTRING = re.compile(r"docstring", re.I)


def is_housekeeping(subject: str) -> bool:
    """True for a commit subject that (by its wording) changes no code; see the module doc."""
    if _DOCSTRING.search(subject) and not subject.lower().startswith(("doc:", "docs:")):
        return False
    return any(p.search(subject) for p in HOUSEKEEPING)


# --- ChangeLog -----------------------------------------------------------------------------------

_FINAL = re.compile(r"^\d+(?:\.\d+)+$")


def _unescape(subject: str) -> str:
    return re.sub(r"\\([_*`])", r"\1", subject).strip()


def parse_changelog(text: str) -> list[tuple[str, list[str]]]:
    """pbr's ChangeLog as [(version, [commit subject, ...]), ...], newest first. Bullets above the
    first version heading (commits after the last tag) get the version ""."""
    lines = text.split("\n")
    sections: list[tuple[str, list[str]]] = [("", [])]
    for i, line in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if line.strip() and nxt.strip() and set(nxt.strip()) == {"-"} and " " not in line.strip():
            sections.append((line.strip(), []))
        elif line.startswith("* "):
            sections[-1][1].append(_unescape(line[2:]))
    return [s for s in sections if s[0] or s[1]]


def _changelog_of(archive: Path) -> str | None:
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            parts = member.name.split("/")
            if len(parts) == 2 and parts[1] == "ChangeLog" and member.isfile():
                return tar.extractfile(member).read().decode("utf-8", "replace")
    return None


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def find_sdist(folder: Path, project: str, version: str | None = None) -> Path | None:
    """NAME-VERSION.tar.gz in `folder` (any spelling of NAME); the newest if no version."""
    found = []
    for archive in folder.glob("*.tar.gz"):
        match = re.match(r"(.+)-(\d+(?:\.\d+)+)\.tar\.gz$", archive.name)
        if match and _norm(match.group(1)) == _norm(project):
            if version is None or match.group(2) == version:
                found.append((base._version_key(match.group(2)), archive))
    return max(found)[1] if found else None


def pip_download(project: str, version: str | None, into: Path) -> Path | None:
    existing = find_sdist(into, project, version)
    if existing is not None:
        return existing
    base.pip_download_sdist(f"{project}=={version}" if version else project, into)
    return find_sdist(into, project, version)


def candidates(changelog: str) -> list[tuple[str, str, list[str]]]:
    """(A, B, B's section) for each final release B whose section in this ChangeLog holds exactly
    one non-housekeeping commit, A = the next (older) final release below it. A cheap pre-filter:
    the exact check uses B's and A's own ChangeLogs (see `commits_between`)."""
    sections = [s for s in parse_changelog(changelog) if s[0]]
    out = []
    for n, (version, subjects) in enumerate(sections):
        if not _FINAL.match(version):
            continue
        older = next((v for v, _ in sections[n + 1 :] if _FINAL.match(v)), None)
        real = [s for s in subjects if not is_housekeeping(s)]
        if older and len(real) == 1:
            out.append((older, version, subjects))
    return out


def _bullets(changelog: str) -> Counter:
    return Counter(s for _, subjects in parse_changelog(changelog) for s in subjects)


def commits_between(old_changelog: str, new_changelog: str) -> list[str] | None:
    """Subjects of the commits reachable from B and not from A (multiset difference of the two
    ChangeLogs' bullets); None when A is not an ancestor of B."""
    old, new = _bullets(old_changelog), _bullets(new_changelog)
    if old - new:
        return None
    return sorted((new - old).elements())


# --- data ----------------------------------------------------------------------------------------


def download(sdists: Path, projects: list[str], per_project: int) -> dict:
    """The newest sdist of each project, then B and A for every candidate pair it lists."""
    report: dict = {}
    for project in projects:
        latest = pip_download(project, None, sdists / "_latest")
        text = _changelog_of(latest) if latest else None
        if text is None:
            report[project] = "no sdist with a ChangeLog"
            continue
        wanted = candidates(text)[:per_project]
        got = 0
        for older, version, _ in wanted:
            folder = sdists / _norm(project)
            if pip_download(project, version, folder) and pip_download(project, older, folder):
                got += 1
        report[project] = f"{len(wanted)} candidate releases, {got} with both sdists"
        print(f"{project}: {report[project]}", flush=True)
    return report


def prepare(
    sdists: Path, work: Path, projects: list[str], per_project: int
) -> tuple[list[dict], Counter]:
    """Every usable pair as {project, from, to, root, query, gold, commits}; the extracted corpora
    (A committed into a git repo) are kept under `work` and reused by later runs."""
    pairs: list[dict] = []
    skipped: Counter = Counter()
    for project in projects:
        latest = find_sdist(sdists / "_latest", project)
        text = _changelog_of(latest) if latest else None
        if text is None:
            skipped["project: no sdist with a ChangeLog"] += 1
            continue
        for older, version, _ in candidates(text)[:per_project]:
            folder = work / f"{_norm(project)}-{older}-{version}"
            record = folder / "pair.json"
            if record.exists():
                pair = json.loads(record.read_text())
            else:
                pair = _make_pair(sdists, project, older, version, folder)
                folder.mkdir(parents=True, exist_ok=True)
                record.write_text(json.dumps(pair, indent=1))
            if pair.get("skip"):
                skipped[pair["skip"]] += 1
                skipped[f"by project: {project}"] += 1
            else:
                pairs.append(pair)
    return pairs, skipped


def _make_pair(sdists: Path, project: str, older: str, version: str, folder: Path) -> dict:
    pair: dict = {"project": project, "from": older, "to": version}
    archive_a = find_sdist(sdists / _norm(project), project, older)
    archive_b = find_sdist(sdists / _norm(project), project, version)
    if archive_a is None or archive_b is None:
        return {**pair, "skip": "release or its predecessor not on PyPI as an sdist"}
    log_a, log_b = _changelog_of(archive_a), _changelog_of(archive_b)
    if log_a is None or log_b is None:
        return {**pair, "skip": "an sdist without a ChangeLog"}
    commits = commits_between(log_a, log_b)
    if commits is None:
        return {**pair, "skip": "previous release not an ancestor (ChangeLogs disagree)"}
    real = [c for c in commits if not is_housekeeping(c)]
    pair.update(commits=commits)
    if len(real) != 1:
        return {**pair, "skip": f"not one commit by the sdists' own ChangeLogs ({len(real)})"}
    (query,) = real
    if len(query.split()) < 3:
        return {**pair, "skip": "subject shorter than 3 words"}
    shutil.rmtree(folder, ignore_errors=True)
    old_root = base.extract(archive_a, folder / "a")
    new_root = base.extract(archive_b, folder / "b")
    gold = [
        g
        for g in base.gold_files(base._files(old_root), base._files(new_root))
        if not g.startswith(SPHINX_TREES)
    ]
    shutil.rmtree(folder / "b")
    if not gold:
        shutil.rmtree(folder / "a")
        return {**pair, "query": query, "skip": "no non-test source file changed"}
    if len(gold) > 5:
        shutil.rmtree(folder / "a")
        return {**pair, "query": query, "skip": "more than 5 gold files"}
    base.make_repo(old_root)
    return {**pair, "root": str(old_root), "query": query, "gold": gold}


# --- quality -------------------------------------------------------------------------------------

SYSTEM_NAMES = ("bm25-files", "bm25-code", "ours")


def quality(pairs: list[dict], systems: tuple[str, ...] = SYSTEM_NAMES) -> dict:
    instances = []
    for pair in pairs:
        root = Path(pair["root"])
        files = base._tracked(root)
        row = {k: pair[k] for k in ("project", "from", "to", "query", "gold")}
        for name in systems:
            cls = base.SYSTEMS[name]
            system = cls(root) if name.startswith("ours") else cls(files)
            ranked = system.rank(pair["query"])
            row[name] = {
                "top5": ranked[:5],
                **{k: round(v, 3) for k, v in base.score(ranked, pair["gold"]).items()},
            }
        instances.append(row)

    def summarize(rows: list[dict]) -> dict:
        return {
            "pairs": len(rows),
            "recall@1_ceiling": round(statistics.mean(1 / len(r["gold"]) for r in rows), 3),
            "summary": {
                name: base._summary(
                    [{k: v for k, v in r[name].items() if k != "top5"} for r in rows]
                )
                for name in systems
            },
        }

    single = [r for r in instances if len(r["gold"]) == 1]
    # gold holds `.py` files only, while `ours` ranks every file (release notes too)
    non_py = {
        name: {
            "top1_not_py": sum(not r[name]["top5"][0].endswith(".py") for r in instances),
            "top5_slots_not_py": sum(
                not p.endswith(".py") for r in instances for p in r[name]["top5"]
            ),
            "top5_slots": sum(len(r[name]["top5"]) for r in instances),
        }
        for name in systems
    }
    return {
        "non_py_in_rankings": non_py,
        "pairs": len(instances),
        "projects": dict(sorted(Counter(r["project"] for r in instances).items())),
        "all": summarize(instances) if instances else {},
        "single_gold": summarize(single) if single else {},
        "multi_gold": summarize([r for r in instances if len(r["gold"]) > 1])
        if len(single) < len(instances)
        else {},
        "instances": instances,
    }


def markdown(result: dict) -> str:
    q = result["quality"]
    parts = [
        f"# Retrieval from real commit messages ({result['date']}, "
        f"{result['machine']['cpus']} CPUs)\n",
        "Query = the subject of a real commit, gold = the non-test `.py` source files it "
        "changed, corpus = its parent's tree as packaged (the previous release's sdist). The "
        "commits are the single-commit releases of pbr-built (OpenStack-style) projects on "
        "PyPI: pbr writes each sdist's `ChangeLog` from `git log`, so the commits between two "
        "releases are known, and when there is exactly one (after dropping housekeeping commits "
        "by their subject: requirements syncs, CI, docs, translations...) the release diff is "
        "that commit's diff. Every project is held out (never used to tune the ranker). See "
        "benchmarks/retrieval_commits.py for the filter and the caveats. Targets (issue #4): "
        "R@5 >= 0.85, R@1 >= 0.55.\n",
        f"Run time: {result['runtime_s']} s (prepare {result['prepare_s']} s, "
        f"scoring {result['score_s']} s).\n",
    ]
    projects = ", ".join(f"{k} {v}" for k, v in q["projects"].items())
    parts.append(
        f"## All pairs: {q['pairs']} ({len(q['projects'])} projects)\n\n{projects}\n\n"
        f"recall@1 ceiling: {q['all']['recall@1_ceiling']:.3f}\n\n"
        + base._table(q["all"]["summary"])
        + "\n"
    )
    for key, title in (("single_gold", "one gold file"), ("multi_gold", "2-5 gold files")):
        if q.get(key):
            parts.append(
                f"Pairs with {title} ({q[key]['pairs']}; R@1 ceiling "
                f"{q[key]['recall@1_ceiling']:.3f}):\n\n" + base._table(q[key]["summary"]) + "\n"
            )
    reasons = {k: v for k, v in q["skipped"].items() if not k.startswith("by project: ")}
    skipped = "\n".join(f"- {k}: {v}" for k, v in sorted(reasons.items(), key=lambda x: -x[1]))
    by_project = ", ".join(
        f"{k.removeprefix('by project: ')} {v}"
        for k, v in sorted(q["skipped"].items())
        if k.startswith("by project: ")
    )
    non_py = q["non_py_in_rankings"]["ours"]
    parts.append(
        f"## Pairs skipped\n\nCandidate releases (one non-housekeeping bullet in the newest "
        f"ChangeLog's section, the newest {result['per_project']} per project) that were not "
        f"kept, {sum(reasons.values())} in all:\n\n{skipped}\n\nBy project: {by_project}\n"
    )
    parts.append(
        "## Non-code files in the rankings\n\nGold holds `.py` files only; the two BM25 "
        "baselines rank `.py` files only, `ours` ranks every file. `ours` put a non-`.py` file "
        f"first in {non_py['top1_not_py']} of {q['pairs']} pairs, and non-`.py` files fill "
        f"{non_py['top5_slots_not_py']} of its {non_py['top5_slots']} top-5 slots (mostly "
        "`releasenotes/notes/*.yaml`).\n"
    )
    misses = [r for r in q["instances"] if r["ours"]["hit@1"] == 0]
    lines = []
    for r in misses[:12]:
        lines.append(
            f'- {r["project"]} {r["from"]} -> {r["to"]}: "{r["query"]}"  \n'
            f"  gold: {', '.join(r['gold'])}  \n"
            f"  ours top-3: {', '.join(r['ours']['top5'][:3])}"
        )
    parts.append(
        f"## Misses of `ours` at rank 1 ({len(misses)} of {q['pairs']}; first 12)\n\n"
        + "\n".join(lines)
        + "\n"
    )
    parts.append(base.targets_section(result["targets"]))
    return "\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--download", action="store_true", help="pip download the sdists first")
    parser.add_argument("--sdists", type=Path, default=PROJECT / "build" / "commit-sdists")
    parser.add_argument("--work", type=Path, default=PROJECT / "build" / "commit-pairs")
    parser.add_argument("--log", type=Path, default=PROJECT / "logs" / "retrieval_commits.json")
    parser.add_argument("--projects", nargs="*", default=PROJECTS, help="default: all")
    parser.add_argument(
        "--per-project",
        type=int,
        default=PER_PROJECT,
        help="the newest N candidate releases per project (bounds the downloads)",
    )
    args = parser.parse_args()
    started = time.perf_counter()
    if args.download:
        download(args.sdists, args.projects, args.per_project)
    prepared = time.perf_counter()
    pairs, skipped = prepare(args.sdists, args.work, args.projects, args.per_project)
    prepare_s = time.perf_counter() - prepared
    scoring = time.perf_counter()
    result_quality = {**quality(pairs), "skipped": dict(skipped)}
    score_s = time.perf_counter() - scoring
    ours = result_quality["all"]["summary"]["ours"]
    result = {
        "schema": "code-assistant/bench-retrieval-commits@1",
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "runtime_s": round(time.perf_counter() - started, 1),
        "prepare_s": round(prepare_s, 1),
        "score_s": round(score_s, 1),
        "per_project": args.per_project,
        "targets": {
            "recall@5 >= 0.85 (ours, all pairs, held out)": ours["recall@5"] >= 0.85,
            "recall@1 >= 0.55 (ours, all pairs, held out)": ours["recall@1"] >= 0.55,
        },
        "quality": result_quality,
    }
    args.log.parent.mkdir(parents=True, exist_ok=True)
    args.log.write_text(json.dumps(result, indent=2) + "\n")
    args.log.with_suffix(".md").write_text(markdown(result))
    for name, m in result_quality["all"]["summary"].items():
        print(f"{name:<11} " + " ".join(f"{k}={v:.3f}" for k, v in m.items()))
    reasons = {k: v for k, v in skipped.items() if not k.startswith("by project: ")}
    print(f"pairs={len(pairs)} skipped={reasons} runtime_s={result['runtime_s']}")


if __name__ == "__main__":
    main()
