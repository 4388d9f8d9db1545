# Weijian: `make run` and `make test` work on a fresh machine (they set up what they need).
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha256sum requirements.lock pyproject.toml 2>/dev/null | sha256sum | cut -c1-12)
APT_PACKAGES := xmlsec1 fonts-noto-cjk libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0 chromium poppler-utils
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test lint bench install system-packages migrate demo clean lock cluster modeler

# `make cluster`: the Procfile (gunicorn, two Celery workers, two schedulers) on local PostgreSQL
# and Redis, in production mode. Override any of these on the command line.
CLUSTER_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/weijian_cluster
CLUSTER_REDIS_URL ?= redis://127.0.0.1:6379/2
CLUSTER_PORT ?= 8000
CLUSTER_DIR ?= instance/cluster
CLUSTER_DEMO ?= 1

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(STAMP): $(BIN)/python requirements.lock pyproject.toml
	$(BIN)/python -m pip install -q --disable-pip-version-check "uv>=0.4,<1"
	$(BIN)/uv pip install -q --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

# Debian packages the test suite needs (independent XML-signature verifier, browser, CJK font).
system-packages:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

migrate: install
	$(BIN)/weijian db upgrade

demo: migrate
	$(BIN)/weijian deploy
	$(BIN)/weijian demo load

# The demo units' seal passphrase (processes/penalty/demo.py); production sets its own.
run demo: export WEIJIAN_SEAL_PASSPHRASE ?= weijian-demo-seal

run: install system-packages demo
	$(BIN)/weijian serve --host 127.0.0.1 --port 5000

test: install system-packages
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: install
	$(BIN)/python -m bench.engine --json
	$(BIN)/python -m bench.signing --json
	$(BIN)/python -m bench.seal --json
	$(BIN)/python -m bench.inbox --json
	$(BIN)/python -m bench.inspections --json
	$(BIN)/python -m bench.load --json
	$(BIN)/python -m bench.complaints --json
	$(BIN)/python -m bench.pages --json
	$(BIN)/python -m bench.inspections_public --json

lock: $(BIN)/python
	$(BIN)/python -m pip install -q "uv>=0.4,<1"
	$(BIN)/uv pip compile -q pyproject.toml --extra dev -o requirements.lock

# Plain HTTP on 127.0.0.1, so cookies may not demand HTTPS here (they do by default in production).
cluster: install
	@mkdir -p $(CLUSTER_DIR)
	@test -s $(CLUSTER_DIR)/secret_key || (umask 077; $(BIN)/python -c "import secrets; print(secrets.token_hex(32))" > $(CLUSTER_DIR)/secret_key)
	@test -s $(CLUSTER_DIR)/seal_passphrase || (umask 077; $(BIN)/python -c "import secrets; print(secrets.token_urlsafe(24))" > $(CLUSTER_DIR)/seal_passphrase)
	@test -s $(CLUSTER_DIR)/complaint_keys || (umask 077; $(BIN)/python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())" > $(CLUSTER_DIR)/complaint_keys)
	export DATABASE_URL='$(CLUSTER_DATABASE_URL)' REDIS_URL='$(CLUSTER_REDIS_URL)' WEIJIAN_ENV=production \
	  SECRET_KEY="$$(cat $(CLUSTER_DIR)/secret_key)" WEIJIAN_SEAL_PASSPHRASE="$$(cat $(CLUSTER_DIR)/seal_passphrase)" WEIJIAN_COMPLAINT_KEYS="$$(cat $(CLUSTER_DIR)/complaint_keys)" WEIJIAN_UPLOAD_DIR='$(abspath $(CLUSTER_DIR))/uploads' \
	  WEIJIAN_SECURE_COOKIES=0 WEIJIAN_SCHEDULER=0 WEIJIAN_PORT='$(CLUSTER_PORT)' PATH="$(abspath $(BIN)):$$PATH" && \
	weijian db create && weijian db upgrade && weijian deploy >/dev/null && \
	if [ '$(CLUSTER_DEMO)' = 1 ]; then weijian demo load; fi && \
	exec honcho -f Procfile start

# The BPMN editor bundle (web/static/vendor/weijian-modeler/, committed): only after changing
# web/modeler/; needs node and npm, `make run` does not.
modeler:
	cd web/modeler && npm ci && npm run build

clean:
	rm -rf $(VENV) instance/*.db .pytest_cache .mypy_cache .ruff_cache
