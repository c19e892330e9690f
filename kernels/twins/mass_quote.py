"""Pure-Python twin of kernels/mass_quote.pyx (the message is described there)."""
import math

from shm import records as R

MAX_DECIMALS = 12


def decimals_of(step):
    if not step > 0:
        raise ValueError(f"step={step}: expected a positive tick")
    for d in range(MAX_DECIMALS + 1):
        scaled = step * 10.0 ** d
        if abs(scaled - round(scaled)) <= 1e-9 * max(1.0, scaled):
            return d
    return MAX_DECIMALS


def _number(x, decimals):
    sign = "-" if x < 0 else ""
    v = abs(x) * 10.0 ** decimals
    if not v < 9.0e18:
        raise ValueError(f"mass_quote: {x} is too large to write with {decimals} decimals")
    r = math.floor(v)
    if v - r >= 0.5:
        r += 1
    digits = str(r).rjust(decimals + 1, "0")
    return sign + (digits[:-decimals] + "." + digits[-decimals:] if decimals else digits)


def _side(prices, amounts, n, pd, ad):
    levels = []
    for p, a in zip(prices[:n], amounts[:n]):
        if not (math.isfinite(p) and math.isfinite(a)):
            raise ValueError("mass_quote: a price or amount is not finite")
        levels.append(f"[{_number(p, pd)},{_number(a, ad)}]")
    return "[" + ",".join(levels) + "]"


def encode_mass_quote(q, rid, name, price_decimals, amount_decimals, label=b""):
    if not (0 <= price_decimals <= MAX_DECIMALS and 0 <= amount_decimals <= MAX_DECIMALS):
        raise ValueError(f"price_decimals={price_decimals}, amount_decimals={amount_decimals}: "
                         f"expected 0..{MAX_DECIMALS}")
    r = q[0]
    nb = na = 0
    if r["type"] == R.QUOTE_SET:
        nb, na = min(int(r["n_bids"]), R.MAX_LEVELS), min(int(r["n_asks"]), R.MAX_LEVELS)
    b = _side(r["bid_price"].tolist(), r["bid_amount"].tolist(), nb, price_decimals, amount_decimals)
    a = _side(r["ask_price"].tolist(), r["ask_amount"].tolist(), na, price_decimals, amount_decimals)
    text = ('{"method":"private/mass_quote","params":{"quotes":[{"i":"' + name.decode() + '","b":' + b
            + ',"a":' + a + "}]" + (',"label":"' + label.decode() + '"' if label else "")
            + ',"post_only":true},"id":' + str(rid) + "}")
    return text.encode()
