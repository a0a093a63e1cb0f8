# briefpress: `make` builds every format of brief/ into dist/; `make test` proves it works.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
BP     := $(BIN)/briefpress
BRIEF  ?= brief
DIST   ?= dist
SLUG   := $(shell sed -n 's/^slug:[[:space:]]*"\{0,1\}\([a-z0-9-]*\)"\{0,1\}.*/\1/p' $(BRIEF)/brief.yaml)
STAMP  := $(VENV)/.installed

# Everything an output depends on: the brief, the styles, the package, the project file.
DEPS := $(shell find $(BRIEF) styles src -type f -not -path '*/__pycache__/*' 2>/dev/null) pyproject.toml $(STAMP)

PDF  := $(DIST)/$(SLUG).pdf
EPUB := $(DIST)/$(SLUG).epub
HTML := $(DIST)/$(SLUG).html

.PHONY: all pdf epub html check test bench clean venv
.DELETE_ON_ERROR:

all: $(PDF) $(EPUB) $(HTML)
pdf: $(PDF)
epub: $(EPUB)
html: $(HTML)
venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

$(DIST)/$(SLUG).%: $(DEPS)
	$(BP) build $(BRIEF) --format $* --out $(DIST) $(BUILDFLAGS)

check: BUILDFLAGS = --strict
check: $(PDF) $(EPUB)
	$(BIN)/python tests/checks.py $(PDF) $(EPUB)

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py

clean:
	rm -f $(PDF) $(EPUB) $(HTML) $(DIST)/.$(SLUG).*.tmp
