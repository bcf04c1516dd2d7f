#!/usr/bin/env bash
# spark/deps.sh: what `siyu run --engine spark` needs, installed the ordinary way and only when
# missing: a JDK 17+ from Debian (apt) and pyspark (it carries Spark's jars) from PyPI for python3.
# Prints what it found; exits non-zero when something could not be installed.
#   bash spark/deps.sh            install what is missing
#   bash spark/deps.sh --check    only report, install nothing (exit 1 when something is missing)
set -euo pipefail
PYSPARK_VERSION="${PYSPARK_VERSION:-4.3.0}"   # Spark 4.x: Java 17 or 21, Python 3.10+
JDK_PACKAGE="${JDK_PACKAGE:-openjdk-17-jre-headless}"
PYTHON="${PYTHON:-python3}"
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
check_only=0; [ "${1:-}" = "--check" ] && check_only=1

java_major() {
  command -v java >/dev/null 2>&1 || { echo 0; return; }
  java -version 2>&1 | sed -n '1s/.*version "\([0-9]*\).*/\1/p'
}

missing=0
if [ "$(java_major)" -ge 17 ] 2>/dev/null; then
  echo "java: $(java -version 2>&1 | head -1)"
elif [ $check_only = 1 ]; then
  echo "java: missing (need 17+; apt-get install $JDK_PACKAGE)"; missing=1
else
  echo "installing $JDK_PACKAGE (apt)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$JDK_PACKAGE"
  [ "$(java_major)" -ge 17 ] || { echo "error: java 17+ still not found after installing $JDK_PACKAGE" >&2; exit 1; }
fi

have=$("$PYTHON" -c 'import pyspark; print(pyspark.__version__)' 2>/dev/null || true)
if [ "$have" = "$PYSPARK_VERSION" ]; then
  echo "pyspark: $have ($("$PYTHON" --version 2>&1))"
elif [ $check_only = 1 ]; then
  echo "pyspark: ${have:-missing} (want $PYSPARK_VERSION; $PYTHON -m pip install pyspark==$PYSPARK_VERSION)"; missing=1
else
  echo "installing pyspark==$PYSPARK_VERSION for $PYTHON (pip; a ~456 MB download, ~490 MB installed)"
  "$PYTHON" -m pip install --quiet "pyspark==$PYSPARK_VERSION" \
    || "$PYTHON" -m pip install --quiet --user --break-system-packages "pyspark==$PYSPARK_VERSION"
  "$PYTHON" -c 'import pyspark' || { echo "error: pyspark still not importable" >&2; exit 1; }
fi
exit $missing
