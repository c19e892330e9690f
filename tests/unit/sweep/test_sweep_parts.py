"""The sweep's pieces that need no Ray: the plan, the windows, the figures, the journal, best.toml."""
import json
import math
import re
import tomllib

import numpy as np
import pytest

from backtest.events import EVENT_DTYPE
from conf.load import DEFAULT_FILE, load, to_dict
from conf.schema import Risk
from sweep import overlay
from sweep.journal import Journal
from sweep.metrics import max_drawdown, sharpe, sort_key
from sweep.plan import PlanError, combinations, parse_grid, parse_range
from sweep.window import Window, WindowError, cut, parse_span, split

T0 = 1_700_000_000_000_000_000
H = 3_600_000_000_000


def test_a_grid_is_the_product_of_its_axes_with_the_last_axis_fastest():
    combos = combinations([parse_grid("quoter.gamma=0.01,0.1"), parse_grid("quoter.levels=2,5")], [])
    assert [c.overrides for c in combos] == [
        ("quoter.gamma=0.01", "quoter.levels=2"), ("quoter.gamma=0.01", "quoter.levels=5"),
        ("quoter.gamma=0.1", "quoter.levels=2"), ("quoter.gamma=0.1", "quoter.levels=5")]
    assert combos[3].params == {"quoter.gamma": 0.1, "quoter.levels": 5}


def test_a_whole_number_for_a_float_setting_is_a_float_and_the_override_keeps_the_text():
    axis = parse_grid("quoter.gamma=1,0.5")
    assert axis.values == (1.0, 0.5) and type(axis.values[0]) is float
    assert combinations([axis], [])[0].overrides == ("quoter.gamma=1",)


@pytest.mark.parametrize("item, words", [
    ("quoter.gama=1,2", "unknown key quoter.gama"),
    ("quoterx.gamma=1", "unknown section [quoterx]"),
    ("quoter.max_position=1,2", "risk.max_position is its one owner"),
    ("gamma=1,2", "expected SECTION.KEY"),
    ("quoter.gamma=", "expected SECTION.KEY=V1,V2"),
    ("quoter.gamma=1,1", "listed twice"),
])
def test_a_grid_that_names_no_setting_is_refused_with_the_reason(item, words):
    with pytest.raises(PlanError, match=re.escape(words)):
        parse_grid(item)


def test_random_points_stay_in_their_ranges_and_integer_settings_are_whole():
    ranges = [parse_range("quoter.gamma=0.001:1:log"), parse_range("quoter.levels=1:10")]
    combos = combinations([], ranges, n_random=200, seed=3)
    gammas = [c.params["quoter.gamma"] for c in combos]
    levels = [c.params["quoter.levels"] for c in combos]
    assert all(0.001 <= g <= 1 for g in gammas) and all(type(n) is int and 1 <= n <= 10 for n in levels)
    # log-uniform: about as many below 0.0316 (the geometric middle) as above
    assert 70 < sum(g < math.sqrt(0.001) for g in gammas) < 130
    assert combinations([], ranges, n_random=5, seed=3) == combos[:5]       # seeded


def test_a_random_point_written_as_an_override_loads_to_the_same_value():
    combo = combinations([], [parse_range("quoter.gamma=0.001:1:log")], n_random=1, seed=9)[0]
    assert load(None, list(combo.overrides)).quoter.gamma == combo.params["quoter.gamma"]


@pytest.mark.parametrize("item, words", [
    ("quoter.model=0:1", "expected a number setting"), ("quoter.gamma=1:0", "LO < HI"),
    ("quoter.gamma=0:1:log", "LO > 0"), ("quoter.gamma=0:1:ln", "LO:HI:log")])
def test_a_bad_range_is_refused(item, words):
    with pytest.raises(PlanError, match=words):
        parse_range(item)


def test_a_range_without_random_and_random_without_a_range_are_refused():
    with pytest.raises(PlanError, match="--random N"):
        combinations([], [parse_range("quoter.gamma=0.01:1")], 0)
    with pytest.raises(PlanError, match="at least one --range"):
        combinations([parse_grid("quoter.gamma=1,2")], [], 3)


def test_windows_take_offsets_from_the_start_times_of_day_and_open_ends():
    t1 = T0 + H
    w = parse_span("0..40m", "--train", "train", T0, t1)
    assert (w.start_ns, w.end_ns) == (T0, T0 + 40 * 60 * 10**9)
    w = parse_span("40m:", "--test", "test", T0, t1)
    assert (w.start_ns, w.end_ns) == (T0 + 40 * 60 * 10**9, t1 + 1)
    w = parse_span("2023-11-14T22:30:00..", "--test", "test", T0, t1)      # T0 is 22:13:20 UTC
    assert w.start_ns == T0 + (16 * 60 + 40) * 10**9
    train, test = split(0.75, T0, t1)
    assert train.end_ns == test.start_ns == T0 + 45 * 60 * 10**9


