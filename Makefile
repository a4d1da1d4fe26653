# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test check lint types bench venv node package manifest-schema e2e screenshots clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

# Node packages for the card validation (make test) and the end-to-end suite, exactly as locked.
NODE_STAMP := node_modules/.installed

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

node: $(NODE_STAMP)

## Runs the bot on the embedded store, local mode (no credentials, 127.0.0.1 only).
run: $(STAMP)
	SAFESESSION_LOCAL=1 $(PY) app.py

## Runs the whole suite: lint, types, tests.
test: check

check: lint types $(NODE_STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

types: $(STAMP)
	$(VENV)/bin/mypy
	$(VENV)/bin/mypy bench/store.py bench/turns.py bench/journey.py bench/stock_echo_bot.py

## Runs the benchmarks (never part of make test): prints the figures, writes bench/results/.
bench: $(STAMP)
	$(PY) -m bench.store
	$(PY) -m bench.turns

## Writes build/safesession.zip for Teams (bot id from MicrosoftAppId, app id SAFESESSION_TEAMS_APP_ID).
package: $(STAMP)
	$(PY) -m manifest.package

# The Teams manifest schema, vendored from npm @microsoft/app-manifest (see manifest/schema/README.md).
APP_MANIFEST_NPM := 1.1.2
MANIFEST_SCHEMA := v1.30

manifest-schema:
	tmp=$$(mktemp -d) && (cd $$tmp && npm pack --silent @microsoft/app-manifest@$(APP_MANIFEST_NPM) >/dev/null \
	  && tar xzf microsoft-app-manifest-$(APP_MANIFEST_NPM).tgz) \
	  && cp $$tmp/package/build/json-schemas/teams/$(MANIFEST_SCHEMA)/MicrosoftTeams.schema.json manifest/schema/ \
	  && rm -rf $$tmp

# A network namespace with only loopback: nothing the bot, the Playground or Chromium does can
# leave the machine. Root makes one directly; anyone else maps themselves to root in a user namespace.
UNSHARE := $(if $(filter 0,$(shell id -u)),unshare --net,unshare --map-root-user --net)

## Runs the end-to-end suite in the Agents Playground with headless Chromium; screenshots in build/e2e/.
## `make e2e E2E=team_channel` runs only the scenario files whose names contain that.
e2e: $(STAMP) $(NODE_STAMP)
	$(UNSHARE) sh -c 'ip link set lo up && exec node tests/e2e/run.js $(E2E)'

## Runs the end-to-end suite and copies its key screenshots into docs/screenshots/ for the README.
screenshots: e2e
	mkdir -p docs/screenshots
	cp build/e2e/welcome.png build/e2e/help.png build/e2e/pre-session-message.png \
	  build/e2e/in-session-card.png build/e2e/emergency-acknowledged.png docs/screenshots/

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache build
