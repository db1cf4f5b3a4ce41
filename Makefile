# khorasan-atlas: the two commands are `make run` and `make test`.
SHELL := /bin/bash
CARGO ?= cargo
PORT ?= 8080

.PHONY: run test deps build web lint fmt bench clean fuzz fuzz-smoke

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
## The tests run in the release profile, so that the dependencies are compiled once for them
## and for the release build that every script starting the server shares (SKIP_BUILD=1).
test: deps web
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --release --all-targets -- -D warnings
	$(CARGO) test --release --all-targets
	$(CARGO) test --release --doc
	bash tests/web-unit.sh
	bash tests/audit.sh
	$(CARGO) build --release
	SKIP_BUILD=1 bash tests/cql2/run.sh
	SKIP_BUILD=1 bash tests/gdal/run.sh
	SKIP_BUILD=1 bash tests/gdal/roundtrip.sh
	SKIP_BUILD=1 bash tests/pmtiles/run.sh
	SKIP_BUILD=1 bash tests/postgis/run.sh
	SKIP_BUILD=1 bash tests/postgis/replicas.sh
	SKIP_BUILD=1 bash tests/qgis/run.sh
	SKIP_BUILD=1 bash tests/browser/run.sh
	SKIP_BUILD=1 bash tests/csv/run.sh
	SKIP_BUILD=1 bash tests/contract/run.sh

lint:
	$(CARGO) clippy --release --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

## Criterion benches and loopback load tests (figures, not pass/fail)
bench:
	$(CARGO) bench
	bash benches/targets.sh
	POINTS=100000 ROWS=tiles bash benches/targets.sh
	POINTS=10000000 ROWS="load items radius nearest tiles growth" bash benches/targets.sh
	bash benches/instructions.sh
	bash benches/load_wall.sh
	bash benches/load.sh
	bash benches/tiles_load.sh
	bash benches/write_load.sh
	bash benches/write_1m.sh
	bash benches/cql2_load.sh
	bash benches/versus_martin.sh
	# optional, long: bash benches/crash_long.sh [CYCLES] [WRITERS]
	# optional, long: bash benches/soak.sh [SECONDS]

## Fuzz every target (FUZZ_SECONDS each, default 600), 2 at a time; installs nightly and
## cargo-fuzz when missing. See fuzz/README.md.
fuzz:
	bash scripts/fuzz.sh $(or $(FUZZ_SECONDS),600)

## 20 seconds of each fuzz target (the first fuzz build compiles every dependency with
## AddressSanitizer on nightly, which is why it is not part of `make test`)
fuzz-smoke:
	bash tests/fuzz-smoke.sh

clean:
	$(CARGO) clean
	rm -rf web/dist web/node_modules tests/browser/node_modules
