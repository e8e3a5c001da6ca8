"""What a file is for: code to change, configuration, a test that exercises code, or documentation.

Docs and changelogs repeat the words of every task, so a lexical ranker loves them; they are
ranked as context, never as files to change. Tests are listed as related tests. Configuration
(build files, CI workflows, manifests) can be the file to change, but a task described in words
is more often about code, so the ranker gives it a lower prior."""

from __future__ import annotations

import re

CODE, CONFIG, TEST, DOC = "code", "config", "test", "doc"
TARGETS = (CODE, CONFIG)

_CODE_LANGUAGES = frozenset(
    "python typescript tsx javascript vue go rust java shell sql c h cpp cc cxx hpp hh cs rb php "
    "kt kts swift scala m mm lua r pl pm ex exs erl dart css scss sass less html htm jinja j2 "
    "svelte astro proto graphql gql tf hcl nix zig jl clj".split()
)
_CONFIG_LANGUAGES = frozenset(
    "yaml toml json jsonc json5 cfg ini conf dockerfile in properties xml env editorconfig "
    "gradle cmake mk".split()
)
_CONFIG_NAMES = frozenset(
    "makefile gnumakefile jenkinsfile procfile justfile vagrantfile gemfile rakefile "
    "setup.py noxfile.py fabfile.py manage.py cmakelists.txt".split()
)

_TEST_NAME = re.compile(
    r"(?:^test_.*\.py$|.*_test\.py$|^conftest\.py$|.*_test\.go$|.*\.(?:test|spec)\.[cm]?[jt]sx?$"
    r"|.*(?:Test|Tests|IT)\.java$|.*_spec\.rb$|.*_test\.rs$|.*\.bats$)"
)
_TEST_DIRS = frozenset({"tests", "test", "__tests__", "spec", "specs", "testing", "e2e"})
_DOC_SUFFIXES = (".md", ".markdown", ".rst", ".txt", ".adoc", ".asciidoc", ".rdoc", ".org")
_DOC_NAMES = re.compile(
    r"^(?:changelog|changes|history|news|release[-_]?notes|authors|contributors|contributing"
    r"|license|licence|copying|notice|readme|code_of_conduct|security|support|todo)(?:\.|$)",
    re.I,
)
# documentation trees and changelog fragments (towncrier's newsfragments, reno's releasenotes)
_DOC_DIRS = frozenset(
    {
        "docs",
        "doc",
        "documentation",
        "changelog.d",
        "changes",
        "newsfragments",
        "releasenotes",
        "release-notes",
        "release_notes",
    }
)


def is_test_path(path: str) -> bool:
    parts = path.split("/")
    if _TEST_NAME.match(parts[-1]):
        return True
    return any(part in _TEST_DIRS for part in parts[:-1])


def role_of(path: str, language: str) -> str:
    """`test`, `doc`, `config` or `code`."""
    if is_test_path(path):
        return TEST
    parts = path.split("/")
    name = parts[-1]
    lowered = name.lower()
    if lowered in _CONFIG_NAMES or parts[0] in (".github", ".gitlab", ".circleci", ".ci"):
        return CONFIG
    if lowered.endswith(_DOC_SUFFIXES) or language == "markdown":
        return DOC
    if _DOC_NAMES.match(name) and (
        "." not in lowered or lowered.rsplit(".", 1)[1] in ("txt", "md")
    ):
        return DOC
    if any(part in _DOC_DIRS for part in parts[:-1]):
        return CONFIG if language == "python" else DOC  # Sphinx conf.py; templates and pages
    if language in _CODE_LANGUAGES:
        return CODE
    if language in _CONFIG_LANGUAGES or (lowered.startswith(".") and "." not in lowered[1:]):
        return CONFIG
    return DOC  # plain text, metadata (PKG-INFO), unknown formats: context only
