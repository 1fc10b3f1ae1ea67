"""Calibrated confidence: the probability that the top answer is right.

A logistic model over a few features of a search: how much of the question the top entry
covers, how far it leads the runner-up, whether it answers the kind of question asked, whether
the question names a topic of the routing table (outside the desk), the strength of the match,
and how close the question is to one of the ways the entry says people ask it. The weights
and the decline threshold are fitted by `bench/calibrate.py` on the tuning questions
(tests/data/tune-questions.jsonl, the development set, the first held-out set,
tests/data/tune-citizen*.jsonl) and pasted here; never on a set whose
figures are reported as held out.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

FEATURES = ("coverage", "margin", "kind_match", "kind_miss", "routed", "strength", "defines", "foreign", "phrased")
# Fitted by bench/calibrate.py (see its output for the data it used).
WEIGHTS = (3.715, 2.564, 0.429, -0.415, -1.357, 2.031, 2.258, -0.350, 2.437)
BIAS = -8.459
THRESHOLD = 0.629
RIDGE = 1.0


@dataclass(frozen=True)
class Features:
    coverage: float  # share of the question's term weight the top entry holds (0..1)
    margin: float  # (top score - second score) / top score
    kind_match: float  # 1: the question asks a kind the top entry answers
    kind_miss: float  # 1: the question asks a kind the top entry does not answer
    routed: float  # 1: the question names a topic of the routing table
    strength: float  # log(1 + top bm25 score)
    defines: float  # 1: the top entry defines the term a 'what is' question asks about
    foreign: float  # 1: the question names a topic no entry mentions (図書館)
    phrased: float = 0.0  # share of the question's bigrams in the closest of the top entry's phrasings

    def vector(self) -> tuple[float, ...]:
        return tuple(getattr(self, name) for name in FEATURES)


def probability(features: Features, weights: tuple[float, ...] = WEIGHTS, bias: float = BIAS) -> float:
    z = bias + sum(w * x for w, x in zip(weights, features.vector(), strict=True))
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def fit(rows: list[tuple[float, ...]], labels: list[int], ridge: float = RIDGE,
        steps: int = 50) -> tuple[tuple[float, ...], float]:
    """Logistic regression by Newton's method with an L2 penalty (not on the bias)."""
    x = np.hstack([np.asarray(rows, dtype=float), np.ones((len(rows), 1))])
    y = np.asarray(labels, dtype=float)
    w = np.zeros(x.shape[1])
    penalty = np.eye(x.shape[1]) * ridge
    penalty[-1, -1] = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -30, 30)))
        gradient = x.T @ (p - y) + penalty @ w
        hessian = x.T @ (x * (p * (1 - p))[:, None]) + penalty + np.eye(x.shape[1]) * 1e-9
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return tuple(float(v) for v in w[:-1]), float(w[-1])


def choose_threshold(scored: list[tuple[float, bool]], wrong_cost: float = 1.5) -> float:
    """The threshold that maximises right answers minus `wrong_cost` × wrong ones (a wrong answer,
    or an answer to a question outside the desk, costs more than an honest decline)."""
    candidates = sorted({round(p, 3) for p, _ in scored})
    best, best_value = 0.5, -math.inf
    for threshold in candidates:
        value = sum((1.0 if right else -wrong_cost) for p, right in scored if p >= threshold)
        if value > best_value:
            best, best_value = threshold, value
    return best
