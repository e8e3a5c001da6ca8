"""code-assistant-train: build datasets and train adapters."""
