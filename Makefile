# Two entry points on a fresh machine with only Python: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test browser spark lint bench sample clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/qslogs report sample_data/bundle --qvd sample_data/qvd -o report.html --title "qslogs demo: sample bundle"
	@echo "Report written to $(CURDIR)/report.html"

test: $(STAMP) browser spark
	$(BIN)/python -m pytest -q

# Debian's chromium for tests/test_browser.py: installed when missing (as root, where apt-get exists);
# anywhere else the browser tests skip and say why.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	{ if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	    || echo "could not install chromium: the browser tests will skip"; \
	  else echo "chromium is not installed (installing needs root and apt-get): the browser tests will skip"; fi; }

# PySpark (the spark extra) and a Java runtime for the Spark tests of tests/test_fleet.py: installed when
# missing (Java as root, where apt-get exists); anywhere else the Spark tests skip and say why.
spark: $(STAMP)
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

sample: $(STAMP)
	$(BIN)/python -m qslogs_synth sample_data

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) build *.egg-info report.html .pytest_cache
