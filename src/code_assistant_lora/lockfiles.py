"""Dependency lock files: generated, full of integrity hashes, never worth reviewing, indexing or
scanning for secrets. One list for the scanner and the secrets pack."""

LOCK_FILES = frozenset(
    {
        "package-lock.json",
        "npm-shrinkwrap.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "bun.lockb",
        "poetry.lock",
        "Pipfile.lock",
        "uv.lock",
        "pdm.lock",
        "Cargo.lock",
        "composer.lock",
        "Gemfile.lock",
        "go.sum",
        "packages.lock.json",
        "Podfile.lock",
        "flake.lock",
        "pixi.lock",
    }
)
