"""Every configuration section as a frozen dataclass; each field's type, unit and allowed range.

Every configured number has exactly one owner here: one section, one key. A field's metadata
holds its ``unit`` and either ``lo``/``hi`` (inclusive bounds) or ``choices``; conf/load.py
checks every value against them and names the file, the key, the value and the range on error.
The quoter section is kernels.params.QuoteParams itself, so the model numbers are defined once;
the two engine inputs it shares with risk (``QUOTER_FROM``) are owned by [risk] and copied into
the quoter's parameters when the configuration is built. The pipeline's processes are listed
once, in ``PIPELINE``; [processes], the launcher, the supervisor and the doorbells derive from it.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, make_dataclass, replace

from conf import instruments
from conf.instruments import OVERRIDE_SECTIONS
from kernels.params import QuoteParams, setting
from runtime.timeslice import MAX_SLICE_US
from venue.ratelimit import CANCEL_LIMIT, ME_LIMIT_NON_PERSISTENT, ME_LIMIT_PERSISTENT

num = setting   # a number: num(default, lo, hi, unit)


def choice(default, *choices):
    return setting(default, choices=choices)


@dataclass(frozen=True)
class Venue:
    url: str = "embedded"                      # ws URL, or "embedded": start the local exchange
    instruments: tuple = ("BTC-PERPETUAL",)
    account: str = ""                          # sub-account number; "" = the key's default
    key_id_env: str = "THALEX_KEY_ID"          # environment variable holding the key id
    private_key_env: str = "THALEX_PRIVATE_KEY_FILE"  # ... and the path of the RSA private key
    request_timeout_s: float = num(5.0, 0.1, 60.0, "s")
    # One reconnect policy for the feed and the gateway (runtime/reconnect.py): the first wait
    # after a lost connection, doubling with each failed attempt up to the longest.
    reconnect_min_s: float = num(0.2, 0.01, 60.0, "s")
    reconnect_max_s: float = num(10.0, 0.1, 600.0, "s")
    sim_seed: int = num(1, 0, 2**31 - 1, "seed")                # of the embedded exchange
    sim_volatility: float = num(5.0, 0.0, 1000.0, "USD/sqrt(s)")


@dataclass(frozen=True)
class Risk:
    max_position: float = num(0.1, 1e-9, 1e6, "contracts")   # counting open orders; the quoter's limit too
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
    # The fee rates, owned here: P&L until the exchange reports a fill's fee, and the quoter's fee pad.
    maker_fee_rate: float = num(0.0001, -0.01, 0.01, "fraction of notional, negative = rebate")
    taker_fee_rate: float = num(0.0005, -0.01, 0.01, "fraction of notional")
    # Portfolio limits on the whole account (procs/risk/portfolio.py): REDUCING from
    # reduce_at_fraction of them, and no order that would take the account beyond them.
    max_net_delta_usd: float = num(0.0, 0.0, 1e12, "USD of net delta per underlying (perpetuals and futures together), 0 = off")
    max_gross_notional_usd: float = num(0.0, 0.0, 1e12, "USD, sum of |position| x mark over every instrument, 0 = off")


# [quoter] engine inputs owned by another section: refused under [quoter], copied in from their
# owner (section, key) when the configuration is built.
QUOTER_FROM = {"max_position": ("risk", "max_position"), "maker_fee_rate": ("risk", "maker_fee_rate")}


def quoter_from_owners(params: QuoteParams, sections: dict) -> QuoteParams:
    """``params`` with each QUOTER_FROM number taken from its owner (``sections["risk"]``...)."""
    return replace(params, **{name: getattr(sections[owner], key) for name, (owner, key) in QUOTER_FROM.items()})


@dataclass(frozen=True)
class Gateway:
    # The exchange cancels our orders when nothing (a ping counts) arrives for this long; the
    # client pings every ping_interval_s, so the timeout must leave room for a late ping. The
    # defaults pair them as Thalex's own examples do (5 s with pings every 2 s, or 6 s with 5 s).
    cancel_on_disconnect_s: int = num(5, 1, 60, "s")
    ping_interval_s: float = num(2.0, 0.1, 30.0, "s between websocket pings")
    mass_quote: bool = True                    # mass_quote if the account may, else insert/amend
    # The gateway runs the quoter's fast-cancel guard on the market records itself and pulls the
    # exposed side one hop before the quoter's pull could arrive (procs/gateway/tripwire.pyx).
    tripwire: bool = True
    mmp_trade_amount: float = num(0.05, 0.0, 1e6, "contracts")
    mmp_quote_amount: float = num(0.05, 0.0, 1e6, "contracts")
    # Our own pacing (venue/ratelimit.py): at most this many messages in any one second, never
    # above Thalex's documented limits (the upper bounds).
    orders_per_s: float = num(float(ME_LIMIT_PERSISTENT), 2.0, float(ME_LIMIT_PERSISTENT),
                              "matching-engine messages/s")     # before cancel-on-disconnect
    orders_per_s_non_persistent: float = num(float(ME_LIMIT_NON_PERSISTENT), 2.0, float(ME_LIMIT_NON_PERSISTENT),
                                             "matching-engine messages/s")   # after it
    cancels_per_s: float = num(float(CANCEL_LIMIT), 2.0, float(CANCEL_LIMIT), "cancels/s")
    # After a code 4 (throttled) orders wait this long, doubling with each further one, capped.
    throttle_cooldown_s: float = num(0.25, 0.01, 60.0, "s")
    throttle_cooldown_max_s: float = num(8.0, 0.01, 600.0, "s")
    # The gateway checks every ladder against the gate risk writes (shm/gate.py) at least every
    # 20 ms; nothing from risk for this long (dead or stuck) pulls every quote and refuses ladders.
    risk_timeout_s: float = num(0.5, 0.05, 10.0, "s without a gate write from risk")

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
    # What market data may claim before the feed refuses it (procs/md_checks.py).
    max_clock_skew_s: float = num(1.0, 0.01, 60.0, "s an exchange timestamp may be ahead of our clock")
    max_data_age_s: float = num(10.0, 0.1, 3600.0, "s an exchange timestamp may be behind our clock")
    price_band_bps: float = num(500.0, 1.0, 10_000.0, "bps a mark may move from the last good one; bid/ask/trades from the mark")
    index_band_bps: float = num(1_000.0, 1.0, 10_000.0, "bps a mark may differ from its index (dated futures: basis)")
    reanchor_after_s: float = num(5.0, 0.1, 600.0, "s of out-of-band but self-consistent data before it is the new level")


@dataclass(frozen=True)
class Warmup:
    """How a started or restarted quoter learns what the market already told it
    (procs/quoter_warmup.py): its own saved estimator state when fresh, else the exchange's history."""
    use_exchange_history: bool = True          # seed sigma, A, k and the candles from the exchange's recent trades and mark bars
    lookback_s: float = num(3600.0, 60.0, 7 * 86400.0, "s of exchange history taken at start")
    state_max_age_s: float = num(60.0, 0.0, 86400.0, "s: a saved estimator state older than this is not resumed")
    state_save_interval_s: float = num(2.0, 0.1, 3600.0, "s between saves of the estimator state")


