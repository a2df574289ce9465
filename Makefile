# Two commands from a fresh clone (Python 3.11):  `make demo`  and  `make test`.
# Both create .venv and install the project first when needed.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo run test test-night lint bench clean lock

# The exact versions of requirements.lock (the set the tests last passed with), then the project itself.
$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e '.[dev]'
	touch $@

## Refresh requirements.lock after changing the ranges in pyproject.toml (then run `make test`).
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet -e '.[dev]'
	( echo "# The exact set of packages the test suite last passed with (Python 3.11, Linux x86_64)."; \
	  echo "# Made by: make lock   (ranges live in pyproject.toml)"; \
	  .lock-venv/bin/pip freeze --exclude-editable ) > requirements.lock
	rm -rf .lock-venv

## The bot against the built-in Telegram simulator, with a browser chat page (no Telegram, no internet).
demo: $(VENV)/.installed
	$(PY) -m bot demo

## The bot against real Telegram (needs BOT_TOKEN in .env or the environment).
run: $(VENV)/.installed
	$(PY) -m bot run

## Every check: lint, types, and all tests.
test: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) -m pytest

## The stories and browser tests with the wall clock at 00:45 in Shanghai (Debian's libfaketime:
## apt-get install faketime), proving that no test depends on the hour it runs at.
FAKETIME_LIB ?= /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
NIGHT ?= 2026-12-01 16:45:00
test-night: $(VENV)/.installed
	@test -f $(FAKETIME_LIB) || { echo "test-night needs libfaketime: apt-get install faketime"; exit 1; }
	@echo "wall clock: $(NIGHT) UTC = 00:45 Asia/Shanghai"
	@# On SQLite only: the hour is what this pass varies, and `make test` already ran every story on both databases.
	env -u TEST_POSTGRES_URL TZ=UTC LD_PRELOAD=$(FAKETIME_LIB) FAKETIME="@$(NIGHT)" FAKETIME_FORCE_MONOTONIC_FIX=1 \
	  $(PY) -m pytest -p no:cacheprovider tests/stories tests/browser

bench: $(VENV)/.installed
	$(PY) -m benchmarks.delivery

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
