#!/bin/sh
# Reproductions for Tests/SiyuCoreTests/PredictionReviewTests.swift with the built binary (no test build).
# usage: Tests/review/predreview.sh [path/to/siyu]   (default .build/debug/siyu)
set -u
S=$(cd "$(dirname "$0")/../.." && pwd)/${1:-.build/debug/siyu}
[ -x "$S" ] || S=$1
W=$(mktemp -d /tmp/predreview.XXXXXX)
pipeline() { # $1: extra top-level [pipeline] lines, $2: [predictions] table
  printf '[pipeline]\n%bsalt = "test-salt-predictions"\nname = "shop"\nwarehouse = "out/w.sqlite"\noutput = "out/reports"\n[[source]]\nname = "shop"\nkind = "generic"\nfiles = ["orders/*.csv"]\ndefault_channel = "shop"\n[source.columns]\norder_id = "order"\nbuyer = "buyer"\npaid = "paid"\npay_time = "paid_at"\n%b' "$1" "$2" > p.toml
}
orders() { # $1 file, stdin: buyer day yuan
  mkdir -p orders; echo "order,buyer,paid,paid_at" > "orders/$1"; n=0
  while read b d y; do n=$((n+1)); echo "$1-O$n,$b,$y,$d 10:00:00" >> "orders/$1"; done
}
bypattern() { paste -d, out/reports/customer_summary.csv out/reports/customer_predictions.csv | tail -n +2 | cut -d, -f4-6,10-13 | sort | uniq -c; }

echo "== P1 second night: every repeat buyer bought on the as-of date"
mkdir -p $W/p1 && cd $W/p1 && pipeline "" ""
{ for i in 0 1 2 3 4 5 6 7 8 9; do echo "c$i 2025-03-01 2$i.00"; done
  for i in 0 1 2; do echo "c$i 2025-03-02 3$i.00"; done
  for i in 0 1 2 3 4; do echo "n$i 2025-03-02 4$i.00"; done; } | orders orders.csv
$S run --pipeline p.toml --quiet >/dev/null 2>&1; echo "exit $?"
grep '^bgnbd,all' out/reports/model_fit.csv; echo "count x,t_x,T,p_alive,E90,value,value365:"; bypattern

echo "== P1b one customer who bought twice"
mkdir -p $W/p1b && cd $W/p1b && pipeline "" ""
printf 'c1 2024-01-01 10.00\nc1 2024-01-31 12.00\n' | orders orders.csv
$S run --pipeline p.toml --quiet >/dev/null 2>&1; echo "exit $?"
grep '^bgnbd,all' out/reports/model_fit.csv; bypattern

echo "== P2 as-of on the first purchase day (every T = 0)"
mkdir -p $W/p2 && cd $W/p2 && pipeline "" ""
printf 'c1 2024-01-01 10.00\nc2 2024-01-05 12.00\nc2 2024-02-05 12.00\n' | orders orders.csv
$S run --pipeline p.toml --as-of 2024-01-01 --quiet >/dev/null 2>&1; echo "exit $?"
grep '^bgnbd,all' out/reports/model_fit.csv; cat out/reports/customer_predictions.csv

echo "== P3 predictions off for a night, back on, siyu report"
mkdir -p $W/p3 && cd $W/p3 && pipeline "" ""
python3 - <<'PY'
first, later = [], []
for i in range(40):
    first.append((f"b{i}", "2024-%02d-%02d" % (1 + i % 9, 1 + i % 28), f"{10 + i}.00"))
    if i % 3 == 0: first.append((f"b{i}", "2024-10-15", f"{20 + i}.00"))
    if i % 4 == 0: later.append((f"b{i}", "2024-12-01", f"{30 + i}.00"))
later += [(f"new{i}", "2024-12-20", "50.00") for i in range(5)]
import os; os.makedirs("orders", exist_ok=True); os.makedirs("later", exist_ok=True)
for path, rows, f in (("orders/o1.csv", first, "o1.csv"), ("later/o2.csv", later, "o2.csv")):
    with open(path, "w") as out:
        out.write("order,buyer,paid,paid_at\n")
        for i, r in enumerate(rows): out.write(f"{f}-O{i+1},{r[0]},{r[2]},{r[1]} 10:00:00\n")
PY
$S run --pipeline p.toml --quiet >/dev/null 2>&1; echo "night 1 exit $?"
cp later/o2.csv orders/; pipeline "" '[predictions]\nenabled = false\n'
$S run --pipeline p.toml --quiet >/dev/null 2>&1; echo "night 2 (off) exit $?"
pipeline "" ""; $S report --pipeline p.toml --quiet >/dev/null 2>&1; echo "siyu report exit $?"
wc -l out/reports/customer_summary.csv out/reports/customer_predictions.csv | head -2

echo "== P4 page with no customer: model fit section"
mkdir -p $W/p4 && cd $W/p4 && pipeline 'language = "en"\n' ""
printf 'c1 2024-01-01 10.00\nc1 2024-02-01 12.00\n' | orders orders.csv
$S run --pipeline p.toml --as-of 2023-12-01 --quiet >/dev/null 2>&1; echo "exit $?"
python3 - <<'PY'
import re, html
h = open("out/reports/index.html").read(); i = h.find('<section id="modelfit"'); j = h.find('</section>', i)
t = re.sub(r'\s+', ' ', html.unescape(re.sub(r'<[^>]+>', ' ', h[i:j])))
for s in ("all converged", "That is a finding in itself", "each customer spends almost the same every time"):
    print(f"  contains {s!r}: {s in t}")
PY
echo "(work dir $W)"
