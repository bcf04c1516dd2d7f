# siyu — make run (install, build, run on sample-data/), make test, make bench.
SHELL := /bin/bash
PIPELINE ?= pipelines/sample.toml
APT_PACKAGES := libcsv-dev libsqlite3-dev libxml2-dev libxlsxwriter-dev
# make test also opens the report in headless Chromium (Debian's, driven by Debian's selenium; no browser download)
TEST_APT_PACKAGES := chromium chromium-driver python3-selenium fonts-wqy-microhei
# Debian's python3 (python3-selenium is installed for it, whatever python3 is first on PATH)
BROWSER_PYTHON ?= /usr/bin/python3
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SIYU := .build/release/siyu

.PHONY: all deps spark-deps spark-test test-deps build build-debug run test unit crosscheck crosscheck-deps browser e2e bench bench-models clean sample-data

all: build

# Installs the Debian packages given that are missing.
define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
endef

## deps: install the Debian packages siyu needs, only those missing
deps:
	$(call apt_install,$(APT_PACKAGES))
	@command -v swift >/dev/null || { echo "error: swift (6.x) is not on PATH; install the Swift toolchain first"; exit 1; }

## spark-deps: a JDK 17+ (Debian) and pyspark (PyPI) for the Spark engine (docs/spark.md), only when missing
spark-deps:
	@bash spark/deps.sh

## spark-test: the Spark engine (local mode) against the embedded one: every CSV, index.html and report.xlsx
## byte-identical on the sample, a messy copy of it and three fixtures; a failed job keeps the report
spark-test: spark-deps
	swift build --product siyu
	python3 Tests/spark/spark_test.py --siyu .build/debug/siyu --master 'local[2]'

## test-deps: what the browser test needs besides (Chromium, its driver, selenium, a CJK font)
test-deps: crosscheck-deps
	$(call apt_install,$(TEST_APT_PACKAGES))

build: deps
	swift build -c release --product siyu

## run: the whole pipeline on sample-data/ (exit 2 = finished with quarantined rows: still a report)
run: build
	@mkdir -p build
	@rc=0; $(SIYU) run --pipeline $(PIPELINE) 2>build/run-stderr.log || rc=$$?; cat build/run-stderr.log >&2; \
	if [ $$rc -eq 1 ] && grep -q "built by another version of siyu" build/run-stderr.log; then \
	  echo "make run: the sample warehouse is from an older siyu; rebuilding it from the sample files (siyu run --full)" >&2; \
	  rc=0; $(SIYU) run --full --pipeline $(PIPELINE) || rc=$$?; \
	fi; \
	if [ $$rc -ne 0 ] && [ $$rc -ne 2 ]; then exit $$rc; fi; \
	out=$$(sed -n 's/^output *= *"\(.*\)".*/\1/p' $(PIPELINE) | head -1); \
	echo; echo "Open the report: $$(cd "$$(dirname $$out)" && pwd)/$$(basename $$out)/index.html"

## test: unit and end-to-end tests (XCTest), the independent Python cross-check on sample-data/,
## the report in headless Chromium (screenshots and PDFs in build/browser/), then the Spark engine
## against the embedded one (spark-test)
test: deps test-deps
	swift build --product siyu
	swift test --disable-swift-testing
	$(MAKE) --no-print-directory crosscheck
	$(MAKE) --no-print-directory browser
	$(MAKE) --no-print-directory spark-test

## browser: the sample's, the weekly sample's and a mid-month report in headless Chromium
browser: test-deps
	@rm -rf build/browser && mkdir -p build/browser
	.build/debug/siyu run --quiet --pipeline $(PIPELINE) --warehouse build/browser/sample.sqlite --output build/browser/sample >/dev/null || [ $$? -eq 2 ]
	.build/debug/siyu run --quiet --pipeline pipelines/sample-weekly.toml --as-of 2025-06-15 --warehouse build/browser/weekly.sqlite --output build/browser/weekly >/dev/null || [ $$? -eq 2 ]
	@# an as-of date inside a month: the month in progress is drawn hatched and dashed
	.build/debug/siyu run --quiet --pipeline $(PIPELINE) --as-of 2025-06-12 --warehouse build/browser/partial.sqlite --output build/browser/partial >/dev/null || [ $$? -eq 2 ]
	$(BROWSER_PYTHON) Tests/browser/test_report.py --out build/browser --partial partial=build/browser/partial sample=build/browser/sample weekly=build/browser/weekly

## crosscheck-deps: numpy and scipy for the model checks (Tests/crosscheck/predictions.py), with pip, only when missing
crosscheck-deps:
	@python3 -c "import numpy, scipy" 2>/dev/null || { echo "installing numpy and scipy for python3 (pip)"; \
	  python3 -m pip install --quiet numpy scipy || python3 -m pip install --quiet --user --break-system-packages numpy scipy; }

crosscheck: crosscheck-deps
	@rm -rf build/crosscheck && mkdir -p build/crosscheck
	python3 Tests/crosscheck/test_xlsx.py
	.build/debug/siyu run --quiet --pipeline $(PIPELINE) --warehouse build/crosscheck/warehouse.sqlite --output build/crosscheck/siyu >/dev/null || [ $$? -eq 2 ]
	python3 Tests/crosscheck/crosscheck.py --pipeline $(PIPELINE) --out build/crosscheck/python --compare build/crosscheck/siyu
	@# ISO weeks and an as-of date inside the data (partial periods, incomplete windows, later orders ignored)
	.build/debug/siyu run --quiet --pipeline pipelines/sample-weekly.toml --as-of 2025-06-15 --warehouse build/crosscheck/weekly.sqlite --output build/crosscheck/siyu-weekly >/dev/null || [ $$? -eq 2 ]
	python3 Tests/crosscheck/crosscheck.py --pipeline pipelines/sample-weekly.toml --as-of 2025-06-15 --out build/crosscheck/python-weekly --compare build/crosscheck/siyu-weekly
	@# the customer models per acquisition platform (segments of 150+ customers) and a 60-day horizon
	sed -e 's/^horizon_days = 90/horizon_days = 60/' -e 's/^segment_min_customers = 500/segment_min_customers = 150/' pipelines/sample.toml > build/crosscheck/segments.toml
	grep -q '^horizon_days = 60' build/crosscheck/segments.toml && grep -q '^segment_min_customers = 150' build/crosscheck/segments.toml
	.build/debug/siyu run --quiet --pipeline build/crosscheck/segments.toml --as-of 2025-11-30 --warehouse build/crosscheck/segments.sqlite --output build/crosscheck/siyu-segments >/dev/null || [ $$? -eq 2 ]
	python3 Tests/crosscheck/crosscheck.py --pipeline build/crosscheck/segments.toml --as-of 2025-11-30 --out build/crosscheck/python-segments --compare build/crosscheck/siyu-segments

## bench: siyu full rebuild and nightly increment against DuckDB and pandas peers (1M order lines;
## BENCH_ORDERS=10000000 make bench for 10M); results in bench/results/
bench: deps
	bash bench/run.sh $(BENCH_ARGS)

## bench-models: the customer models alone on 1,000,000 simulated customers (fit BG/NBD and
## Gamma-Gamma, predict every customer), in release
bench-models:
	SIYU_BENCH_MODELS=1 swift test -c release -Xswiftc -enable-testing --disable-swift-testing --filter ModelTests/testBenchMillionCustomers 2>&1 | grep -E "BENCH|error|failed"

sample-data:
	python3 sample-data/generate.py

clean:
	rm -rf .build build
