# Two commands set everything up on a fresh machine: `make site` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUTPUT ?= site
PORT ?= 8000

.PHONY: install site serve test lint format bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# Exit code 1 means "problems found": the demo repository has some on purpose.
site: $(STAMP)
	$(BIN)/star-vm-catalog build --output $(OUTPUT) || [ $$? -eq 1 ]
	@echo "Open $(OUTPUT)/index.html, or run 'make serve' and visit http://localhost:$(PORT)/"

serve: site
	$(BIN)/python -m http.server --directory $(OUTPUT) $(PORT)

# MkDocs 1.6, ProperDocs and Material print MkDocs 2.0 notices unless this is set.
test: lint
	DISABLE_MKDOCS_2_WARNING=true $(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check generator tests $(wildcard bench)
	$(BIN)/ruff format --check generator tests $(wildcard bench)
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format generator tests bench
	$(BIN)/ruff check --fix generator tests bench

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(OUTPUT) build *.egg-info .pytest_cache
