"""The local book's best prices and sizes (what the quoter sees) on the compiled core, against the
twin's dict book, after every event of random sequences: crossing updates that hide stale levels,
removals of the best, side clears. The compiled core keeps the sizes at the bests beside the
bests (backtest/book.pxd) instead of looking them up; this is where that would drift."""
import math

import numpy as np
from hypothesis import given, settings, strategies as st

from backtest.core import Core
from backtest.core_twin import Core as CoreTwin
from backtest.events import ASK_CLEAR, ASK_DEPTH, BID_CLEAR, BID_DEPTH, CLEAR, EVENT_DTYPE, LOCAL

update = st.tuples(st.sampled_from([BID_DEPTH, ASK_DEPTH]), st.integers(90, 110),
                   st.sampled_from([0.0, 0.0004, 0.001, 0.002, 0.5, 3.0]))
clear = st.tuples(st.sampled_from([BID_CLEAR, ASK_CLEAR, CLEAR]), st.integers(90, 110), st.just(0.0))
sequences = st.lists(st.one_of(update, update, update, clear), min_size=1, max_size=80)


def same(a, b) -> bool:
    return all((math.isnan(x) and math.isnan(y)) or x == y for x, y in zip(a, b))


@settings(max_examples=300, deadline=None)
@given(rows=sequences)
def test_the_best_prices_and_sizes_match_the_twin_after_every_event(rows):
    cores = [cls(1.0, 0.001) for cls in (Core, CoreTwin)]
    ev = np.zeros(len(rows), EVENT_DTYPE)
    for i, (kind, price, qty) in enumerate(rows):
        ev[i] = (i + 1, i + 1, float(price), qty, kind, LOCAL)
    for core in cores:
        core.feed(ev, True)
    for i, row in enumerate(rows):
        seen = []
        for core in cores:
            core.run(i + 1)                  # up to and including event i (at ts i + 1)
            seen.append(core.local_best())
        assert same(*seen), f"after {rows[:i + 1]}: compiled {seen[0]}, twin {seen[1]}"
        assert cores[0].local_mid() == cores[1].local_mid()
