# The commands the README names. `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
FLASK  := $(VENV)/bin/flask --app wsgi
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test bench load install dev-install setup check-content clean oidc-demo

run: setup  ## migrate, load content, create demo accounts, serve on http://127.0.0.1:5000
	$(FLASK) run --host $(HOST) --port $(PORT)

setup: install
	mkdir -p instance
	$(FLASK) db upgrade
	$(FLASK) lms content load
	$(FLASK) lms evidence dev-key
	$(FLASK) lms audit migrate-v1
	$(FLASK) lms demo

test: dev-install  ## the whole suite (set TEST_DATABASE_URL to run it on PostgreSQL)
	$(PY) -m pytest $(PYTEST_ARGS)

bench: dev-install  ## benchmarks against a bare baseline measured in the same run (see bench/README.md)
	$(PY) bench/assessment.py
	$(PY) bench/dashboard.py
	$(PY) bench/evidence.py
	$(PY) bench/audit_log.py
	$(PY) bench/item_stats.py
	$(PY) bench/pages.py
	$(PY) bench/roster_import.py
	$(PY) bench/clearance.py
	$(PY) bench/scim.py

load: dev-install  ## the load and fault suite on PostgreSQL (L1 200 agents for 5 min, L2 a worker killed mid-submit)
	$(PY) bench/load.py

oidc-demo: install  ## beside `make run`: a demo OpenID Provider on http://127.0.0.1:4000 for Atlas Customer Care
	cd tests/sso/provider && (test -d node_modules/oidc-provider || npm ci --no-audit --no-fund)
	$(FLASK) sso demo-connection --issuer http://127.0.0.1:4000
	cd tests/sso/provider && PORT=4000 node server.js demo.json

check-content: install
	$(FLASK) lms content check

install: $(VENV)/.runtime-installed
dev-install: $(VENV)/.dev-installed

$(VENV)/.runtime-installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements-dev.txt $(VENV)/.runtime-installed
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

clean:
	rm -rf $(VENV) instance .pytest_cache
