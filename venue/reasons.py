"""Why a frame or payload was not turned into records: small ints, counted per reason.

Decoders return ``-reason`` on rejection (see decode.py); ``REASON_NAMES[reason]`` names it in
logs and counters.
"""
from __future__ import annotations

OK = 0
BAD_JSON = 1            # not parseable JSON (this includes NaN / Infinity literals)
NOT_OBJECT = 2          # JSON, but not an object / payload of the wrong shape
NOT_NOTIFICATION = 3    # no channel_name + notification (a reply, or garbage)
UNKNOWN_CHANNEL = 4     # a channel nobody registered
MISSING_FIELD = 5       # a required field is absent or null
BAD_TYPE = 6            # a field of the wrong JSON type (string price, list for object...)
BAD_PRICE = 7           # NaN, infinite, zero or negative price
BAD_AMOUNT = 8          # NaN, infinite or negative amount (zero where a size is required)
CROSSED_BOOK = 9        # best bid >= best ask
BAD_VALUE = 10          # an out-of-range number or an unknown enum string
UNKNOWN_INSTRUMENT = 11  # an instrument name we do not trade
NO_SNAPSHOT = 12        # a book delta before the book's snapshot
DUPLICATE_FILL = 13     # a fill whose trade id was already reported (counted; the frame goes on)
TRUNCATED = 14          # more items than the output buffer holds (counted; the rest is written)
COMBINATION_ORDER = 15  # an order update with legs instead of instrument_name (skipped, counted)
OTHER_TRADE_TYPE = 16   # a trade report we do not book (trade_type not "normal"; skipped, counted)

REASON_NAMES = (
    "ok", "bad_json", "not_object", "not_notification", "unknown_channel", "missing_field",
    "bad_type", "bad_price", "bad_amount", "crossed_book", "bad_value", "unknown_instrument",
    "no_snapshot", "duplicate_fill", "truncated", "combination_order", "other_trade_type",
)
N_REASONS = len(REASON_NAMES)
