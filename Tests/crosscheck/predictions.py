"""Independent check of model_fit.csv, customer_predictions.csv and prediction_check.csv.

Imported by crosscheck.py (which builds every customer's purchase days from the raw exports); it
needs numpy and scipy (`make crosscheck` installs them with pip when they are missing). Written
from METRICS.md, the lead's decisions (Tests/crosscheck/README.md, "Customer models") and the
papers, not from siyu's Swift code:

  - BG/NBD: Fader, Hardie & Lee (2005), "Counting your customers the easy way", eq. (6) for the
    likelihood, eq. (10) for E[Y(t) | x, t_x, T] (scipy.special.hyp2f1); P(alive) from Fader,
    Hardie & Lee (2008), note 021;
  - Gamma-Gamma: Fader, Hardie & Lee (2005), "RFM and CLV", and Hardie's note 025.

**Where the maximum lies.** The likelihood's supremum may be at the edge of the parameter space:
when a and b run off together (a/(a+b) → p fixed: every customer has the same dropout
probability), when r and alpha run off together (r/alpha → lambda fixed: the same purchase rate),
or when the dropout probability goes to 0. Instead of reading that off a search that drifts, this
module fits every edge as a model of its own, with the limit's likelihood and predictions written
out (derived below), and takes the simplest model whose maximum reaches the overall one. Its
identified parameters are the ones siyu must print; the others siyu must leave empty.

  BG/NBD, per customer, with lambda ~ Gamma(r, alpha) or a point lambda, and p ~ Beta(a, b), a
  point p, or p = 0:
      L = E[(1-p)^x] E[lambda^x e^(-lambda T)] + [x>0] E[p (1-p)^(x-1)] E[lambda^x e^(-lambda t_x)]
      P(alive) = first term / L
      E[Y(t) | history] = P(alive) E'[(1 - e^(-lambda p t)) / p]   (E' over the posterior of an
        alive customer: lambda ~ Gamma(r + x, alpha + T), p ~ Beta(a, b + x))
    gamma/beta: eq. (10); gamma/point p: (1 - ((alpha+T)/(alpha+T+p t))^(r+x)) / p;
    point lambda/beta: (a+b+x-1)/(a-1) (1 - e^(-lambda t) 1F1(b+x; a+b+x-1; lambda t)) (Kummer);
    point/point: (1 - e^(-lambda p t)) / p; p = 0: (r+x) t / (alpha+T), or lambda t.
  Gamma-Gamma: z ~ Gamma(p, nu) per purchase day, nu ~ Gamma(q, gamma); when q and gamma run off
  together (q/gamma → nu): every customer's mean is p/nu and the mean of x purchase days is
  Gamma(p x, x nu); E[value] = p/nu for everyone.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
from scipy import optimize, special

FREQUENCY_BUCKETS = ["0", "1", "2", "3", "4", "5", "6", "7+"]

# --------------------------------------------------------------------------------------------
# Settings and data


@dataclass
class Settings:
    enabled: bool = True
    horizon_days: int = 90
    segment_min_customers: int = 500


def load_settings(pipeline_path: str) -> Settings:
    with open(pipeline_path, "rb") as f:
        cfg = tomllib.load(f).get("predictions", {})
    return Settings(bool(cfg.get("enabled", True)), int(cfg.get("horizon_days", 90)),
                    int(cfg.get("segment_min_customers", 500)))


@dataclass
class Person:
    key: str
    platform: str
    days: list[dt.date]                 # purchase days up to the as-of date, sorted
    monetary: float                     # customer_summary's monetary_value as printed (yuan)


@dataclass
class Patterns:
    """Distinct (x, t_x, T) with their counts (time in days)."""
    x: np.ndarray
    tx: np.ndarray
    T: np.ndarray
    n: np.ndarray

    @staticmethod
    def of(rows: list[tuple[int, int, int]]) -> "Patterns":
        if not rows:
            z = np.zeros(0)
            return Patterns(z, z, z, z)
        uniq, counts = np.unique(np.array(rows, dtype=float), axis=0, return_counts=True)
        return Patterns(uniq[:, 0], uniq[:, 1], uniq[:, 2], counts.astype(float))

    def scaled(self, s: float) -> "Patterns":
        return Patterns(self.x, self.tx * s, self.T * s, self.n)


# --------------------------------------------------------------------------------------------
# BG/NBD and its edges


@dataclass
class BGModel:
    """A BG/NBD or one of its edges. lam: ("gamma", r, alpha) or ("point", lambda);
    drop: ("beta", a, b), ("point", p) or ("none",)."""
    lam: tuple
    drop: tuple

    def scaled_time(self, s: float) -> "BGModel":
        """The same model with time measured in units 1/s as long (rates divided by s)."""
        lam = ("gamma", self.lam[1], self.lam[2] * s) if self.lam[0] == "gamma" else ("point", self.lam[1] / s)
        return BGModel(lam, self.drop)

    # The ratios of Gamma and Beta functions are written as products over j < x (x is a whole
    # number): exact for any size of r, alpha, a, b, where differences of gammaln/betaln values
    # lose digits (at a, b ~ 1e7 they would add noise of 1e-5 to the log-likelihood).
    @staticmethod
    def _cumlog(values_j, x):
        """sum over j < x of values_j[j], for every x (x are whole numbers >= 0)."""
        cum = np.concatenate([[0.0], np.cumsum(values_j)])
        return cum[x.astype(int)]

    # log E[lambda^x e^(-lambda s)]  (the 1/x! and the like are common to every model and left out)
    def log_rate_part(self, x, s):
        j = np.arange(int(x.max()) if x.size else 0)
        if self.lam[0] == "gamma":
            _, r, alpha = self.lam
            # Gamma(r+x)/Gamma(r) alpha^r / (alpha+s)^(r+x)
            return self._cumlog(np.log(r + j), x) - x * np.log(alpha + s) - r * np.log1p(s / alpha)
        lam = self.lam[1]
        return x * np.log(lam) - lam * s

    # log E[(1-p)^x] and log E[p (1-p)^(x-1)] (-inf for x = 0)
    def log_drop_parts(self, x):
        j = np.arange(int(x.max()) if x.size else 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.drop[0] == "beta":
                _, a, b = self.drop
                # B(a, b+x)/B(a, b) = prod (b+j)/(a+b+j); B(a+1, b+x-1)/B(a, b) = a/(a+b+x-1) prod_{j<x-1} (b+j)/(a+b+j)
                step = np.log1p(-a / (a + b + j))
                first = self._cumlog(step, x)
                second = np.where(x > 0, np.log(a / (a + b + x - 1)) + self._cumlog(step, np.maximum(x - 1, 0)), -np.inf)
            elif self.drop[0] == "point":
                p = self.drop[1]
                first = x * np.log1p(-p)
                second = np.where(x > 0, np.log(p) + (x - 1) * np.log1p(-p), -np.inf)
            else:
                first = np.zeros_like(x)
                second = np.full_like(x, -np.inf)
        return first, second

    def terms(self, x, tx, T):
        d1, d2 = self.log_drop_parts(x)
        with np.errstate(invalid="ignore"):
            return d1 + self.log_rate_part(x, T), np.where(x > 0, d2 + self.log_rate_part(x, tx), -np.inf)

    def loglik(self, pat: Patterns) -> float:
        if pat.n.size == 0:
            return 0.0
        t1, t2 = self.terms(pat.x, pat.tx, pat.T)
        return float(np.sum(pat.n * np.logaddexp(t1, t2)))

    def p_alive(self, x, tx, T):
        x, tx, T = (np.asarray(v, float) for v in (x, tx, T))
        t1, t2 = self.terms(x, tx, T)
        with np.errstate(over="ignore"):
            return np.where(x > 0, 1.0 / (1.0 + np.exp(t2 - t1)), 1.0)

    def expected_alive(self, t, x, T):
        """E[Y(t)] for a customer alive at T with x repeat purchases (the posterior of an alive one)."""
        x, T = np.asarray(x, float), np.asarray(T, float)
        if self.drop[0] == "none":
            if self.lam[0] == "gamma":
                return (self.lam[1] + x) * t / (self.lam[2] + T)
            return self.lam[1] * t + 0 * x
        if self.lam[0] == "gamma":
            _, r, alpha = self.lam
            if self.drop[0] == "point":
                p = self.drop[1]
                return -np.expm1((r + x) * (np.log(alpha + T) - np.log(alpha + T + p * t))) / p
            _, a, b = self.drop

            def eq10(a):
                z = t / (alpha + T + t)
                return (a + b + x - 1) / (a - 1) * (
                    1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * special.hyp2f1(r + x, b + x, a + b + x - 1, z))
            if abs(a - 1) < 1e-6:      # removable singularity at a = 1: the mean of both sides
                return (eq10(1 + 1e-6) + eq10(1 - 1e-6)) / 2
            return eq10(a)
        lam = self.lam[1]
        if self.drop[0] == "point":
            p = self.drop[1]
            return -np.expm1(-lam * p * t) / p + 0 * x
        _, a, b = self.drop
        c = a + b + x - 1
        return c / (a - 1) * (1 - np.exp(-lam * t + np.log(special.hyp1f1(b + x, c, lam * t))))

    def expected(self, t, x, tx, T):
        return self.p_alive(x, tx, T) * self.expected_alive(t, x, T)


def search(negloglik, k: int, start=None):
    """Nelder-Mead on unconstrained parameters, restarted until it stops improving, then Newton
    steps on central differences (as models_check.py): the likelihood can be so flat that its
    values cannot tell points 1e-7 apart; its gradient can."""
    def f(theta):
        if np.any(np.abs(theta) > 40):
            return np.inf
        v = negloglik(theta)
        return v if np.isfinite(v) else np.inf

    theta = np.zeros(k) if start is None else np.array(start, float)
    best = f(theta)
    for _ in range(10):
        res = optimize.minimize(f, theta, method="Nelder-Mead",
                                options={"xatol": 1e-11, "fatol": 1e-14, "maxfev": 20000, "maxiter": 20000})
        improved = best - res.fun
        if res.fun <= best:
            theta, best = res.x, res.fun
        if not improved > 1e-14 * abs(best):
            break

    def gradient(th, h=1e-5):
        return np.array([(f(th + h * e) - f(th - h * e)) / (2 * h) for e in np.eye(k)])

    for _ in range(10):
        g = gradient(theta)
        if not np.all(np.isfinite(g)):
            break
        hessian = np.array([(gradient(theta + 1e-4 * e) - gradient(theta - 1e-4 * e)) / 2e-4 for e in np.eye(k)])
        try:
            step = np.linalg.solve((hessian + hessian.T) / 2, g)
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(step)) or np.max(np.abs(step)) > 1:
            break
        trial = f(theta - step)
        if trial > best + 1e-13 * abs(best):
            break
        theta, best = theta - step, min(best, trial)
        if np.max(np.abs(step)) < 1e-11:
            break
    return theta, best


def logistic(v):
    return 1 / (1 + math.exp(-v))


# Each (sub)model's search runs on unconstrained theta: the log of every parameter, the logit of a
# dropout probability. LABELS: printed parameters and the limits' own (lambda = r/alpha,
# dropout = a/(a+b), nu = q/gamma).
def _to_value(label, t):
    return logistic(t) if label == "dropout" else math.exp(t)


def _to_theta(label, v):
    return math.log(v / (1 - v)) if label == "dropout" else math.log(v)


@dataclass
class SubModel:
    name: str
    labels: list[str]
    build: object                   # {label: value} -> BGModel / GGModel
    empty: set[str]                 # printed parameters it leaves unidentified


BG_PRINTED = ["r", "alpha", "a", "b"]
GG_PRINTED = ["p", "q", "gamma"]
_lam = lambda v: ("gamma", v["r"], v["alpha"]) if "r" in v else ("point", v["lambda"])
_drop = lambda v: ("beta", v["a"], v["b"]) if "a" in v else (("point", v["dropout"]) if "dropout" in v else ("none",))
BG_SUBMODELS = [
    SubModel("full", ["r", "alpha", "a", "b"], lambda v: BGModel(_lam(v), _drop(v)), set()),
    SubModel("a,b edge (same dropout p)", ["r", "alpha", "dropout"], lambda v: BGModel(_lam(v), _drop(v)), {"a", "b"}),
    SubModel("no dropout (a -> 0 or b -> inf)", ["r", "alpha"], lambda v: BGModel(_lam(v), _drop(v)), {"a", "b"}),
    SubModel("r,alpha edge (same rate)", ["lambda", "a", "b"], lambda v: BGModel(_lam(v), _drop(v)), {"r", "alpha"}),
    SubModel("both edges", ["lambda", "dropout"], lambda v: BGModel(_lam(v), _drop(v)), set(BG_PRINTED)),
    SubModel("same rate, no dropout", ["lambda"], lambda v: BGModel(_lam(v), _drop(v)), set(BG_PRINTED)),
]
GG_SUBMODELS = [
    SubModel("full", ["p", "q", "gamma"], lambda v: GGModel(("full", v["p"], v["q"], v["gamma"])), set()),
    SubModel("q,gamma edge (same mean)", ["p", "nu"], lambda v: GGModel(("nu", v["p"], v["nu"])), {"q", "gamma"}),
    SubModel("p edge (p -> inf, gamma -> 0, p*gamma -> c)", ["q", "c"], lambda v: GGModel(("pinf", v["q"], v["c"])),
             {"p", "gamma"}),
]
# How each label scales when time (BG/NBD) or money (Gamma-Gamma) is measured in units 1/s as long.
SCALE_POWER = {"alpha": 1, "lambda": -1, "gamma": 1, "nu": -1, "c": 1}


def edge_tolerance(ll: float) -> float:
    """How close to the overall maximum a simpler model's maximum must come to hold it: well above
    the searches' own error (about 1e-10 of |LL|), well below what a parameter buys on real data."""
    return 1e-7 * max(1.0, abs(ll)) + 1e-6


