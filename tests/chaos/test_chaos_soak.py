"""A short chaos soak in every test run (bin/mm-chaos runs the long one): processes SIGKILLed,
the supervisor too, connections dropped, throttles and stalls, while the exchange is sampled;
afterwards our fills, fees, position and equity equal the exchange's and nothing is left behind."""
import pytest

from testkit.chaos import ChaosSoak

pytestmark = pytest.mark.timeout(420)


def test_a_short_soak_of_kills_drops_throttles_and_stalls_keeps_every_invariant(tmp_path):
    report = ChaosSoak(tmp_path, seconds=75, seed=7).run()
    print("\n" + report.table())
    kinds = {f.kind for f in report.faults}
    assert "kill:risk" in kinds and any(k.startswith("kill:") for k in kinds - {"kill:risk"}), kinds
    assert report.samples > 100
    assert report.ok(), report.table()
