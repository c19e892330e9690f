"""The label each order carries: which ticker it reacts to (Thalex echoes it; our local exchange
measures tick to order by it, sim/latency.py)."""


def label_for(exchange_ts_ns: int) -> str:
    """The label that ties an order to the ticker stamped ``exchange_ts_ns`` (ns): tt<us>."""
    return f"tt{round(exchange_ts_ns / 1000)}"
