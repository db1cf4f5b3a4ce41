# khorasan-atlas: the two commands are `make run` and `make test`.
SHELL := /bin/bash
CARGO ?= cargo
PORT ?= 8080

.PHONY: run test deps build web lint fmt bench clean

## Build the server and the map page, then serve the default atlas on http://localhost:$(PORT)
run: web
	$(CARGO) build --release
	./target/release/khorasan-atlas --config geodata/atlas.toml --listen 127.0.0.1:$(PORT)

build:
	$(CARGO) build --release

## The map page: Leaflet and plug-ins from npm (pinned by web/package-lock.json) into web/dist
web: web/dist/index.html

web/dist/index.html: web/package.json web/package-lock.json $(wildcard web/src/*) web/build.mjs
	cd web && npm ci --no-audit --no-fund && npm run build

## System packages the tests need (GDAL, Chromium, QGIS, ...): installed when missing
deps:
	bash scripts/install-deps.sh

## Every test: formatting, lints, unit and integration tests, real GIS client, real browser.
## One release build is shared by every script that starts the server (SKIP_BUILD=1).
test: deps web
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) test --all-targets
	$(CARGO) test --doc
	bash tests/web-unit.sh
	bash tests/audit.sh
	$(CARGO) build --release
	SKIP_BUILD=1 bash tests/gdal/run.sh
	SKIP_BUILD=1 bash tests/gdal/roundtrip.sh
	SKIP_BUILD=1 bash tests/qgis/run.sh
	SKIP_BUILD=1 bash tests/browser/run.sh
	SKIP_BUILD=1 bash tests/contract/run.sh

lint:
	$(CARGO) clippy --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

## Criterion benches and loopback load tests (figures, not pass/fail)
bench:
	$(CARGO) bench
	bash benches/load.sh
	bash benches/tiles_load.sh
	bash benches/write_load.sh
	# optional, long: bash benches/crash_long.sh [CYCLES] [WRITERS]

clean:
	$(CARGO) clean
	rm -rf web/dist web/node_modules tests/browser/node_modules
