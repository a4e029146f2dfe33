# Two commands set everything up on a fresh machine: `make site` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUTPUT ?= site
PORT ?= 8000
BIND ?= 127.0.0.1

.PHONY: install site serve test lint format bench fuzz golden clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/pip install --quiet --no-deps 'atrope==2.0.0'  # HEPiX list parser (deps in [test])
	touch $(STAMP)

# Exit code 1 means "problems found": the demo repository has some on purpose.
site: $(STAMP)
	@echo "The demo repository has deliberate problems, to show how they are reported: the lines below are expected."
	$(BIN)/star-vm-catalog build --output $(OUTPUT) || [ $$? -eq 1 ]
	@echo "Open $(OUTPUT)/index.html, or run 'make serve' and visit http://$(BIND):$(PORT)/"

serve: site
	$(BIN)/python -m http.server --bind $(BIND) --directory $(OUTPUT) $(PORT)

# MkDocs 1.6, ProperDocs and Material print MkDocs 2.0 notices unless this is set.
test: lint
	DISABLE_MKDOCS_2_WARNING=true $(BIN)/python -m pytest

# Property-based run over 10,000 generated repositories (FUZZ_EXAMPLES=N for more or fewer);
# failures are shrunk and kept in .hypothesis/ so the next run replays them first.
FUZZ_EXAMPLES ?= 10000
fuzz: $(STAMP)
	STAR_FUZZ_PROFILE=fuzz STAR_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest tests/test_properties.py -q -p no:cacheprovider -k every_generated

lint: $(STAMP)
	$(BIN)/ruff check generator tests $(wildcard bench)
	$(BIN)/ruff format --check generator tests $(wildcard bench)
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format generator tests bench
	$(BIN)/ruff check --fix generator tests bench

# Rewrite tests/golden/demo/ from the demo repository, on purpose, after a change meant to alter
# the site; review the diff before committing it.
golden: $(STAMP)
	$(BIN)/python tests/golden.py

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(OUTPUT) build *.egg-info .pytest_cache