@dataclass
class Fit:
    model: str                          # name of the (sub)model that holds the maximum
    values: dict[str, float | None]     # printed parameters: None = not identified (empty)
    loglik: float
    customers: int
    predictor: object = None            # BGModel or GGModel
    candidates: dict[str, float] = field(default_factory=dict)   # sub-model -> maximum log-likelihood
    note: str = ""
    sub: SubModel | None = None
    theta: dict[str, float] = field(default_factory=dict)         # the sub-model's labels -> values
    data: object = None                 # what profile() needs: (loglik(model), scale s)


class Family:
    def __init__(self, submodels, printed, loglik, scaled_loglik, s):
        self.submodels, self.printed = submodels, printed
        self.loglik, self.scaled_loglik, self.s = loglik, scaled_loglik, s

    def scaled(self, label, v):
        return v * self.s ** SCALE_POWER.get(label, 0)

    def unscaled(self, label, v):
        return v * self.s ** -SCALE_POWER.get(label, 0)

    def fit_sub(self, sub: SubModel, fixed: dict[str, float] | None = None, start: dict[str, float] | None = None):
        """Maximum of sub-model `sub` with the labels in `fixed` held (unscaled values)."""
        fixed = fixed or {}
        free = [lb for lb in sub.labels if lb not in fixed]
        fixed_scaled = {lb: self.scaled(lb, v) for lb, v in fixed.items()}

        def values(t):
            v = dict(fixed_scaled)
            v.update({lb: _to_value(lb, ti) for lb, ti in zip(free, t)})
            return v

        if free:
            t0 = None if start is None else [_to_theta(lb, self.scaled(lb, start[lb])) for lb in free]
            theta, _ = search(lambda t: -self.scaled_loglik(sub.build(values(t))), len(free), t0)
            v = values(theta)
        else:
            v = fixed_scaled
        v = {lb: self.unscaled(lb, x) for lb, x in v.items()}
        model = sub.build(v)
        return model, self.loglik(model), v

    def fit(self, customers: int) -> Fit:
        results = {}
        for sub in self.submodels:
            results[sub.name] = (sub, *self.fit_sub(sub))
        top = max(r[2] for r in results.values())
        # the simplest model whose maximum reaches the overall one (ties: the order of the list)
        name = min((n for n in results if results[n][2] >= top - edge_tolerance(top)), key=lambda n: len(results[n][0].labels))
        sub, model, ll, v = results[name]
        values = {k: (None if k in sub.empty else v.get(k)) for k in self.printed}
        return Fit(name, values, ll, customers, model, {n: r[2] for n, r in results.items()}, sub=sub, theta=v, data=self)

    def profile(self, fit: Fit, printed: dict[str, float]):
        """The chosen sub-model at the printed values of its printed parameters, the others (the
        limits' own: dropout, lambda, nu) at their maximum given those: (model, log-likelihood)."""
        fixed = {lb: printed[lb] for lb in fit.sub.labels if lb in printed}
        model, ll, _ = self.fit_sub(fit.sub, fixed, fit.theta)
        return model, ll

    def flat_allowance(self, fit: Fit, printed: dict[str, float], predict, delta: float):
        """How far each prediction can move over the parameters `printed` leaves free (the limits'
        own: dropout, lambda, nu) while the log-likelihood stays within `delta` of their best:
        sqrt(2 delta g' H^-1 g) to first order, g the gradient of the prediction and H the Hessian
        of -LL in those parameters' theta. predict(model) -> {key: tuple of values or None}."""
        sub = fit.sub
        fixed = {lb: printed[lb] for lb in sub.labels if lb in printed}
        free = [lb for lb in sub.labels if lb not in fixed]
        if not free:
            return None
        _, _, v = self.fit_sub(sub, fixed, fit.theta)
        t0 = np.array([_to_theta(lb, v[lb]) for lb in free])

        def model_at(t):
            w = dict(v)
            w.update({lb: _to_value(lb, ti) for lb, ti in zip(free, t)})
            return sub.build(w)

        k = len(free)
        nll = lambda t: -self.loglik(model_at(t))
        h = 1e-4
        H = np.zeros((k, k))
        for i in range(k):
            for j in range(k):
                ei, ej = np.eye(k)[i] * h, np.eye(k)[j] * h
                H[i, j] = (nll(t0 + ei + ej) - nll(t0 + ei - ej) - nll(t0 - ei + ej) + nll(t0 - ei - ej)) / (4 * h * h)
        Hinv = np.linalg.pinv((H + H.T) / 2)
        step = 1e-6
        ups = [predict(model_at(t0 + step * e)) for e in np.eye(k)]
        downs = [predict(model_at(t0 - step * e)) for e in np.eye(k)]
        out = {}
        for key in ups[0]:
            n = len(ups[0][key])
            allow = []
            for c in range(n):
                if any(u[key][c] is None for u in ups + downs):
                    allow.append(0.0)
                    continue
                g = np.array([(ups[i][key][c] - downs[i][key][c]) / (2 * step) for i in range(k)])
                allow.append(math.sqrt(max(0.0, 2 * delta * float(g @ Hinv @ g))))
            out[key] = allow
        return out


