# Two commands set everything up on a fresh machine:
#   make demo   - installs, then runs the end-to-end demo
#   make test   - installs, then runs ruff, mypy and pytest
# Each creates .venv and installs the Python deps; as root it also installs the Debian
# packages (chromium for JS-rendered competitor pages, postgresql for the DB tests).

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
DEBIAN_PACKAGES = chromium postgresql

.PHONY: demo test lint typecheck pytest install system-deps bench clean wheel-smoke docs docs-reference

demo: install
	$(BIN)/repricer demo

test: install lint typecheck pytest

lint:
	$(BIN)/ruff check repricer spiders tests bench
	$(BIN)/ruff format --check repricer spiders tests bench

typecheck:
	$(BIN)/mypy

pytest:
	$(BIN)/pytest -q

install: system-deps $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,postgres,docs]'
	touch $@

system-deps:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		missing=""; for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
		if [ -n "$$missing" ]; then \
			echo "installing Debian packages:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
		fi; \
	elif ! command -v chromium >/dev/null; then \
		echo "note: install chromium and postgresql with your package manager (e.g. sudo apt-get install -y $(DEBIAN_PACKAGES))"; \
	fi

# The documentation site (MkDocs + Material) into build/site; --strict fails on a broken link.
docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

# Rewrite docs/reference/cli.md from the Typer app (a test fails when it is out of date).
docs-reference: install
	$(BIN)/python -m repricer.cli.reference docs/reference/cli.md

# Build the wheel, install it into a fresh virtualenv in a temp folder outside the checkout,
# and run `repricer init`, `db upgrade` and `demo` from there.
wheel-smoke: install
	scripts/wheel-smoke $(BIN)/python

bench: install
	for b in bench/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
