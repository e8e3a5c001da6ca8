"""pytest hooks for code-assistant."""
