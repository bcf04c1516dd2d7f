#!/usr/bin/env bash
# siyu benchmark: builds siyu in release, installs the peers' libraries if missing, generates data
# (1M order lines by default; BENCH_ORDERS=10000000 or --10m for 10M) and runs bench/bench.py.
#   bash bench/run.sh                  # 1M order lines
#   bash bench/run.sh --10m            # 10M (BENCH_ORDERS=10000000 does the same)
#   bash bench/run.sh --orders 200000 --example    # any bench.py flag passes through
set -euo pipefail
cd "$(dirname "$0")/.."

args=()
for a in "$@"; do
  case "$a" in
    --10m) args+=(--orders 10000000) ;;
    --1m) args+=(--orders 1000000) ;;
    *) args+=("$a") ;;
  esac
done

PYTHON=${PYTHON:-python3}
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
  || { echo "bench: Python 3.11+ is needed (tomllib)" >&2; exit 1; }
command -v swift >/dev/null || { echo "bench: swift (6.x) is not on PATH" >&2; exit 1; }

echo "[bench] swift build -c release --product siyu" >&2
swift build -c release --product siyu >&2

if ! "$PYTHON" -c 'import duckdb, pandas' 2>/dev/null; then
  echo "[bench] installing duckdb and pandas with pip" >&2
  "$PYTHON" -m pip install --quiet duckdb pandas \
    || "$PYTHON" -m pip install --quiet --user duckdb pandas \
    || "$PYTHON" -m pip install --quiet --break-system-packages duckdb pandas
fi

if [[ " ${args[*]} " != *" --skip-spark "* ]]; then
  echo "[bench] the Spark engine's JDK and pyspark (spark/deps.sh, only what is missing)" >&2
  bash spark/deps.sh >&2
fi

exec "$PYTHON" bench/bench.py "${args[@]}"
