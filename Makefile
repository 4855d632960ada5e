# Vigía: `make demo` runs the whole pipeline on a simulated district; `make test` runs the tests.
# Both install what they need first (apt, pip, Maven) and are safe to run again.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_SECONDS ?= 60

.PHONY: install lock system demo test unit integration lint bench bench-ingest bench-inference bench-inference-worker bench-stream bench-api bench-api-cpu bench-scale bench-state drills drills-cluster drills-deliveries train up down status clean

# Checkers of the deployment files whose libraries clash with the services' (checkov's many
# pins; check-jsonschema wants a newer click than Faust takes) live in a virtualenv of their own.
TOOLS_VENV := .venv-tools
TOOLS_STAMP := $(TOOLS_VENV)/.installed
TOOLS := checkov==3.3.30 check-jsonschema==0.39.0 uv==0.13.8

# What the page loads besides its own files (Leaflet), from npm at the versions of its lock.
WEB_STAMP := api/web/node_modules/.installed

install: system $(STAMP) $(TOOLS_STAMP) $(WEB_STAMP)

system:
	bash deploy/local/install-system.sh

# Exactly the locked versions and hashes (requirements-dev.lock: the image's requirements.lock
# plus the test tools), then the project itself without resolving anything again.
$(STAMP): pyproject.toml requirements-dev.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

# Remake the locks after changing pyproject.toml: pins already in them are kept where they still fit;
# `make lock UPGRADE=--upgrade` moves everything to the newest versions allowed.
UV_COMPILE = $(TOOLS_VENV)/bin/uv pip compile pyproject.toml --python-version 3.11 \
	--python-platform x86_64-manylinux_2_28 --generate-hashes --annotation-style line \
	--custom-compile-command "make lock" $(UPGRADE)

lock: $(TOOLS_STAMP)
	$(UV_COMPILE) -o requirements.lock
	$(UV_COMPILE) --extra dev -c requirements.lock -o requirements-dev.lock

$(WEB_STAMP): api/web/package-lock.json
	cd api/web && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $(WEB_STAMP)

$(TOOLS_STAMP): Makefile
	test -x $(TOOLS_VENV)/bin/python || $(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/pip install --quiet $(TOOLS)
	touch $(TOOLS_STAMP)

demo: install
	$(BIN)/vigia demo --seconds $(DEMO_SECONDS)

test: install lint
	$(BIN)/pytest

unit: $(STAMP)
	$(BIN)/pytest -m "not integration"

integration: install
	$(BIN)/pytest -m integration

bench: bench-ingest bench-inference bench-inference-worker bench-stream bench-api bench-api-cpu bench-state

bench-ingest: install
	$(BIN)/python -m bench.ingest --messages 100000

bench-inference: install
	$(BIN)/python -m bench.inference

bench-inference-worker: install
	$(BIN)/python -m bench.inference_worker

bench-stream: install
	$(BIN)/python -m bench.stream

bench-api: install
	$(BIN)/python -m bench.api

bench-api-cpu: install
	$(BIN)/python -m bench.api_cpu

# 1,000, 10,000 and 100,000 sensors in one district: registry, stream memory, API latency, storage.
bench-scale: install
	$(BIN)/python -m bench.scale --plot docs/images/scale.png

# The imagery change threshold between a tile seen twice and tiles of different classes.
bench-change: install
	$(BIN)/python -m bench.change

# The imagery model on tiles as other sensors would show them, before and after AdaBN.
bench-sources: install
	$(BIN)/python -m bench.sources $(MODELS)

# The stream worker's window memory per sensor and metric, against the same run without eviction.
bench-state: $(STAMP)
	$(BIN)/python -m bench.state

# Faults against a private stack while numbered readings flow, then against a cluster (three Kafka
# brokers, two bridges, three stream workers) and a 20,000-sensor soak, then alert deliveries
# while Kannel and the SMTP server fail; prints the tables of docs/reliability.md.
drills: install
	$(BIN)/python -m drills.run
	$(BIN)/python -m drills.cluster
	$(BIN)/python -m drills.deliveries

drills-deliveries: install
	$(BIN)/python -m drills.deliveries

drills-cluster: install
	$(BIN)/python -m drills.cluster

# Retrain the tile model on the shared tiles (about 20 minutes on two cores); see README.
train: install
	$(BIN)/vigia train

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy vigia ingest stream inference api notify ops simulate bench drills

up: install
	$(BIN)/vigia up

down:
	$(BIN)/vigia down

status:
	$(BIN)/vigia status

clean: down
	$(BIN)/vigia down --purge
	rm -rf $(VENV) $(TOOLS_VENV) build *.egg-info
