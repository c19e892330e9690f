"""The exact finite-horizon, bounded-inventory GLFT solution: the reference for the closed form.

Gueant, Lehalle and Fernandez-Tapia (2013) reduce the HJB equation with |q| <= Q to a linear
ODE v'(t) = M v(t), v(T) = 1, for q = -Q..Q, with M tridiagonal: alpha q^2 on the diagonal
(alpha = k gamma sigma^2 / 2) and -eta beside it (eta = A (1 + gamma/k)^-(1 + k/gamma)).
Hence v(t) = expm(-M (T - t)) 1; M is symmetric, so one eigendecomposition gives every t.

    delta_b(q) = (1/k) ln(v_q / v_{q+1}) + (1/gamma) ln(1 + gamma/k)    (q < Q)
    delta_a(q) = (1/k) ln(v_q / v_{q-1}) + (1/gamma) ln(1 + gamma/k)    (q > -Q)

Units as the closed form (kernels/glft.pyx) with delta = 1: sigma USD/sqrt(s), A fills/s, k 1/USD,
gamma 1/(USD x contract), tau = T - t in seconds; depths in USD from the mid. Not a hot kernel:
tests and research call it, the quoter never does.
"""
from __future__ import annotations

import math

import numpy as np


def glft_exact_depths(gamma: float, sigma: float, a: float, k: float, q_max: int, tau: float):
    """Optimal (bid_depth, ask_depth) arrays indexed by q + q_max for q = -q_max..q_max, in USD.

    A side that would take |q| past q_max is not quoted and holds NaN.
    """
    if q_max < 1:
        raise ValueError(f"q_max={q_max}: must be >= 1")
    if min(gamma, sigma, a, k) <= 0 or tau < 0:
        raise ValueError(f"gamma={gamma}, sigma={sigma}, A={a}, k={k}, tau={tau}: "
                         "expected gamma, sigma, A, k > 0 and tau >= 0")
    q = np.arange(-q_max, q_max + 1, dtype=np.float64)
    alpha = k * gamma * sigma * sigma / 2.0
    eta = a * (1.0 + gamma / k) ** (-(1.0 + k / gamma))
    m = np.diag(alpha * q * q) - eta * (np.eye(q.size, k=1) + np.eye(q.size, k=-1))
    w, u = np.linalg.eigh(m)
    # expm(-M tau) 1 = U diag(exp(-w tau)) U^T 1; shift by the smallest eigenvalue so the
    # exponentials never overflow (a common factor cancels in every ratio v_q / v_q').
    v = u @ (np.exp(-(w - w.min()) * tau) * (u.T @ np.ones(q.size)))
    log_v = np.log(v)
    const = math.log1p(gamma / k) / gamma
    bid = np.full(q.size, np.nan)
    ask = np.full(q.size, np.nan)
    bid[:-1] = (log_v[:-1] - log_v[1:]) / k + const
    ask[1:] = (log_v[1:] - log_v[:-1]) / k + const
    return bid, ask
