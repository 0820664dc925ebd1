# Two entry points: `make demo` and `make test`. Both set up .venv from requirements.lock first:
# every package pinned with its hashes, so two installs a month apart are the same install.
VENV ?= .venv
PYTHON ?= python3
LOCK = requirements.lock
# The one pip-compile invocation: `make lock` and the lock file's own header say the same.
PIP_COMPILE = $(VENV)/bin/pip-compile --quiet --extra dev --generate-hashes --strip-extras --allow-unsafe \
	--no-emit-index-url --no-emit-find-links --output-file $(LOCK) pyproject.toml

$(VENV)/.installed: $(LOCK) pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --require-hashes --no-deps -r $(LOCK)
	$(VENV)/bin/pip install -q --no-deps --no-build-isolation -e .
	touch $@

# The compiled catalogues (.mo) the bot loads; rebuilt whenever a .po file changes.
CATALOGUES_PO := $(wildcard bot/core/locales/*/LC_MESSAGES/cohortbot.po)
CATALOGUES_MO := $(CATALOGUES_PO:.po=.mo)
$(CATALOGUES_MO): $(CATALOGUES_PO) $(VENV)/.installed
	$(VENV)/bin/python -m bot.core.catalogues compile

.PHONY: setup demo test lint bench catalogues fonts browser postgres lock lock-upgrade
setup: $(VENV)/.installed $(CATALOGUES_MO)
catalogues: setup

# Noto fonts print Arabic and CJK names in PDFs (Debian/Ubuntu; run as root). Without them the
# PDFs still print, with a warning naming the missing font.
fonts:
	@if dpkg -s fonts-noto-core fonts-noto-cjk >/dev/null 2>&1; then echo "Noto fonts installed"; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends fonts-noto-core fonts-noto-cjk; \
	else echo "install the fonts-noto-core and fonts-noto-cjk packages (as root) for Arabic and CJK names in PDFs"; fi

# Debian's chromium for the report page's browser tests (Playwright drives it; it never downloads
# a browser). Run as root; without it those tests are skipped with the reason.
browser:
	@if [ -x /usr/bin/chromium ]; then echo "chromium installed"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium; \
	else echo "install the chromium package (as root) for the report page's browser tests"; fi

# A PostgreSQL server for the PostgreSQL tests (throwaway clusters under /tmp; skipped without one).
postgres:
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then echo "PostgreSQL server installed"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql; \
	else echo "install the postgresql package (as root) to run the PostgreSQL tests"; fi

demo: setup
	$(VENV)/bin/cohortbot demo $(if $(LANG_DEMO),--lang $(LANG_DEMO))

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test: lint
	$(VENV)/bin/pytest

bench: setup
	for b in benchmarks/bench_*.py; do $(VENV)/bin/python -m $$(basename $$b .py | sed "s/^/benchmarks./") || exit 1; done

# After adding or changing a dependency in pyproject.toml: pins already in the lock are kept, only
# what changed is resolved, so the same inputs give the same file. Commit pyproject.toml and the lock.
lock: setup
	$(PIP_COMPILE)

# Move every pin to the newest release pyproject.toml allows (a deliberate upgrade, then `make test`).
lock-upgrade: setup
	$(PIP_COMPILE) --upgrade
