"""Changed-file test selection: signals, safety rules, framework detection and the runner."""
