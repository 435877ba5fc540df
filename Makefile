# Abode: `make run` serves the site with demo data on SQLite; `make test` runs every test.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app wsgi
HOST   ?= 127.0.0.1
PORT   ?= 5000
# Test workers (pytest-xdist); each has its own database and Redis db (tests/support/workers.py). 0 = one process.
PYTEST_WORKERS ?= 3

.PHONY: install run test bench bench-bookings bench-emails migrate lint clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# These targets are for a workstation: the development config generates the checkout's own keys into
# instance/secrets.json on first start (APP_CONFIG unset means development too; deploy with production).
run migrate: export APP_CONFIG ?= development

run: install
	$(FLASK) db upgrade
	$(FLASK) seed
	$(FLASK) run --host $(HOST) --port $(PORT)

test: install  ## make test PYTEST_WORKERS=0: in one process; PYTEST_ARGS="-x tests/bookings": other pytest options
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

bench: install  ## make bench BENCH_ARGS="--reuse": the search benchmark at 100k listings (bench/README.md)
	$(BIN)/python bench/search.py $(BENCH_ARGS)

bench-bookings: install  ## make bench-bookings BENCH_ARGS="--hot-share 0.6": concurrent bookings + audit (bench/README.md)
	$(BIN)/python bench/bookings.py $(BENCH_ARGS)

bench-emails: install  ## make bench-emails BENCH_ARGS="--workers 1": email delivery throughput (bench/README.md)
	$(BIN)/python bench/emails.py $(BENCH_ARGS)

migrate: install  ## make migrate m="what changed": autogenerate a revision (review it before committing)
	$(FLASK) db migrate -m "$(m)"

lint: install  ## ruff over the code, the tests and the benchmarks
	$(BIN)/ruff check app tests bench

clean:
	rm -rf $(VENV) instance .pytest_cache
