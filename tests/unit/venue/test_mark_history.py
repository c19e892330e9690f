"""public/mark_price_historical_data: the wrapper sends the spec's request, the decoder keeps
valid bars and counts the rest, and refuses a result that is not the spec's object."""
from __future__ import annotations

import json
import math

import pytest

from venue.client import ThalexClient
from venue.decode.history import mark_bars

from conftest import scripted_server

pytestmark = pytest.mark.timeout(30)
SPEC_EXAMPLE = {"instrument_type": "perpetual", "mark": [[1736363460, 94700, 94701, 94445, 94409, 0.0002],
                                                         [1736363520, 94409, 94600, 94408, 94500, -0.00011]]}


def test_the_specs_example_decodes_into_bars():
    bars, skipped = mark_bars(SPEC_EXAMPLE)
    # its first row has close 94409 below low 94445: the spec's own example is not a valid bar
    assert skipped == 1 and bars.tolist() == [[1736363520, 94409, 94600, 94408, 94500]]


def test_valid_rows_of_every_type_are_kept_and_bad_ones_counted():
    tob = [99_990.0, 0.1, 100_010.0, 0.2]
    rows = [[60, 100.0, 110.0, 90.0, 105.0, 0.0, tob],          # perpetual, 1m
            [120, 105.0, 106.0, 100.0, 101.0, None],            # future, coarse resolution
            [180, 101.0, 99.0, 98.0, 100.0, 0.0, None],         # high below open
            [180, math.nan, 1.0, 1.0, 1.0, 0.0, None],          # not a price
            [110, 100.0, 100.0, 100.0, 100.0, 0.0, None],       # time goes back
            ["240", 100.0, 100.0, 100.0, 100.0, 0.0, None],     # not a number
            [300, 100.0, 101.0, 99.0, 100.5],                   # just the OHLC
            [360, True, 1.0, 1.0, 1.0], "row", [420]]
    bars, skipped = mark_bars({"instrument_type": "perpetual", "mark": rows})
    assert bars[:, 0].tolist() == [60, 120, 300] and skipped == 7


@pytest.mark.parametrize("result", [None, [], {"mark": "bars"}, "no"])
def test_a_result_that_is_not_the_specs_object_is_refused_naming_it(result):
    with pytest.raises(ValueError, match="mark_price_historical_data: result="):
        mark_bars(result)


def test_no_data_is_no_bars():
    bars, skipped = mark_bars({"instrument_type": "future", "mark": [], "no_data": True})
    assert bars.shape == (0, 5) and skipped == 0


def test_the_wrapper_sends_the_specs_params_and_checks_its_own():
    seen = []

    def script(conn):
        for raw in iter(conn.recv, None):
            req = json.loads(raw)
            seen.append(req)
            conn.send(json.dumps({"id": req["id"], "result": SPEC_EXAMPLE}))

    with scripted_server(script) as url:
        client = ThalexClient(url)
        assert client.mark_price_historical_data("BTC-PERPETUAL", 1000.0, 1600.0) == SPEC_EXAMPLE
        with pytest.raises(ValueError, match="resolution='2m'"):
            client.mark_price_historical_data("BTC-PERPETUAL", 1000.0, 1600.0, "2m")
        with pytest.raises(ValueError, match="from_s=1600.0, to_s=1000.0"):
            client.mark_price_historical_data("BTC-PERPETUAL", 1600.0, 1000.0)
        client.close()
    assert seen[0]["method"] == "public/mark_price_historical_data"
    assert seen[0]["params"] == {"instrument_name": "BTC-PERPETUAL", "from": 1000.0, "to": 1600.0, "resolution": "1m"}
