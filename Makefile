# Two entry points on a fresh machine with only Python: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TESTS  := $(VENV)/.installed-test

.PHONY: demo test browser spark lint bench sample clean

# Runtime dependencies only (what `qslogs` needs), as a regular install; `make test` (and lint, bench)
# switch to an editable install with their extras.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet .
	touch $(STAMP)

$(TESTS): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(TESTS)

demo: $(STAMP)
	$(BIN)/qslogs report sample_data/bundle --qvd sample_data/qvd -o report.html --title "qslogs demo: sample bundle"
	@echo "Report written to $(CURDIR)/report.html"
	@echo "The command is $(CURDIR)/$(BIN)/qslogs; to have 'qslogs' on the PATH: source $(BIN)/activate"

test: $(TESTS) browser spark
	$(BIN)/python -m pytest -q

# Debian's chromium (and poppler-utils' pdfinfo for PDF page counts) for tests/test_browser.py: installed when missing (as root, where apt-get exists);
# anywhere else the browser tests skip and say why.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	{ if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	    || echo "could not install chromium: the browser tests will skip"; \
	  else echo "chromium is not installed (installing needs root and apt-get): the browser tests will skip"; fi; }
	@command -v pdfinfo >/dev/null 2>&1 || \
	{ if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null) \
	    || echo "could not install poppler-utils: the print test counts PDF pages itself"; \
	  else echo "pdfinfo (poppler-utils) is not installed: the print test counts PDF pages itself"; fi; }

# PySpark (the spark extra) and a Java runtime for the Spark tests of tests/test_fleet.py: installed when
# missing (Java as root, where apt-get exists); anywhere else the Spark tests skip and say why.
spark: $(TESTS)
	@$(BIN)/python -m pip install --quiet -e '.[test,spark]' || echo "could not install qslogs[spark]: the Spark tests will skip"
	@command -v java >/dev/null 2>&1 || \
	{ if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null) \
	    || echo "could not install Java: the Spark tests will skip"; \
	  else echo "java is not installed (installing needs root and apt-get): the Spark tests will skip"; fi; }

lint: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	$(BIN)/ruff check qslogs qslogs_synth tests benchmarks
	$(BIN)/mypy

sample: $(TESTS)
	$(BIN)/python -m qslogs_synth sample_data

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) build *.egg-info report.html .pytest_cache
