"""gateway.cancel_on_disconnect_s must leave room for a late ping (the exchange cancels the
session's orders when nothing arrives for that long, and a ping is what usually arrives)."""
import pytest

import conf
from conf.load import CONF_DIR
from conf.schema import Gateway


def test_the_defaults_pair_them_like_thalex_examples_and_every_shipped_file_passes():
    g = Gateway()
    assert (g.cancel_on_disconnect_s, g.ping_interval_s) == (5, 2.0)
    for name in ("paper", "testnet", "production", "colo"):
        loaded = conf.load(CONF_DIR / f"{name}.toml").gateway
        assert loaded.cancel_on_disconnect_s >= loaded.min_cancel_on_disconnect_s()


@pytest.mark.parametrize("sets", [
    ["gateway.ping_interval_s=5", "gateway.cancel_on_disconnect_s=6"],   # Thalex's other example
    ["gateway.ping_interval_s=10", "gateway.cancel_on_disconnect_s=12"],
])
def test_a_timeout_comfortably_above_the_ping_interval_is_accepted(sets):
    conf.load(None, sets)


@pytest.mark.parametrize("sets,floor", [
    (["gateway.ping_interval_s=5"], "6"),                                 # equal to the interval
    (["gateway.ping_interval_s=2", "gateway.cancel_on_disconnect_s=2"], "3"),
    (["gateway.ping_interval_s=10", "gateway.cancel_on_disconnect_s=11"], "12"),
])
def test_a_timeout_without_room_for_a_late_ping_is_refused_with_the_rule(sets, floor):
    with pytest.raises(conf.ConfigError) as err:
        conf.load(None, sets)
    text = str(err.value)
    assert text.startswith("gateway.cancel_on_disconnect_s=") and "paper.toml" in text
    assert f"ping_interval_s + max(1 s, 0.2 x ping_interval_s) = {floor} s" in text
