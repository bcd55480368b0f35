# flexmt: `make test` sets up .venv and runs lint + tests; `make book` builds the HTML book.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export TF_CPP_MIN_LOG_LEVEL := 2
export TF_ENABLE_ONEDNN_OPTS := 0

.PHONY: test lint book browser venv clean

$(BIN)/flexmt: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[book,dev]"
	touch $@

venv: $(BIN)/flexmt

lint: venv
	$(BIN)/ruff check flexmt tests benchmarks notebooks
	$(BIN)/ruff format --check flexmt tests benchmarks notebooks

# Two workers, each taking whole test files (a file's fixtures, e.g. the quick book, are built
# once).
test: lint browser
	$(BIN)/pytest -q --durations=10 -n 2 --dist loadfile

# Execute every notebook, two at a time (each kernel gets half the cores as TensorFlow threads;
# any two of them peak below 4 GB together, see benchmarks/RESULTS.md), build _build/html (warnings are errors),
# then open every page of the built book in headless Chromium (tests/test_book.py; see
# book/running.md).
book: venv browser
	$(BIN)/python -m flexmt.book --jobs 2
	FLEXMT_BOOK_HTML=_build/html $(BIN)/pytest -q tests/test_book.py

# Debian's Chromium for the browser test of the book; Playwright drives it, never downloads one.
CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
browser: $(CHROMIUM)
$(CHROMIUM):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium

clean:
	rm -rf _build book/_generated