def fit_bgnbd(rows: list[tuple[int, int, int]]) -> Fit:
    pat = Patterns.of(rows)
    customers = int(pat.n.sum())
    if customers == 0:
        return Fit("no customers", {k: None for k in BG_PRINTED}, math.nan, 0, None)
    if pat.x.max() == 0:
        # Nobody came back: the likelihood rises towards 0 as r -> 0 (or alpha -> inf); the dropout
        # process is never seen. Only "a, b empty" and the supremum 0 are checked then.
        m = BGModel(("gamma", 1e-12, 1.0), ("beta", 1.0, 1.0))
        return Fit("nobody came back", {"r": math.nan, "alpha": math.nan, "a": None, "b": None}, 0.0, customers, m)
    s = 10.0 / max(pat.T.max(), 1.0)       # time scaled for the search only (the likelihood is equivariant)
    sp, nsum = pat.scaled(s), pat.n.sum()
    fam = Family(BG_SUBMODELS, BG_PRINTED, lambda m: m.loglik(pat), lambda m: m.loglik(sp) / nsum, s)
    return fam.fit(customers)


# --------------------------------------------------------------------------------------------
# Gamma-Gamma and its edge


def log_gamma_ratio(z, q):
    """ln Gamma(z + q) - ln Gamma(z), accurate for large z too (where gammaln differences lose
    digits and scipy's betaln is off by 1e-6 around z ~ 3e8): Stirling's series, differenced with
    log1p, for z >= 100; gammaln below."""
    z = np.asarray(z, float)
    q = np.broadcast_to(np.asarray(q, float), z.shape)
    out = np.empty_like(z)
    big = z >= 100
    zb, qb = z[big], q[big]
    w = zb + qb
    out[big] = ((zb - 0.5) * np.log1p(qb / zb) + qb * np.log(w) - qb
                - qb / (12 * zb * w) + (1 / w ** 3 - 1 / zb ** 3) * (-1 / 360) + (1 / w ** 5 - 1 / zb ** 5) / 1260)
    out[~big] = special.gammaln(z[~big] + q[~big]) - special.gammaln(z[~big])
    return out