@dataclass(frozen=True)
class Recorder:
    dir: str = "runs"                          # a directory per run is made inside it
    flush_interval_s: float = num(1.0, 0.05, 60.0, "s")


@dataclass(frozen=True)
class Control:
    host: str = "127.0.0.1"
    port: int = num(7755, 1, 65535, "TCP port")
    pub_port: int = num(7756, 1, 65535, "TCP port")
    curve_secret_key_file: str = ""            # required when host is not loopback
    curve_client_keys_dir: str = ""
    # Prometheus /metrics (runtime/metrics.py), served by the supervisor from shared memory.
    metrics_host: str = "127.0.0.1"
    metrics_port: int = num(7757, 0, 65535, "TCP port, 0 = no metrics endpoint")


@dataclass(frozen=True)
class Process:
    cpu: int = num(-1, -1, 1023, "CPU index, -1 = not pinned")
    idle: str = choice("backoff", "busy-spin", "yield", "backoff", "sleep")
    max_sleep_us: float = num(200.0, 1.0, 1e6, "us, longest backoff sleep; the period of idle = sleep")
    # The scheduler time slice asked of the kernel (runtime/timeslice.py): a woken process with a
    # shorter slice than the one running on its core preempts it if eligible (Linux 6.12+).
    slice_us: float = num(0.0, 0.0, MAX_SLICE_US, "us, 0 = leave the kernel's, else 100-100000")


@dataclass(frozen=True)
class PipelineProcess:
    """One process of the pipeline."""
    name: str
    agent: str          # "module:Class"; the class's from_settings(settings) builds the agent
    belled: bool        # its producers ring its doorbell after publishing; idle, it sleeps on it
    defaults: Process   # its [processes.<name>] values when the file does not set them


