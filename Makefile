# briefpress: `make` builds every format of brief/ into dist/; `make test` proves it works.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
BP     := $(BIN)/briefpress
BRIEF  ?= brief
DIST   ?= dist
SLUG   := $(shell sed -n 's/^slug:[[:space:]]*"\{0,1\}\([a-z0-9-]*\)"\{0,1\}.*/\1/p' $(BRIEF)/brief.yaml)
STAMP  := $(VENV)/.installed
# The package compiled ahead (its modules and templates), as an installed package is, and the brief's
# hyphenation patterns parsed: builds then skip the compiling and parsing that PYTHONDONTWRITEBYTECODE
# would otherwise make every build pay (see src/briefpress/kept.py).
COMPILED := $(VENV)/.compiled

# Everything an output depends on: the brief, the package (with its templates and styles), the project file.
PACKAGE := $(shell find src -type f -not -path '*/__pycache__/*' 2>/dev/null)
DEPS := $(shell find $(BRIEF) -type f 2>/dev/null) $(PACKAGE) pyproject.toml $(STAMP) $(COMPILED)

PDF  := $(DIST)/$(SLUG).pdf
EPUB := $(DIST)/$(SLUG).epub
HTML := $(DIST)/$(SLUG).html

.PHONY: all pdf epub html check release test bench clean venv
.DELETE_ON_ERROR:

all: $(PDF) $(EPUB) $(HTML)
pdf: $(PDF)
epub: $(EPUB)
html: $(HTML)
venv: $(STAMP) $(COMPILED)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

$(COMPILED): $(PACKAGE) $(STAMP)
	$(BIN)/python -m compileall -q src/briefpress
	$(BIN)/python -m briefpress.speedups $(BRIEF) >/dev/null
	touch $@

$(DIST)/$(SLUG).%: $(DEPS)
	$(BP) build $(BRIEF) --format $* --out $(DIST) $(BUILDFLAGS)

check: BUILDFLAGS = --strict
check: $(PDF) $(EPUB)
	$(BIN)/python tools/checks.py $(PDF) $(EPUB)

# Every format with --strict, validated, then checksums and a manifest for readers to verify.
release: $(STAMP)
	$(BP) build $(BRIEF) --strict --release --out $(DIST)
	$(BIN)/python tools/checks.py $(PDF) $(EPUB) || { rm -f $(DIST)/SHA256SUMS $(DIST)/manifest.json; exit 1; }
	cd $(DIST) && sha256sum -c SHA256SUMS

test: $(STAMP) $(COMPILED)
	$(BIN)/python -m pytest

bench: $(STAMP) $(COMPILED)
	test $(VENV)/.bench-installed -nt pyproject.toml || { $(BIN)/python -m pip install --quiet -e '.[bench]' && touch $(VENV)/.bench-installed; }
	$(BIN)/python benchmarks/bench.py $(BENCHFLAGS)

clean:
	rm -f $(PDF) $(EPUB) $(HTML) $(DIST)/SHA256SUMS $(DIST)/manifest.json $(DIST)/.$(SLUG).*.tmp
	rm -rf $(DIST)/.briefpress-cache
	rm -f $(COMPILED)
	find src -name __pycache__ -type d -prune -exec rm -rf {} +

# Accessibility of the EPUB: Ace by DAISY (axe in Debian's chromium, through puppeteer), installed into .a11y/
# on first use; fails on any serious or critical violation. Needs node >= 20, npm and /usr/bin/chromium.
.PHONY: check-a11y
check-a11y: $(EPUB)
	test -x .a11y/node_modules/.bin/ace-cli || PUPPETEER_SKIP_DOWNLOAD=1 npm install --prefix .a11y \
	  --no-audit --no-fund --loglevel=error @daisy/ace-cli@1.4.6
	rm -rf .a11y/report
	PUPPETEER_EXECUTABLE_PATH=$(CURDIR)/tools/a11y/chromium-wrapper.sh .a11y/node_modules/.bin/ace-cli \
	  --silent --outdir .a11y/report $(EPUB)
	$(BIN)/python tools/a11y/ace_gate.py .a11y/report/report.json
