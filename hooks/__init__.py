"""pre-commit hook entry points."""
