"""The numbers the quote engine runs on, in one frozen object (units in each comment).

conf/ validates a TOML file into this; the engine copies the numbers into C fields once, so the
hot path never looks anything up. ``validate()`` names the field, the value and the range.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields

from shm.records import MAX_LEVELS

MODELS = ("as", "glft")
MARKOUT_HORIZONS = (1.0, 5.0, 30.0)   # seconds after each fill at which the mid is compared


@dataclass(frozen=True)
class QuoteParams:
    # --- model -------------------------------------------------------------------------------
    model: str = "glft"                 # "as" (Avellaneda-Stoikov) or "glft" (Gueant closed form)
    gamma: float = 0.05                 # risk aversion, 1/(USD x contract)
    glft_xi_zero: bool = False          # GLFT: xi = 0 ("model B") instead of xi = gamma
    order_unit: float = 0.001           # GLFT Delta: contracts per quote unit
    horizon_s: float = 60.0             # AS rolling horizon for perpetuals (T - t), seconds
    # --- volatility ----------------------------------------------------------------------------
    vol_half_life_s: float = 30.0       # EWMA half-life, seconds
    sigma_initial: float = 5.0          # prior sigma until data arrives, USD/sqrt(s)
    sigma_floor: float = 0.5            # USD/sqrt(s)
    sigma_ceiling: float = 200.0        # USD/sqrt(s)
    # --- intensity lambda(delta) = A exp(-k delta) --------------------------------------------
    a_prior: float = 1.0                # fills/s per side until enough data
    k_prior: float = 0.1                # 1/USD until enough data
    intensity_depths_ticks: tuple = (0, 1, 2, 3, 5, 8, 12, 18, 25, 35)  # grid, ticks from the mid
    intensity_window_s: float = 600.0   # rolling window, seconds
    intensity_refit_s: float = 5.0      # refit interval, seconds
    intensity_min_arrivals: float = 50  # arrivals in the window before a fit replaces the prior
    # --- volume candles -----------------------------------------------------------------------
    candles: bool = True                # let candle signals tilt gamma, kappa and the centre
    candle_volume: float = 1.0          # contracts per candle
    candle_max_s: float = 60.0          # a candle closes after this many seconds at most
    candle_lookback: int = 8            # candles the signals look at
    candle_max_multiplier: float = 2.0  # gamma and kappa stay within [1/x, x] of their base
    candle_max_offset_frac: float = 0.5  # centre offset within +/- this x half-spread
    # --- ladder ---------------------------------------------------------------------------------
    levels: int = MAX_LEVELS            # levels per side (1..MAX_LEVELS)
    level_spacing_ticks: float = 1.0    # between levels, ticks
    min_spread_ticks: float = 2.0       # total spread clamp, ticks
    max_spread_ticks: float = 2000.0
    fee_aware: bool = True              # add the maker fee to each half-spread
    maker_fee_rate: float = 0.0001      # fraction of notional (0.01 %); negative = rebate
    base_size: float = 0.001            # contracts at level 0
    size_multipliers: tuple = (1, 1, 1.5, 1.5, 2, 2, 2.5, 2.5, 3, 3)
    eta: float = 0.0                    # size shaping, 1/contract
    max_position: float = 0.1           # |position| limit, contracts, counting open orders
    requote_tolerance_ticks: float = 1.0  # a level moving no more than this is left resting
    # --- quote fading near the position limit -----------------------------------------------
    fade_start: float = 0.5             # fraction of max_position where the growing side starts fading
    fade_ticks: float = 20.0            # how far (ticks) that side has stepped away at the limit
    # --- fast cancel in volatile markets ------------------------------------------------------
    fast_cancel: bool = True
    fc_window_s: float = 1.0            # the mid's move is measured over this window, seconds
    fc_move_ticks: float = 30.0         # a move beyond this many ticks triggers (0 = off)
    fc_sigma_multiple: float = 6.0      # ... or beyond this many sigma x sqrt(window) (0 = off)
    fc_vol_jump: float = 4.0            # sigma beyond this multiple of its slow average: both sides (0 = off)
    fc_settle_s: float = 3.0            # quiet time before quoting the pulled side again, seconds
    fc_widen: float = 2.0               # spread multiplier while settling
    # --- adverse selection (markouts) ---------------------------------------------------------
    markout_widen: bool = True
    markout_horizon_s: float = 5.0      # which markout drives the widening (1, 5 or 30 s)
    markout_threshold: float = 2.0      # USD per contract of adverse markout tolerated
    markout_max_widen_ticks: float = 20.0  # cap on the extra distance a side gets, ticks

    # Settings each estimator is built from: the engine rebuilds an estimator (losing its state)
    # only when these change, so a live gamma or ladder change keeps sigma, A, k and the candles.
    def volatility_settings(self) -> tuple:
        return self.vol_half_life_s, self.sigma_initial, self.sigma_floor, self.sigma_ceiling

    def intensity_settings(self) -> tuple:
        return (tuple(self.intensity_depths_ticks), self.intensity_window_s, self.intensity_refit_s,
                self.a_prior, self.k_prior, self.intensity_min_arrivals)

    def candle_settings(self) -> tuple:
        return (self.candle_volume, self.candle_max_s, self.candle_lookback,
                self.candle_max_multiplier, self.candle_max_offset_frac)

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
                                        self.sigma_ceiling)
        if old is None or old.intensity_settings() != self.intensity_settings():
            out["intensity"] = classes["intensity"](
                [d * tick for d in self.intensity_depths_ticks], self.intensity_window_s,
                self.intensity_refit_s, self.a_prior, self.k_prior, self.intensity_min_arrivals)
        if old is None or old.candle_settings() != self.candle_settings():
            out["candles"] = classes["candles"](self.candle_volume, self.candle_max_s, self.candle_lookback,
                                                max_multiplier=self.candle_max_multiplier,
                                                max_offset_frac=self.candle_max_offset_frac)
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
        if self.model not in MODELS:
            bad("model", f"expected one of {', '.join(MODELS)}")
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, float) and not math.isfinite(v) and f.name != "max_spread_ticks":
                bad(f.name, "must be a finite number")
        for name in ("gamma", "order_unit", "horizon_s", "vol_half_life_s", "a_prior", "k_prior",
                     "intensity_window_s", "intensity_refit_s", "candle_volume", "candle_max_s",
                     "level_spacing_ticks", "min_spread_ticks", "base_size", "max_position"):
            if not getattr(self, name) > 0:
                bad(name, "must be > 0")
        for name in ("sigma_initial", "sigma_floor", "eta", "requote_tolerance_ticks",
                     "intensity_min_arrivals", "fade_ticks", "fc_move_ticks", "fc_sigma_multiple",
                     "fc_vol_jump", "fc_settle_s", "markout_threshold", "markout_max_widen_ticks"):
            if not getattr(self, name) >= 0:
                bad(name, "must be >= 0")
        if not self.sigma_floor <= self.sigma_ceiling:
            bad("sigma_ceiling", f"must be >= sigma_floor ({self.sigma_floor})")
        if not self.min_spread_ticks <= self.max_spread_ticks:
            bad("max_spread_ticks", f"must be >= min_spread_ticks ({self.min_spread_ticks})")
        if not 1 <= self.levels <= MAX_LEVELS:
            bad("levels", f"must be 1..{MAX_LEVELS} (Thalex mass quotes hold {MAX_LEVELS} a side)")
        if len(self.size_multipliers) < self.levels or min(self.size_multipliers) <= 0:
            bad("size_multipliers", f"need {self.levels} values > 0, one per level")
        d = self.intensity_depths_ticks
        if len(d) < 2 or d[0] < 0 or any(b <= a for a, b in zip(d, d[1:])):
            bad("intensity_depths_ticks", "need >= 2 increasing depths >= 0")
        if self.candle_lookback < 2:
            bad("candle_lookback", "must be >= 2")
        if not self.candle_max_multiplier >= 1:
            bad("candle_max_multiplier", "must be >= 1")
        if not 0 <= self.candle_max_offset_frac <= 1:
            bad("candle_max_offset_frac", "must be within 0..1")
        if not 0 <= self.fade_start <= 1:
            bad("fade_start", "must be within 0..1 (a fraction of max_position)")
        if not self.fc_window_s > 0:
            bad("fc_window_s", "must be > 0")
        if not self.fc_widen >= 1:
            bad("fc_widen", "must be >= 1")
        if self.markout_horizon_s not in MARKOUT_HORIZONS:
            bad("markout_horizon_s", "must be 1, 5 or 30 (the markout horizons tracked)")
        if not -0.01 <= self.maker_fee_rate <= 0.01:
            bad("maker_fee_rate", "must be within -0.01..0.01 (a fraction of notional)")
        return self
