# Every target does its own set-up on a fresh machine: a .venv with the pinned dependencies.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.ciogen-installed

.PHONY: generate check test lint prism clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

generate: $(STAMP)
	$(PY) -m generator generate

check: $(STAMP)
	$(PY) -m generator check

# Prism (the validating mock) lives in tools/prism with a committed lock file; skipped without npm.
prism:
	@if command -v npm >/dev/null 2>&1; then \
		cd tools/prism && npm ci --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: Prism conformance tests will be skipped"; fi

test: $(STAMP) prism
	$(PY) -m pytest
	$(MAKE) lint

# The generator's source is held to what it holds its output to: black, ruff, mypy --strict.
lint: $(STAMP)
	$(VENV)/bin/black --check -q generator tests bench
	$(VENV)/bin/ruff check generator generated tests bench
	$(VENV)/bin/mypy --strict generator generated/customerio_client

clean:
	rm -rf $(VENV) tools/prism/node_modules .ciogen-cache