@pytest.mark.parametrize("text, words", [("0..40", "expected a unit"), ("1h..30m", "not after"),
                                         ("5h..6h", "outside the data"), ("soon..later", "offset")])
def test_a_window_outside_or_unreadable_is_refused(text, words):
    with pytest.raises(WindowError, match=words):
        parse_span(text, "--train", "train", T0, T0 + H)
    with pytest.raises(WindowError, match="between 0 and 1"):
        split(1.0, T0, T0 + H)


def test_a_cut_keeps_exactly_the_events_inside_the_window_and_all_data_is_not_cut():
    chunks = [np.zeros(5, EVENT_DTYPE), np.zeros(5, EVENT_DTYPE)]
    chunks[0]["exch_ts"] = T0 + np.arange(5)
    chunks[1]["exch_ts"] = T0 + 5 + np.arange(5)
    kept = cut(chunks, Window("test", T0 + 3, T0 + 7))
    assert np.concatenate(kept)["exch_ts"].tolist() == [T0 + 3, T0 + 4, T0 + 5, T0 + 6]
    assert all(a is b for a, b in zip(cut(chunks, Window("all")), chunks))


def test_sharpe_and_drawdown_of_a_known_equity_curve():
    rising = np.arange(1, 601, dtype=float)            # +60 USD a minute, no variance
    assert math.isnan(sharpe(rising))
    wobbly = np.repeat([60.0, 100.0, 180.0, 200.0], 60)   # per minute: +60, +40, +80, +20
    per_min = np.array([60.0, 40.0, 80.0, 20.0])
    assert sharpe(wobbly) == pytest.approx(per_min.mean() / per_min.std(ddof=1) * math.sqrt(525600))
    assert max_drawdown(np.array([1.0, 3.0, -2.0, 4.0, 1.0])) == 5.0
    assert max_drawdown(np.array([-1.0, -3.0])) == 3.0       # from the start at 0


def test_ranking_puts_failed_runs_and_missing_figures_last_and_respects_the_direction():
    rows = [{"status": "ok", "max_drawdown_usd": 3.0}, {"status": "failed"},
            {"status": "ok", "max_drawdown_usd": float("nan")}, {"status": "ok", "max_drawdown_usd": 1.0}]
    assert [r.get("max_drawdown_usd") for r in sorted(rows, key=sort_key("max_drawdown_usd"))][:2] == [1.0, 3.0]


def test_the_journal_skips_a_line_cut_short_and_appends_after_it(tmp_path):
    path = tmp_path / "runs.jsonl"
    path.write_text(json.dumps({"run_id": "a", "status": "ok"}) + "\n" + '{"run_id": "b", "sta')
    j = Journal(path)
    assert j.finished("a") and not j.finished("b") and j.ignored_lines == 1
    j.append({"run_id": "c", "status": "failed"})
    j.close()
    again = Journal(path)
    assert set(again.rows) == {"a", "c"} and not again.finished("c")


def test_best_toml_is_the_base_file_with_the_tuned_keys_and_loads_as_base_plus_set(tmp_path):
    sets = ["quoter.gamma=0.2", "quoter.levels=3", "risk.max_position=0.02", "backtest.queue_model=power"]
    path = overlay.write(tmp_path / "best.toml", str(DEFAULT_FILE), DEFAULT_FILE.read_text(), sets, ["a note"])
    text = path.read_text()
    assert text.startswith("# a note\n")
    got, want = to_dict(load(path)), to_dict(load(None, sets))
    got.pop("source"), want.pop("source")
    assert got == want
    # what paper.toml sets and the schema's defaults do not (a file over defaults would lose it)
    assert tomllib.loads(text)["processes"]["recorder"]["max_sleep_us"] == 5000.0
    assert load(path).risk.max_notional == 10_000.0 != Risk().max_notional


def test_a_cluster_address_nobody_listens_on_is_refused_at_once_and_a_listening_one_passes():
    import socket
    from sweep.runner import ClusterError, reachable
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        port = listening.getsockname()[1]
        reachable(f"127.0.0.1:{port}")
    with pytest.raises(ClusterError, match=f"--address 127.0.0.1:{port}: nothing accepts connections"):
        reachable(f"127.0.0.1:{port}")
    reachable("ray://head:10001")                    # Ray resolves client addresses itself
