"""What the C compiler made of shm/records.h: sizeof and each field's (offset, size).

Only the layout test uses this; it proves the NumPy dtypes and the C structs agree byte for byte.
"""
from shm.records cimport MdRecord, TradeRecord, QuoteSet, OrderCommand, ExecEvent

cdef size_t _off(const void *field, const void *base):
    return <size_t>(<const char *>field - <const char *>base)


def c_layouts():
    """{struct name: (sizeof, {field: (offset, size)})} as compiled."""
    cdef MdRecord m
    cdef TradeRecord t
    cdef QuoteSet q
    cdef OrderCommand o
    cdef ExecEvent e
    return {
        "MdRecord": (sizeof(MdRecord), {
            "type": (_off(&m.type, &m), sizeof(m.type)),
            "flags": (_off(&m.flags, &m), sizeof(m.flags)),
            "instrument_id": (_off(&m.instrument_id, &m), sizeof(m.instrument_id)),
            "seq": (_off(&m.seq, &m), sizeof(m.seq)),
            "exchange_ts_ns": (_off(&m.exchange_ts_ns, &m), sizeof(m.exchange_ts_ns)),
            "receive_ts_ns": (_off(&m.receive_ts_ns, &m), sizeof(m.receive_ts_ns)),
            "best_bid_price": (_off(&m.best_bid_price, &m), sizeof(m.best_bid_price)),
            "best_bid_amount": (_off(&m.best_bid_amount, &m), sizeof(m.best_bid_amount)),
            "best_ask_price": (_off(&m.best_ask_price, &m), sizeof(m.best_ask_price)),
            "best_ask_amount": (_off(&m.best_ask_amount, &m), sizeof(m.best_ask_amount)),
            "mark_price": (_off(&m.mark_price, &m), sizeof(m.mark_price)),
            "index_price": (_off(&m.index_price, &m), sizeof(m.index_price)),
            "last_price": (_off(&m.last_price, &m), sizeof(m.last_price)),
            "last_amount": (_off(&m.last_amount, &m), sizeof(m.last_amount)),
            "funding_rate": (_off(&m.funding_rate, &m), sizeof(m.funding_rate)),
            "publish_ts_ns": (_off(&m.publish_ts_ns, &m), sizeof(m.publish_ts_ns)),
        }),
        "TradeRecord": (sizeof(TradeRecord), {
            "type": (_off(&t.type, &t), sizeof(t.type)),
            "side": (_off(&t.side, &t), sizeof(t.side)),
            "instrument_id": (_off(&t.instrument_id, &t), sizeof(t.instrument_id)),
            "seq": (_off(&t.seq, &t), sizeof(t.seq)),
            "trade_id": (_off(&t.trade_id, &t), sizeof(t.trade_id)),
            "exchange_ts_ns": (_off(&t.exchange_ts_ns, &t), sizeof(t.exchange_ts_ns)),
            "receive_ts_ns": (_off(&t.receive_ts_ns, &t), sizeof(t.receive_ts_ns)),
            "price": (_off(&t.price, &t), sizeof(t.price)),
            "amount": (_off(&t.amount, &t), sizeof(t.amount)),
        }),
        "QuoteSet": (sizeof(QuoteSet), {
            "type": (_off(&q.type, &q), sizeof(q.type)),
            "n_bids": (_off(&q.n_bids, &q), sizeof(q.n_bids)),
            "n_asks": (_off(&q.n_asks, &q), sizeof(q.n_asks)),
            "instrument_id": (_off(&q.instrument_id, &q), sizeof(q.instrument_id)),
            "seq": (_off(&q.seq, &q), sizeof(q.seq)),
            "md_seq": (_off(&q.md_seq, &q), sizeof(q.md_seq)),
            "md_exchange_ts_ns": (_off(&q.md_exchange_ts_ns, &q), sizeof(q.md_exchange_ts_ns)),
            "created_ts_ns": (_off(&q.created_ts_ns, &q), sizeof(q.created_ts_ns)),
            "mid": (_off(&q.mid, &q), sizeof(q.mid)),
            "reservation_price": (_off(&q.reservation_price, &q), sizeof(q.reservation_price)),
            "half_spread": (_off(&q.half_spread, &q), sizeof(q.half_spread)),
            "sigma": (_off(&q.sigma, &q), sizeof(q.sigma)),
            "gamma": (_off(&q.gamma, &q), sizeof(q.gamma)),
            "intensity_a": (_off(&q.intensity_a, &q), sizeof(q.intensity_a)),
            "intensity_k": (_off(&q.intensity_k, &q), sizeof(q.intensity_k)),
            "inventory": (_off(&q.inventory, &q), sizeof(q.inventory)),
            "flags": (_off(&q.flags, &q), sizeof(q.flags)),
            "reason": (_off(&q.reason, &q), sizeof(q.reason)),
            "md_receive_ts_ns": (_off(&q.md_receive_ts_ns, &q), sizeof(q.md_receive_ts_ns)),
            "bid_price": (_off(&q.bid_price[0], &q), sizeof(q.bid_price)),
            "bid_amount": (_off(&q.bid_amount[0], &q), sizeof(q.bid_amount)),
            "ask_price": (_off(&q.ask_price[0], &q), sizeof(q.ask_price)),
            "ask_amount": (_off(&q.ask_amount[0], &q), sizeof(q.ask_amount)),
        }),
        "OrderCommand": (sizeof(OrderCommand), {
            "type": (_off(&o.type, &o), sizeof(o.type)),
            "side": (_off(&o.side, &o), sizeof(o.side)),
            "flags": (_off(&o.flags, &o), sizeof(o.flags)),
            "instrument_id": (_off(&o.instrument_id, &o), sizeof(o.instrument_id)),
            "seq": (_off(&o.seq, &o), sizeof(o.seq)),
            "client_order_id": (_off(&o.client_order_id, &o), sizeof(o.client_order_id)),
            "created_ts_ns": (_off(&o.created_ts_ns, &o), sizeof(o.created_ts_ns)),
            "price": (_off(&o.price, &o), sizeof(o.price)),
            "amount": (_off(&o.amount, &o), sizeof(o.amount)),
            "quote_seq": (_off(&o.quote_seq, &o), sizeof(o.quote_seq)),
        }),
        "ExecEvent": (sizeof(ExecEvent), {
            "type": (_off(&e.type, &e), sizeof(e.type)),
            "side": (_off(&e.side, &e), sizeof(e.side)),
            "liquidity": (_off(&e.liquidity, &e), sizeof(e.liquidity)),
            "instrument_id": (_off(&e.instrument_id, &e), sizeof(e.instrument_id)),
            "seq": (_off(&e.seq, &e), sizeof(e.seq)),
            "client_order_id": (_off(&e.client_order_id, &e), sizeof(e.client_order_id)),
            "order_id": (_off(&e.order_id, &e), sizeof(e.order_id)),
            "trade_id": (_off(&e.trade_id, &e), sizeof(e.trade_id)),
            "exchange_ts_ns": (_off(&e.exchange_ts_ns, &e), sizeof(e.exchange_ts_ns)),
            "receive_ts_ns": (_off(&e.receive_ts_ns, &e), sizeof(e.receive_ts_ns)),
            "price": (_off(&e.price, &e), sizeof(e.price)),
            "amount": (_off(&e.amount, &e), sizeof(e.amount)),
            "remaining": (_off(&e.remaining, &e), sizeof(e.remaining)),
            "position": (_off(&e.position, &e), sizeof(e.position)),
            "fee": (_off(&e.fee, &e), sizeof(e.fee)),
            "realised_pnl": (_off(&e.realised_pnl, &e), sizeof(e.realised_pnl)),
            "reason": (_off(&e.reason, &e), sizeof(e.reason)),
        }),
    }
