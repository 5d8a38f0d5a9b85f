# Deltadesk: every target bootstraps what it needs (scripts/bootstrap.sh is a no-op when all is
# installed), so `make run` and `make test` work on a fresh Debian 12 with only python3.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
PYINSTALLER_VERSION := pyinstaller>=6.10
# Python files ruff would skip for their extension.
PY_EXTRA := packaging/deltadesk.spec

.PHONY: help run test fuzz lint format bench bundle clean

help: ## show this help
	@echo "Deltadesk: make TARGET"
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-8s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

run: ## open the app (needs a display); extra options: make run ARGS="--data-dir DIR"
	@scripts/bootstrap.sh app
	@if [[ -z "$${DISPLAY:-}" && -z "$${WAYLAND_DISPLAY:-}" ]]; then \
		echo 'No display found. Run under Xvfb: `Xvfb :99 & DISPLAY=:99 make run`,' \
			'or check the install with `.venv/bin/deltadesk --self-test`' >&2; \
		exit 1; \
	fi
	$(BIN)/deltadesk $(ARGS)

test: lint ## lint, type-check, layer contracts, then the whole test suite (real keyring too)
	@scripts/bootstrap.sh app test
	@# pytest exits 5 when it collected no test: that is a failure here, never a pass.
	@# HYPOTHESIS_PROFILE=ci: property tests draw the same examples every run (tests/conftest.py).
	@HYPOTHESIS_PROFILE=ci QT_QPA_PLATFORM=offscreen scripts/with-secret-service.sh \
		$(BIN)/python -m pytest \
		|| { rc=$$?; [[ $$rc -eq 5 ]] && echo "make test: pytest ran no test" >&2; exit $$rc; }

fuzz: ## property tests only, many more examples, random seed; make fuzz EXAMPLES=20000
	@scripts/bootstrap.sh app test
	@# What this finds becomes an @example in the test, so `make test` checks it for good.
	@HYPOTHESIS_PROFILE=fuzz HYPOTHESIS_FUZZ_EXAMPLES=$(or $(EXAMPLES),5000) \
		QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -m hypothesis --timeout=3600 \
		|| { rc=$$?; [[ $$rc -eq 5 ]] && echo "make fuzz: no property test found" >&2; exit $$rc; }

lint: ## ruff, ruff format --check, mypy (core, strict), import-linter contracts
	@scripts/bootstrap.sh app
	$(BIN)/ruff check . $(PY_EXTRA)
	$(BIN)/ruff format --check . $(PY_EXTRA)
	$(BIN)/mypy
	$(BIN)/lint-imports

format: ## apply ruff's fixes and formatting
	@scripts/bootstrap.sh app
	$(BIN)/ruff check --fix . $(PY_EXTRA)
	$(BIN)/ruff format . $(PY_EXTRA)

bench: ## run the benchmarks in tests/perf (prints JSON figures)
	@scripts/bootstrap.sh app
	@if [[ ! -f tests/perf/bench.py ]]; then \
		echo "There is no benchmark yet (tests/perf/bench.py)." >&2; \
		exit 1; \
	fi
	@QT_QPA_PLATFORM=offscreen $(BIN)/python -m tests.perf.bench

bundle: ## build a one-folder PyInstaller bundle into dist/deltadesk/
	@scripts/bootstrap.sh app
	$(BIN)/python -m pip install --quiet --disable-pip-version-check '$(PYINSTALLER_VERSION)'
	$(BIN)/pyinstaller --noconfirm --clean --distpath dist --workpath build/pyinstaller \
		packaging/deltadesk.spec

clean: ## remove build output and tool caches (keeps .venv)
	rm -rf build dist .pytest_cache .mypy_cache .ruff_cache .hypothesis .import_linter_cache
	find desktop tests -name __pycache__ -type d -prune -exec rm -rf {} +
	find desktop -name '*.egg-info' -type d -prune -exec rm -rf {} +