@dataclass
class GGModel:
    """("full", p, q, gamma); ("nu", p, nu): q and gamma ran off together (q/gamma -> nu); or
    ("pinf", q, c): p ran off to infinity and gamma to 0 with p*gamma -> c (no spread within a
    customer: m is the customer's own mean, 1/m ~ Gamma(q, rate c), i.e. m ~ inverse gamma)."""
    kind: tuple

    def loglik(self, x, m, n) -> float:
        if n.size == 0:
            return 0.0
        if self.kind[0] == "full":
            _, p, q, g = self.kind
            # f(m | x) = Gamma(px+q)/(Gamma(px)Gamma(q)) g^q m^(px-1) x^(px) / (g + x m)^(px+q), written
            # without differences of large numbers (near the p edge p x reaches 1e10):
            # ln Gamma(px+q)/Gamma(px) - ln Gamma(q) - ln m - px log1p(g/(x m)) - q log1p(x m/g)
            ll = (log_gamma_ratio(p * x, q) - special.gammaln(q) - np.log(m)
                  - p * x * np.log1p(g / (x * m)) - q * np.log1p(x * m / g))
        elif self.kind[0] == "nu":
            _, p, nu = self.kind
            ll = p * x * np.log(x * nu) + (p * x - 1) * np.log(m) - x * nu * m - special.gammaln(p * x)
        else:
            _, q, c = self.kind
            ll = q * np.log(c) - special.gammaln(q) - (q + 1) * np.log(m) - c / m + 0 * x
        return float(np.sum(n * ll))

    def expected_value(self, x, m):
        """E[value of a purchase day | x, m]; None when infinite (q <= 1 for x = 0)."""
        if self.kind[0] == "nu":
            return self.kind[1] / self.kind[2]
        if self.kind[0] == "pinf":
            _, q, c = self.kind
            if x > 0:
                return m
            return c / (q - 1) if q > 1 else None
        _, p, q, g = self.kind
        d = p * x + q - 1
        if d <= 0:
            return None
        return p * (g + x * m) / d


def fit_gamma_gamma(rows: list[tuple[int, float]]) -> Fit:
    """rows: (frequency, monetary_value) of every customer; those with frequency 0 are left out."""
    keys = [(x, m) for x, m in rows if x > 0]
    if not keys:
        return Fit("no repeat customers", {k: None for k in GG_PRINTED}, math.nan, 0, None)
    uniq, counts = np.unique(np.array(keys, float), axis=0, return_counts=True)
    x, m, n = uniq[:, 0], uniq[:, 1], counts.astype(float)
    s = n.sum() / np.sum(n * m)                     # money scaled for the search only
    fam = Family(GG_SUBMODELS, GG_PRINTED, lambda g: g.loglik(x, m, n), lambda g: g.loglik(x, m * s, n) / n.sum(), s)
    if len(set(m.tolist())) == 1:
        # every repeat customer's mean is the same: the likelihood has no maximum (it grows without
        # bound as both spreads shrink); nothing is identified and every expected value is that mean
        fit = Fit("everyone spends the same", {k: None for k in GG_PRINTED}, math.nan, int(n.sum()),
                  GGModel(("pinf", 2.0, float(m[0]))))
        fit.note = "the likelihood is unbounded"
        return fit
    return fam.fit(int(n.sum()))


