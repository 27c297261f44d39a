# The commands the README names. `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
FLASK  := $(VENV)/bin/flask --app wsgi
HOST   ?= 127.0.0.1
PORT   ?= 5000
export HOST PORT  # the app's development BASE_URL follows them (lms/config.py)

.PHONY: run demo test bench load install dev-install setup check-content clean oidc-demo \
        i18n-extract i18n-update i18n-compile

run: setup  ## migrate, load content, create demo accounts, serve on http://127.0.0.1:5000
	$(FLASK) run --host $(HOST) --port $(PORT)

demo: setup  ## as `make run`, plus 300 agents with 18 months of history for the staff pages (once per database)
	$(FLASK) lms demo --agents 300
	$(FLASK) run --host $(HOST) --port $(PORT)

setup: install i18n-compile
	mkdir -p instance
	$(FLASK) db upgrade
	$(FLASK) lms content load
	$(FLASK) lms evidence dev-key
	$(FLASK) lms audit migrate-v1
	$(FLASK) lms demo

# Two pytest-xdist workers, one per core: the browser tests and the page crawl leave a core idle
# while they wait on Chromium. Work stealing, because the crawl's five long tests (one per language)
# come first: a worker that runs out takes tests still queued on the other. TEST_WORKERS=0 runs the
# suite in one process.
TEST_WORKERS ?= 2

test: dev-install i18n-compile  ## the whole suite (set TEST_DATABASE_URL to run it on PostgreSQL)
	$(PY) -m pytest -n $(TEST_WORKERS) $(if $(filter-out 0,$(TEST_WORKERS)),--dist worksteal) $(PYTEST_ARGS)

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

# Interface translations (lms/i18n.py): one catalogue per audience in translations/<area>/, the
# files each takes its messages from listed in babel/<area>.cfg. Extract after changing strings,
# update the languages' .po files from it, translate, and compile (make run and make test compile).
I18N_AREAS := agent accounts documents staff authoring  # make i18n-update I18N_AREAS=agent: one catalogue
I18N_LANGUAGES := fr es pt ar
PYBABEL := $(VENV)/bin/pybabel

i18n-extract: install  ## collect the marked strings into translations/<area>/messages.pot
	for area in $(I18N_AREAS); do mkdir -p translations/$$area; \
	  $(PYBABEL) -q extract -F babel/$$area.cfg -k _l -k lazy_gettext --sort-by-file --ignore-dirs ".* __pycache__" \
	    --project "CallSafe Academy" --msgid-bugs-address "" -o translations/$$area/messages.pot . || exit 1; \
	done

i18n-update: i18n-extract  ## bring every language's catalogue up to date with the extracted strings
	for area in $(I18N_AREAS); do for lang in $(I18N_LANGUAGES); do \
	  if [ -f translations/$$area/$$lang/LC_MESSAGES/messages.po ]; then \
	    $(PYBABEL) -q update --no-fuzzy-matching -i translations/$$area/messages.pot -d translations/$$area -l $$lang || exit 1; \
	  else \
	    $(PYBABEL) -q init -i translations/$$area/messages.pot -d translations/$$area -l $$lang || exit 1; \
	  fi; done; done

i18n-compile: install  ## compile the catalogues (.po to .mo) the app reads
	for area in $(I18N_AREAS); do $(PYBABEL) -q compile -d translations/$$area || exit 1; done

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
