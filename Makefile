# Set-up commands that work on a fresh machine: `make demo` and `make test` each install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO := build/demo-repo
STAMP := $(VENV)/.installed-dev
# torch first, so the train extra does not pull a multi-GB CUDA build: here the CPU wheel lies on
# disk; elsewhere pass e.g. TORCH="torch --index-url https://download.pytorch.org/whl/cpu".
TORCH ?= torch==2.13.0

.PHONY: demo test lint bench bench-select bench-train bench-models clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e '.[dev,train,dense,dashboard]'
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  (command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && \
	   (apt-get install -y -qq chromium >/dev/null 2>&1 || \
	    (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1))) || \
	  echo "note: chromium could not be installed; the dashboard browser test will be skipped"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python scripts/make_demo_repo.py $(DEMO) --force
	@echo "== code-assistant write --task 'Add CSV export of invoices with a date filter'"
	$(BIN)/code-assistant write --repo $(DEMO) --task "Add CSV export of invoices with a date filter"
	@echo "== code-assistant review --base main --head feature/invoice-export"
	$(BIN)/code-assistant review --repo $(DEMO) --base main --head feature/invoice-export --format text --fail-on high || test $$? -eq 1
	$(BIN)/code-assistant review --repo $(DEMO) --base main --head feature/invoice-export --format sarif > $(DEMO)/artifacts/code-assistant/review.sarif || test $$? -eq 1
	@echo "== code-assistant test --base main --dry-run (the selection plan and the exact command)"
	$(BIN)/code-assistant test --repo $(DEMO) --base main --dry-run
	@echo "artifacts: $(DEMO)/artifacts/code-assistant/: review.json, review.sarif, write-context.json, patch-plan.md, test-report.json"

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(STAMP)
	$(BIN)/python benchmarks/review_speed.py
	$(BIN)/python benchmarks/retrieval.py --sdists build/sdists --download --work build/retrieval-pairs
	$(BIN)/python benchmarks/retrieval_commits.py --download
	$(BIN)/python benchmarks/dataset_build.py

bench-select: $(STAMP)
	$(BIN)/python benchmarks/test_selection.py    # ~25 min: PyPI sdists, mutants vs testmon/picked

bench-train: $(STAMP)
	$(BIN)/python benchmarks/train_tiny.py        # ~2 min: tiny-model LoRA and nf4 steps/s, peak RSS

bench-models: $(STAMP)
	$(BIN)/python benchmarks/model_overhead.py    # model-path overhead per specialist call, warm cache

clean:
	rm -rf $(VENV) build artifacts .pytest_cache
