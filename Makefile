# Podium: `make demo` runs it on the embedded default, `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: demo serve test fuzz lint format bench-judging bench-judging-family bench-judging-commands bench-requests bench-registration bench-live bench-scoring bench-scanning bench-scanner bench-badges bench-ranking bench-reminders bench-incubator-dashboard migration clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Podium needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml frontend/scanner/package-lock.json | $(BIN)/python
	@echo "Installing Podium into $(VENV)…"
	$(PIP) install -e .
	bash scripts/build-static.sh  # the scanner's QR decoder from npm into backend/static/vendor (no CDN)
	@touch $@

$(VENV)/.installed-test: pyproject.toml frontend/scanner/package-lock.json | $(BIN)/python
	@echo "Installing Podium with its test tools into $(VENV)…"
	$(PIP) install -e '.[test]'
	bash scripts/build-static.sh
	@touch $@ $(VENV)/.installed

demo: $(VENV)/.installed  ## migrate an SQLite file, load the demo, serve http://127.0.0.1:8000
	$(BIN)/podium demo
	$(BIN)/podium serve

serve: $(VENV)/.installed
	$(BIN)/podium serve --migrate

test: $(VENV)/.installed-test  ## PostgreSQL + Redis + Chromium and a CJK font, then lint and the whole suite
	bash scripts/ensure-services.sh
	bash scripts/ensure-chromium.sh
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@$(BIN)/python -m pytest -n 2 --dist loadfile; status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$status

fuzz: $(VENV)/.installed-test  ## the OpenAPI fuzzing with 200 examples per operation and caller (make test runs 25; ~20 min)
	bash scripts/ensure-services.sh
	PODIUM_FUZZ_EXAMPLES=200 $(BIN)/python -m pytest -n 2 tests/integration/test_openapi_fuzz.py

lint: $(VENV)/.installed-test
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: $(VENV)/.installed-test
	$(BIN)/ruff check --fix . && $(BIN)/ruff format .

bench-judging: $(VENV)/.installed  ## the judging engine benchmark (minutes; see docs/BENCHMARKS.md)
	$(BIN)/python -m bench.judging

bench-judging-family: $(VENV)/.installed  ## every method against the raw mean over 200 random designs (issue 7)
	$(BIN)/python -m bench.judging_family

bench-judging-commands: $(VENV)/.installed  ## podium rank / assign, whole command, 500,000 and 5,000,000 rows (~30 min; issue 13)
	$(BIN)/python -m bench.judging_commands

bench-requests: $(VENV)/.installed  ## authenticated read vs a durable write on PostgreSQL + Redis (~2 min; uses wrk if installed)
	$(BIN)/python -m bench.requests

bench-registration: $(VENV)/.installed  ## team creation and joining by code vs a one-row baseline, 64 clients, PostgreSQL + Redis (~3 min; issue 9)
	$(BIN)/python -m bench.registration

bench-live: $(VENV)/.installed  ## live final: a mark submitted to one app process shown on another's stream, 640 marks, PostgreSQL + Redis (~1 min; issue 10)
	$(BIN)/python -m bench.live_final

bench-ranking: $(VENV)/.installed  ## a 10,000-entry stage ranked as a job through HTTP and a real arq worker, PostgreSQL + Redis (~3 min; issue 10)
	$(BIN)/python -m bench.ranking_job

bench-scoring: $(VENV)/.installed  ## score-sheet submission vs a one-row baseline, 64 judges, PostgreSQL + Redis (~2 min; issue 10)
	$(BIN)/python -m bench.scoring

bench-scanning: $(VENV)/.installed  ## ticket scans vs a one-UPDATE baseline, 64 scanning devices, PostgreSQL (~3 min; issue 11)
	$(BIN)/python -m bench.scanning

bench-badges: $(VENV)/.installed  ## QR PNG, badges and codes.check vs the obvious way, and 15,000 badges by two arq workers, PostgreSQL + Redis (~3 min; issue 11)
	$(BIN)/python -m bench.ticket_images

bench-scanner: $(VENV)/.installed  ## the scanner page's offline check of a code in Chromium vs the server's (~1 min; issue 11)
	$(BIN)/python -m bench.scanner_page

bench-reminders: $(VENV)/.installed  ## report reminders for 10,000 startups, one run then two at once, PostgreSQL (~2 min; issue 12)
	$(BIN)/python -m bench.incubator_reminders

bench-incubator-dashboard: $(VENV)/.installed  ## the programme dashboard over 1,000 startups × 36 monthly reports, PostgreSQL (~2 min; issue 12)
	$(BIN)/python -m bench.incubator_dashboard

migration: $(VENV)/.installed  ## write a migration for changed tables: make migration DESC="what changed"
	PICCOLO_CONF=backend.piccolo_conf PODIUM_DATA_DIR=$$(mktemp -d) $(BIN)/piccolo migrations new podium --auto --desc="$(DESC)"

clean:
	rm -rf $(VENV) var *.egg-info
