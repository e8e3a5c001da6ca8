"""The pytest plugin (pytest11 entry point): options and hooks only; the work lives in the core."""
