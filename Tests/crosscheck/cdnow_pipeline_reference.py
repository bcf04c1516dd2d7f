#!/usr/bin/env python3
"""Reference numbers for Tests/SiyuCoreTests/CDNOWPipelineTests.swift: siyu run end to end on the
CDNOW sample (the transactions written as an order export, dates moved by 28 years).

What siyu sees differs from models_check.py's summary in one way only: customer_summary prints
monetary_value in two-decimal yuan (the mean of the repeat days' cents, half up), and Gamma-Gamma
is fitted on that. This script refits Gamma-Gamma on the summary so rounded (with models_check.py's
independent fit, written from the papers) and writes Tests/Fixtures/cdnow/reference_pipeline.csv:

    model, unit, parameter, value
    gamma_gamma, dollars_cents, p | q | gamma | log_likelihood

BG/NBD sees the same (frequency, recency, T) as models_check.py: the test reads its days fit from
reference_fit.csv and the predictions from reference_predictions.csv. For the record this script
also prints the calibration-vs-holdout table the test checks (prediction_check with the as-of date
1998-06-30 and a horizon of 273 days: calibration ends 1997-09-30; predicted = E[Y(273 days)] at the
daily reference fit, actual = holdout_frequency).

    python3 Tests/crosscheck/cdnow_pipeline_reference.py          # compare with the fixture
    python3 Tests/crosscheck/cdnow_pipeline_reference.py --write  # (re)write it
"""

from __future__ import annotations

import argparse
import csv
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models_check as M  # noqa: E402

OUT = os.path.join(M.FIXTURES, "reference_pipeline.csv")


def rounded_summary(rows):
    """models_check's summary with monetary_value as customer_summary prints it: cents / x, half up."""
    out = []
    for r in rows:
        x = r["frequency"]
        m = 0.0
        if x > 0:
            cents = round(r["monetary_value"] * 100 * x)      # the repeat days' spend in cents, exact
            m = ((2 * cents + x) // (2 * x)) / 100
        out.append({**r, "monetary_value": m})
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    rows = rounded_summary(M.load_summary(os.path.join(M.FIXTURES, "CDNOW_sample.txt")))
    gg, ll = M.fit_gamma_gamma(rows)
    values = dict(zip(["p", "q", "gamma"], gg))
    values["log_likelihood"] = ll
    print("Gamma-Gamma on two-decimal monetary values: " + ", ".join(f"{k} {v!r}" for k, v in values.items()))

    # calibration vs holdout at the daily reference fit
    ref = {}
    with open(os.path.join(M.FIXTURES, "reference_fit.csv")) as f:
        for rec in csv.DictReader(f):
            ref[(rec["model"], rec["unit"], rec["parameter"])] = float(rec["value"])
    days = np.array([ref[("bgnbd", "days", k)] for k in ("r", "alpha", "a", "b")])
    x = np.array([r["frequency"] for r in rows], float)
    e = M.expected_purchases(days, 273.0, x, np.array([r["recency_days"] for r in rows], float),
                             np.array([r["T_days"] for r in rows], float))
    hold = np.array([r["holdout_frequency"] for r in rows], float)
    print("frequency,customers,predicted_mean,actual_mean")
    for b in range(8):
        sel = x >= 7 if b == 7 else x == b
        print(f"{b if b < 7 else '7+'},{int(sel.sum())},{e[sel].mean():.6f},{hold[sel].mean():.6f}")

    if args.write:
        with open(OUT, "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["model", "unit", "parameter", "value"])
            for k, v in values.items():
                w.writerow(["gamma_gamma", "dollars_cents", k, repr(float(v))])
        print(f"wrote {OUT}")
        return 0
    with open(OUT) as f:
        fixture = {rec["parameter"]: float(rec["value"]) for rec in csv.DictReader(f)}
    ok = True
    for k, v in values.items():
        rel = abs(v - fixture[k]) / abs(fixture[k])
        limit = 1e-10 if k == "log_likelihood" else 1e-6
        ok &= rel < limit
        print(f"  {k:15} {v:.10g}  fixture {fixture[k]:.10g}  rel diff {rel:.1e}" + ("" if rel < limit else "  <-- differs"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