# The one list of the pipeline's processes, in start order: consumers first, so no record is
# published before its readers exist. Everything that names processes derives from it.
# The feed and the quoter share CPU 1 (a wake-up on the same core is several times cheaper than
# one across cores); the gateway sleeps on CPU 0 and is rung by the feed one hop early, so the
# quoter's ladder finds it awake (runtime/handoff.py prewakes). Risk and the recorder sit on CPU 1
# too, where the path's short slices preempt them: beside the gateway they held its core when a
# ladder came (three probe pairs with them moved: the gateway's check at p99 514 / 610 / 430 ->
# 382 / 374 / 213 us, our own path at p99 1127 / 980 / 1081 -> 970 / 785 / 980 us). A belled
# process is woken by its producers' rings; its longest sleep only bounds what does not ring: the
# gateway's socket (fills, replies: 1 ms), the quoter's trades and fills (estimators, markouts:
# 1 ms; on the VM a wake-up after a long sleep was also ~40 us slower), risk's marks and its gate
# heartbeat (every 20 ms: 5 ms). The three on the latency path ask for a 100 us time slice
# (the kernel's default is ~1.4 ms on 2 CPUs), so their wake-ups preempt risk, the recorder and
# whatever else holds the core (if eligible: it has not had more than its share), instead of
# waiting for that slice to end; risk and the recorder keep the default, so a wake-up of theirs
# does not preempt the path on that ground. Waking 5000 times a second to look for nothing (200 us) cost each
# process 5-15 % of a core on the 2-core VM, on the core the latency path needs.
LATENCY_SLICE_US = 100.0
PIPELINE = (
    PipelineProcess("recorder", "procs.recorder:Recorder", False,
                    Process(cpu=1, idle="sleep", max_sleep_us=5000.0)),
    PipelineProcess("gateway", "procs.gateway.agent:Gateway", True,
                    Process(cpu=0, max_sleep_us=1000.0, slice_us=LATENCY_SLICE_US)),
    PipelineProcess("risk", "procs.risk.agent:RiskAgent", True, Process(cpu=1, max_sleep_us=5000.0)),
    PipelineProcess("quoter", "procs.quoter:Quoter", True,
                    Process(cpu=1, max_sleep_us=1000.0, slice_us=LATENCY_SLICE_US)),
    PipelineProcess("feed", "procs.feed:Feed", False, Process(cpu=1, slice_us=LATENCY_SLICE_US)),
)
PROCESS_NAMES = tuple(p.name for p in PIPELINE)
BELLED = tuple(p.name for p in PIPELINE if p.belled)

# [processes.<name>] for every process of PIPELINE.
Processes = make_dataclass("Processes", [(p.name, Process, field(default=p.defaults)) for p in PIPELINE],
                           frozen=True)


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
    seed: int = num(1, 0, 2**31 - 1, "seed")


@dataclass(frozen=True)
class Config:
    source: str = "defaults"
    venue: Venue = Venue()
    quoter: QuoteParams = quoter_from_owners(QuoteParams(), {"risk": Risk()})
    risk: Risk = Risk()
    gateway: Gateway = Gateway()
    feed: Feed = Feed()
    warmup: Warmup = Warmup()
    recorder: Recorder = Recorder()
    control: Control = Control()
    processes: Processes = Processes()
    backtest: Backtest = Backtest()
    # [instruments."NAME"] and [products."NAME"]: per-instrument and per-product overrides of the
    # sections above (conf/instruments.py), tuples of conf.instruments.Overrides.
    instruments: tuple = ()
    products: tuple = ()

    def quoter_for(self, instrument: str) -> QuoteParams:
        """The quoter's parameters of one instrument: [quoter] under its own section's keys."""
        return instruments.quoter_for(self, instrument, QUOTER_FROM)

    def risk_for(self, instrument: str) -> "Risk":
        """[risk] as one instrument sees it: its own per-instrument limits over the defaults."""
        return instruments.risk_for(self, instrument)

    def mmp_for(self, product: str) -> tuple[float, float]:
        """Market-maker protection (trade_amount, quote_amount) of one Thalex product group."""
        return instruments.mmp_for(self, product)


SECTIONS = {f.name: type(f.default) for f in fields(Config) if f.name not in ("source", *OVERRIDE_SECTIONS)}
