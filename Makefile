# Two commands from a fresh clone (Python 3.11):  `make demo`  and  `make test`.
# Both create .venv and install the project first when needed.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo run test test-slow test-night lint bench clean lock

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

## Every check: lint, types, and all tests but the full-size bulk runs (`make test-slow`). The tests run in two
## passes: everything that may share the machine on $(WORKERS) workers (pytest-xdist), then, alone, what may not
## (`serial`: real-time pacing, bot processes killed mid-flight). Both passes run even if the first fails; the 15
## slowest tests of the two are printed at the end.
WORKERS ?= 2
TIMES := .test-times
test: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	@rm -rf $(TIMES); status=0; \
	$(PY) -m pytest -n $(WORKERS) --dist loadgroup -m "not serial and not slow" --junitxml=$(TIMES)/parallel.xml || status=$$?; \
	$(PY) -m pytest -m "serial and not slow" --junitxml=$(TIMES)/serial.xml || status=$$?; \
	$(PY) -m tests.slowest $(TIMES)/parallel.xml $(TIMES)/serial.xml; \
	exit $$status

## The bulk tests at full size (a 2,000-person broadcast killed halfway, 1,000 digests, 500 volunteers): the
## same shapes `make test` proves at 200.
test-slow: $(VENV)/.installed
	$(PY) -m pytest -m slow

## What reads the wall clock (`wall_clock`: the demo, the browsers, bot processes, crash tests) again with the
## wall clock at 00:45 in Shanghai (Debian's libfaketime: apt-get install faketime), proving that nothing depends
## on the hour it runs at. Every other test runs on the bot's own clock and virtual time, whatever the hour.
FAKETIME_LIB ?= /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
NIGHT ?= 2026-12-01 16:45:00
NIGHT_ENV = env -u TEST_POSTGRES_URL TZ=UTC LD_PRELOAD=$(FAKETIME_LIB) FAKETIME="@$(NIGHT)" FAKETIME_FORCE_MONOTONIC_FIX=1
test-night: $(VENV)/.installed
	@test -f $(FAKETIME_LIB) || { echo "test-night needs libfaketime: apt-get install faketime"; exit 1; }
	@echo "wall clock: $(NIGHT) UTC = 00:45 Asia/Shanghai"
	@# On SQLite only: the hour is what this pass varies, and `make test` already ran them on both databases.
	@status=0; \
	$(NIGHT_ENV) $(PY) -m pytest -p no:cacheprovider -n $(WORKERS) --dist loadgroup -m "wall_clock and not serial and not slow" || status=$$?; \
	$(NIGHT_ENV) $(PY) -m pytest -p no:cacheprovider -m "wall_clock and serial and not slow" || status=$$?; \
	exit $$status

bench: $(VENV)/.installed
	$(PY) -m benchmarks.delivery
	$(PY) -m benchmarks.updates
	$(PY) -m benchmarks.intent
	$(PY) -m benchmarks.topics

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache $(TIMES)
