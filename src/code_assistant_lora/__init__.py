"""code-assistant-lora: a repo-aware engineering assistant."""

__version__ = "0.1.0"
