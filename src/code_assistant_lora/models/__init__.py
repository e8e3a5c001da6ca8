"""Model roles behind any OpenAI-compatible server: the HTTP client and the specialist reviewer."""
