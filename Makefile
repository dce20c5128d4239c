# Two commands on a fresh Debian/Ubuntu machine with Python 3.11:
#   make demo   - install what is missing, start the embedded PostGIS, load the sample data, serve :8000
#   make test   - install what is missing, run ruff, mypy, the import contracts and the whole pytest suite
SHELL := /bin/bash
VENV ?= .venv
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Debian packages the project needs: PostgreSQL 15 + PostGIS 3 (embedded database, tests),
# docker-compose (validates docker-compose.yml in a test; no engine needed), chromium + a Japanese font
# (browser tests, legible screenshots), wrk (the API load benchmark), a C compiler and Python's headers
# (the load's hot modules compiled with mypyc: make compile).
SYSTEM_PACKAGES := postgresql-15 postgresql-15-postgis-3 docker-compose chromium fonts-ipafont-gothic wrk \
	gcc python3-dev
# The interpreter the virtualenv is made from: Debian's own python3.11 when the machine has it (built
# with profile-guided optimisation and link-time optimisation, it runs a load's Python ~11% faster
# than a plain source build such as pyenv's; bench/results/ingest_bench.md), else python3 on the PATH.
PYTHON ?= $(firstword $(wildcard /usr/bin/python3.11) python3)

.PHONY: demo test faults system venv vendor compile lint clean-data

system:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	$(PYTHON) -c 'import ensurepip' 2>/dev/null || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv --clear $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

venv: $(VENV)/.installed

# The page's map library comes from npm (web/package-lock.json) and is served by us, never from a CDN.
VENDOR_DIR := api/static/vendor
$(VENDOR_DIR)/.installed: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	mkdir -p $(VENDOR_DIR)/images
	cp web/node_modules/leaflet/dist/leaflet.js web/node_modules/leaflet/dist/leaflet.css $(VENDOR_DIR)/
	cp web/node_modules/leaflet/dist/images/*.png $(VENDOR_DIR)/images/
	cp web/node_modules/leaflet.markercluster/dist/leaflet.markercluster.js \
	   web/node_modules/leaflet.markercluster/dist/MarkerCluster.css \
	   web/node_modules/leaflet.markercluster/dist/MarkerCluster.Default.css $(VENDOR_DIR)/
	cp web/node_modules/leaflet/LICENSE $(VENDOR_DIR)/LICENSE-leaflet.txt
	cp web/node_modules/leaflet.markercluster/MIT-LICENCE.txt $(VENDOR_DIR)/LICENSE-markercluster.txt
	touch $@

vendor: $(VENDOR_DIR)/.installed

# The load's hot modules compiled with mypyc into .build/compiled/ (kosodate/build_compiled.py): used
# only while they match the sources (geo/_compiled.py), rebuilt here when any of them changed.
compile: system venv
	$(VENV)/bin/python -m kosodate.build_compiled

demo: system venv vendor compile
	$(VENV)/bin/kosodate demo

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(VENV)/bin/lint-imports

test: system venv vendor compile lint
	$(VENV)/bin/pytest

# The fault-injection and abuse suite alone (issue 9): kill -9 mid-ingest, a slow or broken Meilisearch,
# a full or read-only disk, fuzzed files, hostile API requests. Part of `make test` too.
faults: system venv vendor compile
	$(VENV)/bin/pytest -m fault

clean-data:
	-$(VENV)/bin/kosodate db down
	rm -rf .data
