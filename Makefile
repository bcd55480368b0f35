# flexmt: `make test` sets up .venv and runs lint + tests; `make book` builds the HTML book.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export TF_CPP_MIN_LOG_LEVEL := 2
export TF_ENABLE_ONEDNN_OPTS := 0

.PHONY: test lint book venv clean

$(BIN)/flexmt: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[book,dev]"
	touch $@

venv: $(BIN)/flexmt

lint: venv
	$(BIN)/ruff check flexmt tests benchmarks notebooks
	$(BIN)/ruff format --check flexmt tests benchmarks notebooks

test: lint
	$(BIN)/pytest -q

book: venv
	$(BIN)/python -m flexmt.book

clean:
	rm -rf _build book/_generated
