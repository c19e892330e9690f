"""The Avellaneda-Stoikov (2008) numerical experiment, section 3.3 (MODELS.md): ``bin/as-table``.

s0 = 100, T = 1, sigma = 2, dt = 0.005 (200 steps), A = 140, k = 1.5, q0 = 0, cash0 = 0. Each
step the "inventory" strategy quotes around r = s - q gamma sigma^2 (T - t) with the total spread
gamma sigma^2 (T - t) + (2/gamma) ln(1 + gamma/k) (the formulas of kernels/avellaneda.pyx); the
"symmetric" one quotes around the mid with a constant spread equal to the time-average of that
spread. The ask is lifted with probability min(1, A exp(-k delta_a) dt), the bid hit with
min(1, A exp(-k delta_b) dt), independently, delta measured from the mid before it moves; then
the mid moves +/- sigma sqrt(dt). Both strategies see the same mid path and the same uniform
draws (common random numbers), so their difference is the strategy, not the luck.

A research harness, not a hot kernel: vectorised over paths with NumPy (100,000 paths take
seconds). Units as the paper: prices and profit in its price units, q in shares.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time

import numpy as np

S0, T, SIGMA, DT, A, K = 100.0, 1.0, 2.0, 0.005, 140.0, 1.5
GAMMAS = (0.1, 0.01, 1.0)
STRATEGIES = ("inventory", "symmetric")


def spread_schedule(gamma: float, n_steps: int) -> np.ndarray:
    """The inventory strategy's total spread at t_i = i dt, i = 0..n-1 (price units)."""
    tau = T - np.arange(n_steps) * DT
    return gamma * SIGMA ** 2 * tau + 2.0 / gamma * math.log1p(gamma / K)


def simulate(gamma: float, paths: int, seed: int) -> dict[str, dict[str, float]]:
    """Run both strategies on the same paths; per strategy the figures the paper tabulates."""
    n_steps = int(round(T / DT))
    spreads = spread_schedule(gamma, n_steps)
    sym_spread = float(spreads.mean())
    rng = np.random.default_rng(seed)
    s = np.full(paths, S0)
    q = {name: np.zeros(paths) for name in STRATEGIES}
    cash = {name: np.zeros(paths) for name in STRATEGIES}
    for i in range(n_steps):
        tau = T - i * DT
        u_ask = rng.random(paths)
        u_bid = rng.random(paths)
        up = rng.random(paths) < 0.5
        for name in STRATEGIES:
            if name == "inventory":
                r = s - q[name] * gamma * SIGMA ** 2 * tau
                half = 0.5 * spreads[i]
            else:
                r, half = s, 0.5 * sym_spread
            ask, bid = r + half, r - half
            p_ask = np.minimum(1.0, A * np.exp(-K * (ask - s)) * DT)
            p_bid = np.minimum(1.0, A * np.exp(-K * (s - bid)) * DT)
            lifted = u_ask < p_ask
            hit = u_bid < p_bid
            q[name] += hit.astype(np.float64) - lifted
            cash[name] += np.where(lifted, ask, 0.0) - np.where(hit, bid, 0.0)
        s = s + np.where(up, SIGMA * math.sqrt(DT), -SIGMA * math.sqrt(DT))
    out = {}
    for name in STRATEGIES:
        profit = cash[name] + q[name] * s
        out[name] = {
            "avg_spread": float(spreads.mean()) if name == "inventory" else sym_spread,
            "profit": float(profit.mean()), "std_profit": float(profit.std()),
            "final_q": float(q[name].mean()), "std_final_q": float(q[name].std()),
        }
    return out


def table(paths: int, seed: int, gammas=GAMMAS) -> list[dict]:
    """One row per (gamma, strategy), in the JSON shape DESIGN.md fixes."""
    rows = []
    for j, gamma in enumerate(gammas):
        result = simulate(gamma, paths, seed + j)
        for name in STRATEGIES:
            rows.append({"gamma": gamma, "strategy": name, **result[name], "paths": paths})
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="bin/as-table", description=__doc__.split("\n")[0])
    parser.add_argument("--paths", type=int, default=1000, help="simulated paths per gamma (paper: 1000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    parser.add_argument("--json", action="store_true", help="one JSON object per row")
    args = parser.parse_args(argv)
    if args.paths < 2:
        parser.error(f"--paths {args.paths}: need at least 2 paths")
    started = time.perf_counter()
    rows = table(args.paths, args.seed)
    elapsed = time.perf_counter() - started
    if args.json:
        for row in rows:
            print(json.dumps(row))
        return 0
    print(f"Avellaneda-Stoikov (2008) section 3.3: s0={S0:g} T={T:g} sigma={SIGMA:g} dt={DT:g} "
          f"A={A:g} k={K:g}; {args.paths} paths per gamma, seed {args.seed}, {elapsed:.1f} s")
    for gamma in GAMMAS:
        print(f"\ngamma = {gamma:g}")
        print(f"{'strategy':<10} {'avg spread':>10} {'profit':>9} {'std(profit)':>12} "
              f"{'final q':>8} {'std(final q)':>13}")
        for row in rows:
            if row["gamma"] == gamma:
                print(f"{row['strategy']:<10} {row['avg_spread']:>10.2f} {row['profit']:>9.2f} "
                      f"{row['std_profit']:>12.2f} {row['final_q']:>8.2f} {row['std_final_q']:>13.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
