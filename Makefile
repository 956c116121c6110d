# Huiyin (回音) — the two quick-start commands are `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HUIYIN_DATA_DIR ?= $(CURDIR)/var
export HUIYIN_DATA_DIR
DEMO_CASES ?= 400
PYTEST_ARGS ?= -n 2 --dist worksteal

.PHONY: run test install demo e2e lint diagram clean

# The environment is (re)built when the pinned dependencies change.
$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

install: $(BIN)/.installed

## make run: set up, migrate, load the demo organisation, serve on http://127.0.0.1:8000
run: install
	$(BIN)/huiyin migrate --no-input -v0
	$(BIN)/huiyin demo --cases $(DEMO_CASES) --if-empty
	$(BIN)/huiyin serve

## make test: set up and run the whole test suite (SQLite; browser tests need Debian's chromium)
test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## make lint: the quality gate (ruff lint and format, mypy, import-linter) — CI runs it
lint: install
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy src/huiyin
	cd src && ../$(BIN)/lint-imports --config ../pyproject.toml

e2e: install
	$(BIN)/python -m pytest -m e2e $(PYTEST_ARGS)

diagram: install
	$(BIN)/huiyin lifecycle_diagram --write docs/architecture.md

clean:
	rm -rf $(VENV) var .pytest_cache
