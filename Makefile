# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test test-postgres lint fmt bench clean install

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# `make run PORT=5001` serves on another port; links and ids then name that port too.
run: $(STAMP)
	$(BIN)/issuer serve --init-demo$(if $(PORT), --port $(PORT))

# Two workers: the machine CI runs on has two cores. A test module runs in one worker.
# ISSUER_TEST_FULL=1 makes the long property runs full size (the canonicalization
# differential compares 10,000 documents instead of 500); .ci/run sets it, `make test`
# leaves it to you: ISSUER_TEST_FULL=1 make test.
PYTEST := $(BIN)/python -m pytest -q -n auto --dist loadscope

test: $(STAMP)
	$(BIN)/ruff check .
	$(PYTEST)

lint: $(STAMP)
	$(BIN)/ruff check .

fmt: $(STAMP)
	$(BIN)/ruff format .

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info

# The database-backed tests again, on PostgreSQL (ISSUER_TEST_DATABASE_URL must be set).
test-postgres: $(STAMP)
	@test -n "$$ISSUER_TEST_DATABASE_URL" || { echo "set ISSUER_TEST_DATABASE_URL"; exit 2; }
	$(PYTEST) -m "db or postgres"; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "no database-backed tests collected"; rc=0; fi; exit $$rc