# --------------------------------------------------------------------------------------------
# The three outputs


def round_half_away(v: float, decimals: int) -> str:
    return str(Decimal(repr(float(v))).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def six_digits(v: float | None) -> str:
    """Six significant digits, no exponent (trailing zeros dropped)."""
    if v is None or not math.isfinite(v):
        return ""
    return np.format_float_positional(v, precision=6, unique=False, fractional=False, trim="-")


def summary_row(p: Person, as_of: dt.date) -> tuple[int, int, int]:
    return len(p.days) - 1, (p.days[-1] - p.days[0]).days, (as_of - p.days[0]).days


class Predictions:
    def __init__(self, people: list[Person], as_of: dt.date, settings: Settings):
        self.people, self.as_of, self.settings = people, as_of, settings
        counts: dict[str, int] = {}
        for p in people:
            counts[p.platform] = counts.get(p.platform, 0) + 1
        self.segments = ["all"] + sorted(k for k, v in counts.items() if v >= settings.segment_min_customers)
        self.bg: dict[str, Fit] = {}
        self.gg: dict[str, Fit] = {}
        for seg in self.segments:
            members = [p for p in people if seg == "all" or p.platform == seg]
            self.bg[seg] = fit_bgnbd([summary_row(p, as_of) for p in members])
            self.gg[seg] = fit_gamma_gamma([(len(p.days) - 1, p.monetary) for p in members])
        self._calibration()

    # -- model_fit.csv
    def model_fit(self):
        cols = ["model", "segment", "customers", "parameter", "value"]
        rows = []
        for model, fits, names in (("bgnbd", self.bg, ["r", "alpha", "a", "b"]), ("gamma_gamma", self.gg, ["p", "q", "gamma"])):
            for seg in self.segments:
                f = fits[seg]
                for k in names:
                    rows.append([model, seg, f.customers, k, six_digits(f.values[k])])
                rows.append([model, seg, f.customers, "log_likelihood", six_digits(f.loglik)])
        return cols, rows

    # -- customer_predictions.csv
    def predict(self, bg, gg):
        """customer_key -> (p_alive, E[Y(horizon)], expected_value, predicted_value_365d, x), unrounded;
        expected_value and predicted_value_365d are None when empty."""
        h = self.settings.horizon_days
        out = {}
        if not self.people:
            return out
        xs = np.array([summary_row(p, self.as_of) for p in self.people], float)
        x, tx, T = xs[:, 0], xs[:, 1], xs[:, 2]
        pa = bg.p_alive(x, tx, T)
        eh = bg.expected(float(h), x, tx, T)
        e365 = bg.expected(365.0, x, tx, T)
        for i, p in enumerate(self.people):
            ev = gg.expected_value(x[i], p.monetary) if gg is not None else None
            if ev is not None and not math.isfinite(ev):
                ev = None
            out[p.key] = (float(pa[i]), float(eh[i]), ev, None if ev is None else float(e365[i]) * ev, int(x[i]))
        return out

    def customer_predictions(self):
        h = self.settings.horizon_days
        cols = ["customer_key", "p_alive", f"expected_purchases_{h}d", "expected_value", "predicted_value_365d"]
        self.exact = self.predict(self.bg["all"].predictor, self.gg["all"].predictor)
        rows = []
        for p in self.people:
            pa, eh, ev, pv, _ = self.exact[p.key]
            rows.append([p.key, round_half_away(pa, 4), round_half_away(eh, 4),
                         "" if ev is None else round_half_away(ev, 2), "" if pv is None else round_half_away(pv, 2)])
        return cols, rows

    # -- prediction_check.csv
    def _calibration(self):
        h = self.settings.horizon_days
        c = self.as_of - dt.timedelta(days=h)
        self.calibration_date = c
        cal = []
        for p in self.people:
            before = [d for d in p.days if d <= c]
            if not before:
                continue
            after = sum(1 for d in p.days if c < d <= self.as_of)
            cal.append((len(before) - 1, (before[-1] - before[0]).days, (c - before[0]).days, after))
        self.cal_rows = cal
        self.cal_fit = fit_bgnbd([r[:3] for r in cal])

    def prediction_check(self):
        cols = ["frequency", "customers", "predicted_mean", "actual_mean"]
        h = self.settings.horizon_days
        groups = {b: [] for b in FREQUENCY_BUCKETS}
        if self.cal_rows:
            arr = np.array(self.cal_rows, float)
            pred = self.cal_fit.predictor.expected(float(h), arr[:, 0], arr[:, 1], arr[:, 2])
            for (x, _, _, actual), e in zip(self.cal_rows, pred):
                groups["7+" if x >= 7 else str(x)].append((e, actual))
        rows, self.check_exact = [], {}
        for b in FREQUENCY_BUCKETS:
            g = groups[b]
            if not g:
                rows.append([b, 0, "", ""])
                self.check_exact[b] = (0, None, None)
                continue
            pm = math.fsum(e for e, _ in g) / len(g)
            total = sum(a for _, a in g)
            # actual_mean from integers: half up on the exact fraction
            q = (2 * total * 10000 + len(g)) // (2 * len(g))
            rows.append([b, len(g), round_half_away(pm, 4), f"{q // 10000}.{q % 10000:04d}"])
            self.check_exact[b] = (len(g), pm, total / len(g))
        return cols, rows

    def describe(self) -> str:
        f, g = self.bg["all"], self.gg["all"]
        return (f"models: bgnbd all {f.model} " + " ".join(f"{k}={six_digits(v) or '-'}" for k, v in f.values.items())
                + f" LL={f.loglik:.6f}; gamma_gamma all {g.model} "
                + " ".join(f"{k}={six_digits(v) or '-'}" for k, v in g.values.items())
                + f"; calibration {self.calibration_date} ({len(self.cal_rows)} customers) bgnbd {self.cal_fit.model} "
                + " ".join(f"{k}={six_digits(v) or '-'}" for k, v in self.cal_fit.values.items()))


# --------------------------------------------------------------------------------------------
# Comparing with siyu (numerically: these are estimates, not exact arithmetic)
#
# Two questions, answered separately:
#  1. Did siyu find the maximum? Its printed parameters against this module's maximum: 1e-4
#     relative (PARAM_REL). Where the likelihood is so flat that two searches stopping at the
#     contract's criterion (relative change of the log-likelihood below 1e-10) can be further apart,
#     the log-likelihood at siyu's printed parameters (the limit's own, e.g. the common dropout
#     probability when a and b are empty, at their best given those) must be within 1e-9 of |LL|
#     of the maximum (LL_GAP_REL).
#  2. Are siyu's predictions the model's predictions at siyu's parameters? They are recomputed at
#     siyu's printed parameters and must agree within siyu's rounding (half a unit in the last
#     printed decimal) + what the printed parameters' own rounding (half a unit in their sixth
#     digit) can move them, measured customer by customer + 1e-6 (FLOAT_SLACK; 1e-6 relative for
#     yuan).
# The predictions at this module's own maximum are compared too, more loosely (MLE_ABS_4DP,
# MLE_REL_YUAN): they differ from siyu's where the likelihood is flat (question 1).

PARAM_REL = 1e-4
LL_GAP_REL = 1e-9
PREDICTION_LL_REL = 1e-10
FLOAT_SLACK = 1e-6
MLE_ABS_4DP = 1e-3
MLE_REL_YUAN = 1e-3
CHECK_ABS = 0.5e-4 + 1e-4    # prediction_check's predicted_mean: rounding + a fit siyu does not print


def _read(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        r = csv.reader(f)
        header = next(r, [])
        return header, [dict(zip(header, row)) for row in r]


def _num(s: str | None) -> float | None:
    """A printed number; a leading ' (a formula guard, which no number should carry) is read past
    here and reported by the format check."""
    if s in ("", None):
        return None
    try:
        return float(s.lstrip("'"))
    except ValueError:
        return math.nan


PLAIN_NUMBER = re.compile(r"-?(\d+)(?:\.(\d+))?")


def six_digit_format_problem(text: str) -> str | None:
    """model_fit's value: six significant digits, no exponent (the lead's decision)."""
    if text == "":
        return None
    m = PLAIN_NUMBER.fullmatch(text)
    if not m:
        return "not a plain decimal number (six significant digits, no exponent)"
    digits = (m.group(1) + (m.group(2) or "")).strip("0")     # zeros at either end carry no digit
    if len(digits) > 6:
        return f"{len(digits)} significant digits"
    return None


def half_unit(v: float) -> float:
    """Half a unit in the sixth significant digit of v."""
    return 0.5 * 10.0 ** (math.floor(math.log10(abs(v))) - 5) if v else 0.0


def compare(pred: Predictions, siyu_dir: str) -> int:
    """Prints one line per file (like crosscheck.compare) with the largest differences; returns the
    number of files that differ."""
    siyu_fit = {}
    path = os.path.join(siyu_dir, "model_fit.csv")
    if os.path.exists(path):
        for r in _read(path)[1]:
            siyu_fit[(r.get("model", ""), r.get("segment", ""), r.get("parameter", ""))] = _num(r.get("value", ""))
    failed = 0
    failed += _compare_model_fit(pred, siyu_dir, siyu_fit)
    failed += _compare_customer_predictions(pred, siyu_dir, siyu_fit)
    failed += _compare_prediction_check(pred, siyu_dir)
    return failed


def _report(name: str, rows_mine: int, rows_siyu: int, diffs: list[str], stats: str) -> int:
    status = "OK" if not diffs else "DIFFERENT"
    print(f"{name}: {rows_mine} rows crosscheck, {rows_siyu} rows siyu, {len(diffs)} differences — {status}"
          + (f" ({stats})" if stats else ""))
    for d in diffs[:20]:
        print("  " + d)
    if len(diffs) > 20:
        print(f"  … {len(diffs) - 20} more")
    return 1 if diffs else 0


def _printed(siyu_fit, model: str, seg: str, names) -> dict[str, float]:
    return {k: siyu_fit[(model, seg, k)] for k in names if siyu_fit.get((model, seg, k)) is not None}


def _open_siyu(name: str, siyu_dir: str, cols: list, mine: list):
    """siyu's file beside this module's table: (cols, mine, header, rows, diffs) with a header
    difference already in diffs; None (and a line saying so) when siyu wrote no such file."""
    path = os.path.join(siyu_dir, name)
    if not os.path.exists(path):
        print(f"{name}: MISSING in {siyu_dir}")
        return None
    header, theirs = _read(path)
    diffs = []
    if header[:len(cols)] != cols:
        diffs.append(f"header: expected {cols} first, got {header[:len(cols)]}")
    return cols, mine, header, theirs, diffs

def _compare_model_fit(pred: Predictions, siyu_dir: str, siyu_fit) -> int:
    name = "model_fit.csv"
    opened = _open_siyu(name, siyu_dir, *pred.model_fit())
    if opened is None:
        return 1
    cols, mine, header, theirs, diffs = opened
    notes = []
    order_mine = [(r[0], r[1], r[3]) for r in mine]
    order_siyu = [(r.get("model", ""), r.get("segment", ""), r.get("parameter", "")) for r in theirs]
    if order_mine != order_siyu:
        diffs.append(f"rows differ: crosscheck {order_mine}, siyu {order_siyu}")
    worst_param, worst_ll, worst_gap = 0.0, 0.0, 0.0
    fits = {"bgnbd": (pred.bg, BG_PRINTED), "gamma_gamma": (pred.gg, GG_PRINTED)}
    siyu_rows = {(r.get("model", ""), r.get("segment", ""), r.get("parameter", "")): r for r in theirs}
    for r in theirs:
        problem = six_digit_format_problem(r.get("value", ""))
        if problem:
            diffs.append(f"{r.get('model')} {r.get('segment')} {r.get('parameter')}: value {r.get('value')!r} is {problem}")
    for model, (by_seg, names) in fits.items():
        for seg in pred.segments:
            fit = by_seg[seg]
            where = f"{model} {seg}"
            for k in names + ["log_likelihood"]:
                s = siyu_rows.get((model, seg, k))
                if s is not None and s.get("customers") != str(fit.customers):
                    diffs.append(f"{where} {k}: customers crosscheck={fit.customers} siyu={s.get('customers')!r}")
            # which parameters are identified
            for k in names:
                mv, sv = fit.values[k], siyu_fit.get((model, seg, k))
                if mv is not None and math.isnan(mv):      # nobody came back: r and alpha, either way
                    continue
                if (mv is None) != (sv is None):
                    if mv is None:
                        what = (f"crosscheck: not identified, the maximum is at '{fit.model}' (log-likelihoods "
                                + ", ".join(f"{n} {v:.6f}" for n, v in fit.candidates.items()) + ")")
                    else:
                        what = f"crosscheck={mv!r} ('{fit.model}': identified)"
                    diffs.append(f"{where} {k}: {what}; siyu={siyu_rows.get((model, seg, k), {}).get('value')!r}")
            # the log-likelihood
            sv, mv = siyu_fit.get((model, seg, "log_likelihood")), fit.loglik
            if fit.model == "everyone spends the same":
                pass        # no maximum: whatever value siyu's search stopped at
            elif fit.model == "nobody came back":
                if sv is None or sv > 0 or abs(sv) > 1e-3 * fit.customers + 1e-6:
                    diffs.append(f"{where} log_likelihood: nobody came back, the supremum is 0; siyu={sv!r}")
            elif not math.isfinite(mv) or sv is None:
                if math.isfinite(mv) != (sv is not None):
                    diffs.append(f"{where} log_likelihood: crosscheck={mv!r} siyu={sv!r}")
            else:
                d = abs(sv - mv)
                worst_ll = max(worst_ll, d / abs(mv))
                if d > half_unit(mv) + 1e-9 * abs(mv):
                    diffs.append(f"{where} log_likelihood: crosscheck={mv!r} siyu={sv!r}")
            if fit.sub is None:
                continue
            # the identified parameters
            printed = _printed(siyu_fit, model, seg, names)
            far = []
            for k in names:
                mv, sv = fit.values[k], printed.get(k)
                if mv is None or sv is None:
                    continue
                rel = abs(sv - mv) / abs(mv)
                worst_param = max(worst_param, rel)
                if rel > PARAM_REL:
                    far.append(f"{k} crosscheck={mv:.8g} siyu={sv!r} (relative difference {rel:.2e})")
            if set(printed) - (set(names) - fit.sub.empty) or not printed and not fit.sub.labels:
                continue
            _, ll_at_siyu = fit.data.profile(fit, printed)
            gap = fit.loglik - ll_at_siyu
            worst_gap = max(worst_gap, gap / abs(fit.loglik))
            if gap > LL_GAP_REL * abs(fit.loglik):
                diffs += [f"{where} {f}; the log-likelihood at siyu's parameters is {gap:.3g} below the maximum "
                          f"({gap / abs(fit.loglik):.1e} of it)" for f in far] or \
                         [f"{where}: the log-likelihood at siyu's parameters is {gap:.3g} below the maximum "
                          f"({gap / abs(fit.loglik):.1e} of it)"]
            elif far:
                notes += [f"{where} {f}, but its log-likelihood is within {max(gap, 0):.2g} of the maximum: "
                          f"the likelihood is flat there" for f in far]
    stats = (f"max relative difference: parameters {worst_param:.1e}, log-likelihood {worst_ll:.1e}; log-likelihood "
             f"at siyu's parameters below the maximum by at most {worst_gap:.1e} of it; "
             + "; ".join(f"{m} {seg}: {fits[m][0][seg].model}" for m in fits for seg in pred.segments))
    failed = _report(name, len(mine), len(theirs), diffs, stats)
    for n in notes:
        print("  note: " + n)
    return failed


def _bumped(fam: Family, fit: Fit, printed: dict[str, float]):
    """Models at siyu's printed parameters and at each printed parameter moved by half a unit in
    its sixth digit (the limits' own parameters at their best given those)."""
    base, _ = fam.profile(fit, printed)
    bumps = []
    for k, v in printed.items():
        if k not in fit.sub.labels:
            continue
        moved = dict(printed)
        moved[k] = v + half_unit(v)
        bumps.append(fam.profile(fit, moved)[0])
    return base, bumps


def _compare_customer_predictions(pred: Predictions, siyu_dir: str, siyu_fit) -> int:
    name = "customer_predictions.csv"
    opened = _open_siyu(name, siyu_dir, *pred.customer_predictions())
    if opened is None:
        return 1
    cols, mine, header, theirs, diffs = opened
    keys_mine = [r[0] for r in mine]
    keys_siyu = [r.get("customer_key", "") for r in theirs]
    only_m, only_s = set(keys_mine) - set(keys_siyu), set(keys_siyu) - set(keys_mine)
    if only_m or only_s:
        diffs.append(f"customers only in crosscheck: {sorted(only_m)[:5]} ({len(only_m)}), "
                     f"only in siyu: {sorted(only_s)[:5]} ({len(only_s)})")
    if len(set(keys_siyu)) != len(keys_siyu):
        diffs.append("a customer_key appears twice in siyu's file")
    # one row per customer in customer_summary's order (siyu's own customer_summary.csv)
    summary_path = os.path.join(siyu_dir, "customer_summary.csv")
    if os.path.exists(summary_path):
        order = [r.get("customer_key", "") for r in _read(summary_path)[1]]
        if order != keys_siyu and not (only_m or only_s):
            at = next((i for i, (a, b) in enumerate(zip(order, keys_siyu)) if a != b), min(len(order), len(keys_siyu)))
            diffs.append(f"row order differs from customer_summary.csv's from row {at + 1}")

    # The model at siyu's printed parameters, and how far their printing can move each prediction.
    bgf, ggf = pred.bg["all"], pred.gg["all"]
    at_siyu, spread = None, None
    if bgf.sub is not None:
        bg0, bg_bumps = _bumped(bgf.data, bgf, _printed(siyu_fit, "bgnbd", "all", BG_PRINTED))
        gg0, gg_bumps = (ggf.predictor, []) if ggf.sub is None else \
            _bumped(ggf.data, ggf, _printed(siyu_fit, "gamma_gamma", "all", GG_PRINTED))
        at_siyu = pred.predict(bg0, gg0)
        spread = {k: [0.0] * 4 for k in at_siyu}
        for moved in [pred.predict(b, gg0) for b in bg_bumps] + [pred.predict(bg0, g) for g in gg_bumps]:
            for k, vals in moved.items():
                for i in range(4):
                    if vals[i] is not None and at_siyu[k][i] is not None:
                        spread[k][i] += abs(vals[i] - at_siyu[k][i])
        # the parameters siyu does not print (dropout when a, b are empty, ...): what a log-likelihood
        # within LL_GAP_REL of their best leaves open
        for fit, fam, model_name, names, other, bg_side in ((bgf, bgf.data, "bgnbd", BG_PRINTED, gg0, True),
                                                             (ggf, ggf.data, "gamma_gamma", GG_PRINTED, bg0, False)):
            if fit.sub is None:
                continue
            printed = _printed(siyu_fit, model_name, "all", names)
            gap = fit.loglik - fam.profile(fit, printed)[1]
            allow = fam.flat_allowance(fit, printed,
                                       (lambda m: pred.predict(m, other)) if bg_side else (lambda m: pred.predict(other, m)),
                                       max(PREDICTION_LL_REL * abs(fit.loglik), gap))
            if allow is not None:
                for k, vals in allow.items():
                    for i in range(4):
                        spread[k][i] += vals[i]

    worst_mle = {c: 0.0 for c in cols[1:]}
    worst_siyu = {c: 0.0 for c in cols[1:]}
    widest = {c: 0.0 for c in cols[1:]}
    for s in theirs:
        k = s.get("customer_key", "")
        if k not in pred.exact:
            continue
        x = pred.exact[k][4]
        for i, c in enumerate(cols[1:]):
            sv, mv = _num(s.get(c, "")), pred.exact[k][i]
            if mv is None or sv is None:
                if (mv is None) != (sv is None):
                    diffs.append(f"{k} (frequency {x}) {c}: crosscheck={mv!r} siyu={s.get(c)!r}")
                continue
            yuan = i >= 2
            rounding = 0.005 if yuan else 0.5e-4
            d = abs(sv - mv)
            worst_mle[c] = max(worst_mle[c], d)
            if d > rounding + (MLE_REL_YUAN * abs(mv) if yuan else MLE_ABS_4DP):
                diffs.append(f"{k} (frequency {x}) {c}: crosscheck={mv:.8f} siyu={s.get(c)!r} (difference {d:.2e}), "
                             f"at this module's maximum")
            if at_siyu is not None and at_siyu[k][i] is not None:
                ref = at_siyu[k][i]
                d2 = abs(sv - ref)
                worst_siyu[c] = max(worst_siyu[c], d2)
                tol = rounding + spread[k][i] + FLOAT_SLACK * (max(1.0, abs(ref)) if yuan else 1.0)
                widest[c] = max(widest[c], tol)
                if d2 > tol:
                    diffs.append(f"{k} (frequency {x}) {c}: at siyu's own printed parameters {ref:.8f}, siyu "
                                 f"{s.get(c)!r} (difference {d2:.2e}, allowed {tol:.2e})")
    stats = ("max |siyu - prediction at siyu's printed parameters|: "
             + ", ".join(f"{c} {v:.1e} (allowed up to {widest[c]:.1e})" for c, v in worst_siyu.items())
             + "; max |siyu - prediction at this module's maximum|: "
             + ", ".join(f"{c} {v:.1e}" for c, v in worst_mle.items()))
    return _report(name, len(mine), len(theirs), diffs, stats)


def _compare_prediction_check(pred: Predictions, siyu_dir: str) -> int:
    name = "prediction_check.csv"
    opened = _open_siyu(name, siyu_dir, *pred.prediction_check())
    if opened is None:
        return 1
    cols, mine, header, theirs, diffs = opened
    if [r.get("frequency") for r in theirs] != FREQUENCY_BUCKETS:
        diffs.append(f"rows: expected frequency {FREQUENCY_BUCKETS}, got {[r.get('frequency') for r in theirs]}")
    worst = 0.0
    siyu = {r.get("frequency"): r for r in theirs}
    for r in mine:
        b = r[0]
        s = siyu.get(b)
        if s is None:
            continue
        n, pm, _ = pred.check_exact[b]
        if s.get("customers") != str(r[1]):
            diffs.append(f"frequency {b}: customers crosscheck={r[1]} siyu={s.get('customers')!r}")
        if s.get("actual_mean") != r[3]:
            diffs.append(f"frequency {b}: actual_mean crosscheck={r[3]!r} siyu={s.get('actual_mean')!r}")
        sv = _num(s.get("predicted_mean", ""))
        if pm is None or sv is None:
            if (pm is None) != (sv is None):
                diffs.append(f"frequency {b}: predicted_mean crosscheck={pm!r} siyu={s.get('predicted_mean')!r}")
            continue
        worst = max(worst, abs(sv - pm))
        if abs(sv - pm) > CHECK_ABS:
            diffs.append(f"frequency {b}: predicted_mean crosscheck={pm:.8f} siyu={s.get('predicted_mean')!r}")
    f = pred.cal_fit
    stats = (f"calibration {pred.calibration_date}, {len(pred.cal_rows)} customers, fit {f.model} "
             + " ".join(f"{k}={six_digits(v) or '-'}" for k, v in f.values.items())
             + f"; max |siyu - unrounded crosscheck| predicted_mean {worst:.1e}")
    return _report(name, len(mine), len(theirs), diffs, stats)
