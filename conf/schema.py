"""Every configuration section as a frozen dataclass; each field's type, unit and allowed range.

A field's metadata holds ``lo``/``hi`` (inclusive bounds), ``choices`` or ``unit``; conf/load.py
checks every value against them and names the file, the key, the value and the range on error.
The quoter section is kernels.params.QuoteParams itself, so the model numbers are defined once.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from kernels.params import QuoteParams


def num(default, lo=None, hi=None, unit=""):
    return field(default=default, metadata={"lo": lo, "hi": hi, "unit": unit})


def choice(default, *choices):
    return field(default=default, metadata={"choices": choices})


@dataclass(frozen=True)
class Venue:
    url: str = "embedded"                      # ws URL, or "embedded": start the local exchange
    instruments: tuple = ("BTC-PERPETUAL",)
    account: str = ""                          # sub-account number; "" = the key's default
    key_id_env: str = "THALEX_KEY_ID"          # environment variable holding the key id
    private_key_env: str = "THALEX_PRIVATE_KEY_FILE"  # ... and the path of the RSA private key
    request_timeout_s: float = num(5.0, 0.1, 60.0, "s")
    sim_seed: int = num(1, 0, 2**31 - 1)
    sim_volatility: float = num(5.0, 0.0, 1000.0, "USD/sqrt(s)")


@dataclass(frozen=True)
class Risk:
    max_position: float = num(0.1, 1e-9, 1e6, "contracts")
    max_notional: float = num(50_000.0, 1.0, 1e12, "USD")
    max_order_size: float = num(0.05, 1e-9, 1e6, "contracts")
    price_band_bps: float = num(200.0, 1.0, 10_000.0, "bps of mark")
    stop_loss: float = num(1_000.0, 0.0, 1e12, "USD, 0 = off")
    take_profit: float = num(0.0, 0.0, 1e12, "USD, 0 = off")
    max_drawdown: float = num(2_000.0, 0.0, 1e12, "USD from the high-water mark, 0 = off")
    max_daily_loss: float = num(0.0, 0.0, 1e12, "USD since 00:00 UTC, 0 = off")
    reduce_at_fraction: float = num(0.8, 0.1, 1.0, "of a limit: REDUCING beyond it, HALTED at it")
    take_profit_distance: float = num(0.0, 0.0, 1e6, "USD from the average entry: resting reduce-only limit, 0 = off")
    stop_loss_distance: float = num(0.0, 0.0, 1e6, "USD from the average entry: reduce-only market when crossed, 0 = off")
    maker_fee_rate: float = num(0.0001, -0.01, 0.01, "fraction of notional, for P&L")
    taker_fee_rate: float = num(0.0005, -0.01, 0.01, "fraction of notional, for P&L")


@dataclass(frozen=True)
class Gateway:
    # The exchange cancels our orders when nothing (a ping counts) arrives for this long; the
    # client pings every ping_interval_s, so the timeout must leave room for a late ping. The
    # defaults pair them as Thalex's own examples do (5 s with pings every 2 s, or 6 s with 5 s).
    cancel_on_disconnect_s: int = num(5, 1, 60, "s")
    ping_interval_s: float = num(2.0, 0.1, 30.0, "s between websocket pings")
    mass_quote: bool = True                    # mass_quote if the account may, else insert/amend
    mmp_trade_amount: float = num(0.05, 0.0, 1e6, "contracts")
    mmp_quote_amount: float = num(0.05, 0.0, 1e6, "contracts")
    orders_per_s: float = num(9.0, 0.1, 1000.0, "/s before cancel-on-disconnect")
    orders_per_s_non_persistent: float = num(45.0, 0.1, 1000.0, "/s after it")
    cancels_per_s: float = num(900.0, 1.0, 1000.0, "/s")
    throttle_cooldown_s: float = num(1.0, 0.01, 60.0, "s")

    def min_cancel_on_disconnect_s(self) -> float:
        """The shortest timeout that still survives one late ping: the ping interval plus a
        second and plus a fifth of the interval, whichever is more."""
        return self.ping_interval_s + max(1.0, 0.2 * self.ping_interval_s)

    def validate(self, source: str) -> "Gateway":
        floor = self.min_cancel_on_disconnect_s()
        if self.cancel_on_disconnect_s < floor - 1e-9:
            raise ValueError(
                f"cancel_on_disconnect_s={self.cancel_on_disconnect_s} in {source}: must be at least "
                f"ping_interval_s + max(1 s, 0.2 x ping_interval_s) = {floor:g} s "
                f"(ping_interval_s={self.ping_interval_s:g}): the exchange cancels our orders when a "
                "ping is late")
        return self


@dataclass(frozen=True)
class Feed:
    ticker_delay: str = choice("raw", "raw", "100ms", "200ms", "500ms", "1000ms")
    stale_after_s: float = num(2.0, 0.05, 60.0, "s")
    reconnect_min_s: float = num(0.2, 0.01, 60.0, "s")
    reconnect_max_s: float = num(10.0, 0.1, 600.0, "s")


@dataclass(frozen=True)
class Recorder:
    dir: str = "runs"                          # a directory per run is made inside it
    flush_interval_s: float = num(1.0, 0.05, 60.0, "s")


@dataclass(frozen=True)
class Control:
    host: str = "127.0.0.1"
    port: int = num(7755, 1, 65535)
    pub_port: int = num(7756, 1, 65535)
    curve_secret_key_file: str = ""            # required when host is not loopback
    curve_client_keys_dir: str = ""


@dataclass(frozen=True)
class Process:
    cpu: int = num(-1, -1, 1023, "-1 = not pinned")
    idle: str = choice("backoff", "busy-spin", "yield", "backoff")
    max_sleep_us: float = num(200.0, 1.0, 1e6, "us (backoff)")


@dataclass(frozen=True)
class Processes:
    feed: Process = Process(cpu=0)
    quoter: Process = Process(cpu=1)
    risk: Process = Process(cpu=1)
    gateway: Process = Process(cpu=0)
    recorder: Process = Process(cpu=-1, max_sleep_us=5000.0)


@dataclass(frozen=True)
class Backtest:
    """bin/mm-backtest: the exchange model's rules and the instrument the data is quoted in."""
    queue_model: str = choice("risk_averse", "risk_averse", "power", "log_prob")
    queue_power: float = num(2.0, 0.01, 100.0, "exponent of the power queue model")
    entry_latency_ms: float = num(2.0, 0.0, 60_000.0, "ms, our order -> the exchange")
    response_latency_ms: float = num(2.0, 0.0, 60_000.0, "ms, the exchange's answer -> us")
    feed_latency_ms: float = num(2.0, 0.0, 60_000.0, "ms, market data -> us (CSV data)")
    partial_fills: bool = False
    requote_interval_ms: float = num(0.0, 0.0, 3_600_000.0, "ms, 0 = on every market update")
    tick_size: float = num(1.0, 1e-9, 1e6, "USD")
    amount_tick: float = num(0.001, 1e-9, 1e6, "contracts")
    min_amount: float = num(0.001, 1e-9, 1e6, "contracts")
    seed: int = num(1, 0, 2**31 - 1)


@dataclass(frozen=True)
class Config:
    source: str = "defaults"
    venue: Venue = Venue()
    quoter: QuoteParams = QuoteParams()
    risk: Risk = Risk()
    gateway: Gateway = Gateway()
    feed: Feed = Feed()
    recorder: Recorder = Recorder()
    control: Control = Control()
    processes: Processes = Processes()
    backtest: Backtest = Backtest()


SECTIONS = {"venue": Venue, "quoter": QuoteParams, "risk": Risk, "gateway": Gateway, "feed": Feed,
            "recorder": Recorder, "control": Control, "processes": Processes, "backtest": Backtest}
