"""The numbers the quote engine runs on, in one frozen object (unit and range in each field).

conf/ validates a TOML file into this; the engine copies the numbers into C fields once, so the
hot path never looks anything up. Each field's metadata holds its ``unit`` and either its range
``lo``..``hi`` (inclusive, or > lo when ``lo_open``; per element for a tuple, which holds at most
``max_len`` values) or its ``choices``; ``validate()`` checks them and the rules that tie fields together, naming the
field, the value and what was expected.

``max_position`` and ``maker_fee_rate`` are engine inputs that the configuration does not take
under [quoter]: conf/ copies them in from their one owner ([risk]) when the settings are built.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

from shm.records import MAX_LEVELS

from shm.records import MAX_LEVELS

MODELS = ("as", "glft")
MARKOUT_HORIZONS = (1.0, 5.0, 30.0)   # seconds after each fill at which the mid is compared
MAX_TUPLE_LEN = 32                    # values a list-valued setting may hold (live params record)


def setting(default, lo=None, hi=None, unit: str = "", *, lo_open=False, choices=None, max_len=None,
            infinite_ok=False):
    """A field with its unit and allowed range ``lo``..``hi`` (inclusive; ``lo_open``: > lo) or
    ``choices``; a tuple holds at most ``max_len`` values, each in the range."""
    meta = {"unit": unit}
    if lo is not None:
        meta.update(lo=lo, hi=hi, lo_open=lo_open)
    if choices is not None:
        meta["choices"] = tuple(choices)
    if max_len is not None:
        meta["max_len"] = max_len
    if infinite_ok:
        meta["infinite_ok"] = True
    return field(default=default, metadata=meta)


def positive(default, hi, unit: str, **kw):
    """A number that must be > 0 (and <= ``hi``)."""
    return setting(default, 0, hi, unit, lo_open=True, **kw)


def in_range(meta: dict, x) -> bool:
    return (meta["lo"] < x if meta.get("lo_open") else meta["lo"] <= x) and x <= meta["hi"]


def range_text(meta: dict) -> str:
    """``within lo..hi (unit)`` (or ``> lo and <= hi``) as error messages say it."""
    unit = meta.get("unit", "")
    text = f"> {meta['lo']} and <= {meta['hi']}" if meta.get("lo_open") else f"within {meta['lo']}..{meta['hi']}"
    return text + (f" ({unit})" if unit else "")


@dataclass(frozen=True)
class QuoteParams:
    # --- model -------------------------------------------------------------------------------
    model: str = setting("glft", choices=MODELS)  # "as" (Avellaneda-Stoikov) or "glft" (Gueant closed form)
    gamma: float = positive(0.05, 1e6, "1/(USD x contract)")          # risk aversion
    glft_xi_zero: bool = False          # GLFT: xi = 0 ("model B") instead of xi = gamma
    order_unit: float = positive(0.001, 1e6, "contracts")             # GLFT Delta: contracts per quote unit
    horizon_s: float = positive(60.0, 1e9, "s")                       # AS rolling horizon for perpetuals (T - t)
    # --- volatility ----------------------------------------------------------------------------
    vol_half_life_s: float = positive(30.0, 1e9, "s")                 # EWMA half-life
    sigma_initial: float = setting(5.0, 0.0, 1e6, "USD/sqrt(s)")      # prior sigma until data arrives
    sigma_floor: float = setting(0.5, 0.0, 1e6, "USD/sqrt(s)")
    sigma_ceiling: float = setting(200.0, 0.0, 1e6, "USD/sqrt(s)")
    vol_jump_sigmas: float = setting(4.0, 0.0, 1e6, "sigma, 0 = off")   # a move beyond this is a jump, capped (kernels/volatility.pyx)
    # --- intensity lambda(delta) = A exp(-k delta) --------------------------------------------
    a_prior: float = positive(1.0, 1e6, "fills/s per side")           # until enough data
    k_prior: float = positive(0.1, 1e6, "1/USD")                      # until enough data
    intensity_depths_ticks: tuple = setting((0, 1, 2, 3, 5, 8, 12, 18, 25, 35), 0, 1e6, "ticks from the mid",
                                            max_len=MAX_TUPLE_LEN)   # the fit's grid, increasing
    intensity_window_s: float = positive(600.0, 1e9, "s")             # rolling window
    intensity_refit_s: float = positive(5.0, 1e9, "s")                # refit interval
    intensity_min_arrivals: float = setting(50, 0.0, 1e12, "arrivals")  # in the window before a fit replaces the prior
    # --- volume candles -----------------------------------------------------------------------
    candles: bool = True                # let candle signals tilt gamma, kappa and the centre
    candle_volume: float = positive(1.0, 1e12, "contracts")           # per candle
    candle_max_s: float = positive(60.0, 1e9, "s")                    # a candle closes after this at most
    candle_lookback: int = setting(8, 2, 10_000, "candles")           # the signals look at
    candle_max_multiplier: float = setting(2.0, 1.0, 1e6, "x")        # gamma and kappa stay within [1/x, x] of their base
    candle_max_offset_frac: float = setting(0.5, 0.0, 1.0, "x half-spread")  # centre offset within +/- this
    candle_smoothing: float = positive(0.25, 1.0, "weight of the newest candle")  # EWMA of the signals over candles; 1 = none
    candle_deadband: float = setting(0.15, 0.0, 10.0, "relative (multipliers), half-spreads (offset)")  # the tilt moves only past this
    # --- ladder ---------------------------------------------------------------------------------
    levels: int = setting(MAX_LEVELS, 1, MAX_LEVELS, "levels per side")   # Thalex mass quotes hold MAX_LEVELS a side
    level_spacing_ticks: float = positive(1.0, 1e9, "ticks")          # between levels
    min_spread_ticks: float = positive(2.0, 1e9, "ticks")             # total spread clamp
    max_spread_ticks: float = positive(2000.0, math.inf, "ticks", infinite_ok=True)   # inf = no clamp
    fee_aware: bool = True              # add the maker fee to each half-spread
    maker_fee_rate: float = setting(0.0001, -0.01, 0.01, "fraction of notional")  # risk.maker_fee_rate's; < 0 = rebate
    base_size: float = positive(0.001, 1e6, "contracts")              # at level 0
    size_multipliers: tuple = positive((1, 1, 1.5, 1.5, 2, 2, 2.5, 2.5, 3, 3), 1e6, "x base_size",
                                       max_len=MAX_TUPLE_LEN)        # one per level
    eta: float = setting(0.0, 0.0, 1e6, "1/contract")                 # size shaping
    max_position: float = positive(0.1, 1e6, "contracts")             # risk.max_position's; counting open orders
    requote_tolerance_ticks: float = setting(1.0, 0.0, 1e9, "ticks")  # a level moving no more is left resting
    # --- the exchange's message budget (shm/order_budget.py: the quoter reads the gateway's) --------
    budget_low_fraction: float = setting(0.5, 0.0, 1.0, "of the order bucket")  # fewer tokens left: the wider tolerance (0 = off)
    budget_tolerance_factor: float = setting(4.0, 1.0, 1e6, "x requote_tolerance_ticks")  # while the budget is low
    # --- quote fading near the position limit -----------------------------------------------
    fade_start: float = setting(0.5, 0.0, 1.0, "fraction of max_position")  # where the growing side starts fading
    fade_ticks: float = setting(20.0, 0.0, 1e9, "ticks")              # how far that side has stepped away at the limit
    # --- fast cancel in volatile markets ------------------------------------------------------
    fast_cancel: bool = True
    fc_window_s: float = positive(1.0, 1e6, "s")                      # the mid's move is measured over this window
    fc_move_ticks: float = setting(30.0, 0.0, 1e9, "ticks")           # a move beyond this triggers (0 = off)
    fc_sigma_multiple: float = setting(6.0, 0.0, 1e6, "sigma x sqrt(window)")  # ... or beyond this (0 = off)
    fc_vol_jump: float = setting(4.0, 0.0, 1e6, "x slow sigma")       # sigma beyond this: both sides (0 = off)
    fc_settle_s: float = setting(3.0, 0.0, 1e6, "s")                  # quiet time before quoting the pulled side again
    fc_widen: float = setting(2.0, 1.0, 1e6, "x spread")              # while settling
    # --- adverse selection (markouts) ---------------------------------------------------------
    markout_widen: bool = True
    markout_horizon_s: float = setting(5.0, unit="s", choices=MARKOUT_HORIZONS)  # which markout drives the widening
    markout_threshold: float = setting(2.0, 0.0, 1e6, "USD per contract")  # adverse markout tolerated
    markout_max_widen_ticks: float = setting(20.0, 0.0, 1e9, "ticks")  # cap on the extra distance a side gets

    # Settings each estimator is built from: the engine rebuilds an estimator (losing its state)
    # only when these change, so a live gamma or ladder change keeps sigma, A, k and the candles.
    def volatility_settings(self) -> tuple:
        return self.vol_half_life_s, self.sigma_initial, self.sigma_floor, self.sigma_ceiling, self.vol_jump_sigmas

    def intensity_settings(self) -> tuple:
        return (tuple(self.intensity_depths_ticks), self.intensity_window_s, self.intensity_refit_s,
                self.a_prior, self.k_prior, self.intensity_min_arrivals)

    def candle_settings(self) -> tuple:
        return (self.candle_volume, self.candle_max_s, self.candle_lookback,
                self.candle_max_multiplier, self.candle_max_offset_frac, self.candle_smoothing,
                self.candle_deadband)

    def guard_settings(self) -> tuple:
        return (self.fast_cancel, self.fc_window_s, self.fc_move_ticks, self.fc_sigma_multiple,
                self.fc_vol_jump, self.fc_settle_s)

    def estimators_to_rebuild(self, old: "QuoteParams | None", tick: float, classes: dict) -> dict:
        """New estimators for those whose own settings changed from ``old`` (all when None).

        ``classes`` maps "vol", "intensity", "candles", "guard", "markout" to the compiled classes
        or to their twins, so both engines build them from one place. Markouts keep their state
        across every change; a guard switched off is None.
        """
        out = {}
        if old is None or old.volatility_settings() != self.volatility_settings():
            out["vol"] = classes["vol"](self.vol_half_life_s, self.sigma_initial, self.sigma_floor,
                                        self.sigma_ceiling, self.vol_jump_sigmas)
        if old is None or old.intensity_settings() != self.intensity_settings():
            out["intensity"] = classes["intensity"](
                [d * tick for d in self.intensity_depths_ticks], self.intensity_window_s,
                self.intensity_refit_s, self.a_prior, self.k_prior, self.intensity_min_arrivals)
        if old is None or old.candle_settings() != self.candle_settings():
            out["candles"] = classes["candles"](self.candle_volume, self.candle_max_s, self.candle_lookback,
                                                max_multiplier=self.candle_max_multiplier,
                                                max_offset_frac=self.candle_max_offset_frac,
                                                smoothing=self.candle_smoothing, deadband=self.candle_deadband)
        if old is None or old.guard_settings() != self.guard_settings():
            out["guard"] = classes["guard"](self.fc_window_s, self.fc_move_ticks * tick, self.fc_sigma_multiple,
                                            self.fc_vol_jump, self.fc_settle_s) if self.fast_cancel else None
        if old is None:
            out["markout"] = classes["markout"](MARKOUT_HORIZONS)
        return out

    def validate(self, source: str = "QuoteParams") -> "QuoteParams":
        """Return self, or raise ValueError naming ``source``, the field, its value and the range."""
        def bad(name, expected):
            raise ValueError(f"{name}={getattr(self, name)!r} in {source}: {expected}")
        for f in fields(self):
            v, meta = getattr(self, f.name), f.metadata
            if isinstance(v, float) and not math.isfinite(v) and not (meta.get("infinite_ok") and v > 0):
                bad(f.name, "must be a finite number")
            if "choices" in meta and v not in meta["choices"]:
                bad(f.name, f"expected one of {', '.join(str(c) for c in meta['choices'])}")
            if "lo" not in meta:
                continue
            values = v if isinstance(v, tuple) else (v,)
            if "max_len" in meta and len(values) > meta["max_len"]:
                bad(f.name, f"holds at most {meta['max_len']} values")
            if not all(in_range(meta, x) for x in values):
                bad(f.name, ("each value " if isinstance(v, tuple) else "") + "must be " + range_text(meta))
        if 0.0 < self.vol_jump_sigmas <= 1.0:
            bad("vol_jump_sigmas", "must be 0 (off) or > 1 sigma")
        if not self.sigma_floor <= self.sigma_ceiling:
            bad("sigma_ceiling", f"must be >= sigma_floor ({self.sigma_floor})")
        if not self.min_spread_ticks <= self.max_spread_ticks:
            bad("max_spread_ticks", f"must be >= min_spread_ticks ({self.min_spread_ticks})")
        if len(self.size_multipliers) < self.levels:
            bad("size_multipliers", f"need {self.levels} values > 0, one per level")
        d = self.intensity_depths_ticks
        if len(d) < 2 or any(b <= a for a, b in zip(d, d[1:])):
            bad("intensity_depths_ticks", "need >= 2 increasing depths >= 0")
        return self
