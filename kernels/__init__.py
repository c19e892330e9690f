"""Pricing kernels: what the quoter runs on every event (MODELS.md has the formulas and units).

Each kernel is a compiled Cython module (``kernels/<name>.pyx`` with a ``.pxd`` table of
contents) and a pure-Python twin with the same API (``kernels/twins/<name>.py``); the tests run
against both and ``bin/mm-bench kernels`` times both.

    avellaneda   reservation price and optimal spread (finite or rolling horizon)
    glft         Gueant closed form c1, c2, half-spread, skew (xi = gamma or 0)
    volatility   EWMA realised variance of the mid, per second
    intensity    online maximum-likelihood fit of A and k
    candles      volume candles, four signals, bounded gamma/kappa/offset adjustment
    ladder       N levels a side: clamp, fee pad, sizes, limits, ticks, post-only, tolerance
    guard        fast cancel: a sharp move or a volatility jump pulls the exposed side
    markout      the mid after each of our fills (1, 5, 30 s): adverse selection per side
    quote        QuoteEngine: the quoter's single entry point, fills a QuoteSet record
    plausibility the feed's checks of market data against our clock and the last good data
    pretrade     the pre-trade checks of a ladder against limits, position and open orders
    mass_quote   a QuoteSet record encoded as Thalex's private/mass_quote request (JSON bytes)
    ws_frame     a client's masked websocket text frame around a payload

``estimator_state.py`` (plain Python) checks the states the estimators save and resume
(``state()`` / ``restore()``), for the compiled kernels and the twins alike.
"""
import importlib
from types import SimpleNamespace

MODULES = ("avellaneda", "glft", "volatility", "intensity", "candles", "ladder", "guard", "markout",
           "quote", "plausibility", "pretrade", "mass_quote", "ws_frame")


def implementation(kind: str = "cython") -> SimpleNamespace:
    """Every kernel name of one implementation: ``"cython"`` (compiled) or ``"python"`` (twins)."""
    if kind not in ("cython", "python"):
        raise ValueError(f"implementation {kind!r}: expected 'cython' or 'python'")
    prefix = "kernels." if kind == "cython" else "kernels.twins."
    names = {}
    for module in MODULES:
        mod = importlib.import_module(prefix + module)
        names.update({k: v for k, v in vars(mod).items()
                      if not k.startswith("_") and (callable(v) or k.startswith("ENGINE_"))})
    names["kind"] = kind
    return SimpleNamespace(**names)
