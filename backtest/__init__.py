"""The backtester: market data replayed through the live QuoteEngine, limits and trading state,
against an exchange model with queue position and latency (bin/mm-backtest, bin/mm-synth).

Modules: events (record layouts), core.pyx / core_twin.py (the replay core, compiled and pure
Python), data (readers), synth (synthetic data), ladder_orders (ladder -> insert/amend/cancel),
driver (the run), rundir (the run directory), __main__ (bin/mm-backtest).

Fill rules (prices in ticks; "ahead" = contracts in front of us at our price):
 1. Market data reaches the exchange at exch_ts and us at local_ts (CSV: + feed latency). Our
    actions reach the exchange entry latency after we send them; every answer (ack, reject,
    cancel, amend, fill) reaches us response latency after the exchange made it. Position and
    order state change only when the answer arrives. At equal times: data reaching us, answers
    reaching us, data at the exchange, our actions at the exchange (hftbacktest's order).
 2. A post-only order whose price crosses the opposite best when it reaches the exchange is
    rejected (Thalex reject_post_only). An order that rests joins the back: ahead = the book's
    size at its price at that moment (the book never contains our own orders).
 3. A trade through our price (a sell below our bid, a buy above our ask) fills us at our price.
    No-partial mode: the whole order; partial mode: min(our amount, the trade's size).
 4. A trade at our price first consumes what is ahead; we fill once it has gone beyond by at
    least half an amount tick: round((traded - ahead) / lot) > 0. No-partial: the whole order;
    partial: min(our amount, that excess).
 5. The opposite best reaching our price (the best ask coming down to our bid, or the best bid
    up to our ask) fills the whole order at our price.
 6. A level shrinking: risk-averse model: ahead = min(ahead, new size) (we advance only when the
    level shrinks below what was ahead). Probabilistic models ("power" x^n, "log_prob"
    ln(1 + x)): of a decrease not explained by trades, a share f(back)/(f(back)+f(front)) is taken
    from behind us and the rest from ahead (Moallemi/hftbacktest's ProbQueueModel).
 7. Amend: the same price and an amount no larger keeps the place; anything else is a new order
    at the back (and rule 2 again). Mass-quote mode (gateway.mass_quote): a level re-sent at the
    same price and amount is left alone (keeps priority), any other change is cancel + insert.
 8. Fees: maker_fee_rate x price x amount per maker fill, taker_fee_rate for a taker fill
    ([risk] section); only a non-post-only order that crosses takes (all at the best price).
 9. A CLEAR event (a gap in captured data) empties both books: the engine sees no price and pulls.

Where hftbacktest 2.4.4 (NoPartialFillExchange, RiskAdverseQueueModel) differs: rules 1-6 and 7's
amend follow its code (nopartialfillexchange.rs, models/queue.rs, backtest/evs.rs). It rejects a
crossing GTX order the same way (status Expired). Differences: its partial-fill exchange fills a
trade-through by the trade's quantity in a different order across our orders; its modify of a
GTX order that crosses becomes Expired while ours reports a post-only reject (same effect: the
order is gone); mass-quote semantics are ours (Thalex's). Not checked against it here yet: the
replay of orders.csv through hftbacktest (see the README).
"""
