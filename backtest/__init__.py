"""The backtester: market data replayed through the live QuoteEngine, limits and trading state,
against an exchange model with queue position and latency (bin/mm-backtest, bin/mm-synth).

Modules: events (record layouts), book.pxd / book_twin.py (the L2 book), core.pyx / core_twin.py
(the replay core, compiled and pure Python), ladder_orders (our order table: ladder -> insert /
amend / cancel, answers), data (readers, hftbacktest format), synth (synthetic data), driver (the
run), rundir (the run directory), record (bin/mm record), __main__ (bin/mm-backtest).

Fill rules. Prices are ticks, round(price / tick) half away from zero; amounts are compared in
lots; "ahead" = contracts in front of us at our price. The reference is hftbacktest 2.4.4
(NoPartialFillExchange / PartialFillExchange, RiskAdverseQueueModel, ProbQueueModel,
HashMapMarketDepth, ConstantLatency); rules 0-9 follow its code, checked fill for fill by
tests/unit/backtest/test_reference_agreement.py (and ``python -m testkit.hftbacktest_compare DATA
RUN`` on any data).
 0. The book (the exchange's and the one we receive) is tracked as hftbacktest tracks it: a size
    that rounds to 0 lots removes its level; a level at or beyond the opposite best moves that
    best past it (the crossed levels stay, hidden, until removed); a removed best is replaced by
    the next level between it and the lowest bid / highest ask seen since that side was last
    empty; a clear empties both sides, a side clear removes from its price to the best.
 1. Market data reaches the exchange at exch_ts and us at local_ts (CSV: + feed latency). Our
    actions reach the exchange entry latency after we send them; every answer (ack, reject,
    cancel, amend, fill) reaches us response latency after the exchange made it. Position and
    order state change only when the answer arrives. At equal times: data reaching us, answers
    reaching us, data at the exchange, our actions at the exchange.
 2. A post-only order whose price is at or beyond the opposite best (rule 0's best) when it
    reaches the exchange is rejected (Thalex reject_post_only; hftbacktest: GTX -> Expired). An
    order that rests joins the back: ahead = the book's size at its price at that moment.
 3. A trade through our price (a sell below our bid, a buy above our ask) fills the whole order
    at our price, in both modes (the aggressor swept our level first). Like hftbacktest, a buy
    trade at p looks at our asks from the best bid + 1 up to p (a sell: our bids from p up to the
    best ask - 1), or at all of them when that side is empty or the span exceeds our order count.
 4. A trade at our price first consumes what is ahead; we fill once it has gone beyond by at
    least half a lot: round((traded - ahead) / lot) > 0. No-partial: the whole order;
    partial: min(what rests, that excess).
 5. The best bid rising from b0 to b1 fills our asks at ticks in (b0, b1] whole (any ask <= b1
    when there was no bid or b1 - b0 exceeds our order count); the best ask falling likewise.
 6. A level's new size: risk-averse model: ahead = min(ahead, new size) (we advance only by
    trades, or when the level shrinks below what was ahead). Probabilistic models ("power" x^n,
    "log_prob" ln(1 + x)): of a decrease not explained by trades at our price, a share
    f(back)/(f(back)+f(front)) is taken from behind us and the rest from ahead.
 7. Amend: the same price and an amount no larger keeps the place; anything else is a new order
    at the back (and rule 2 again) with the amended amount.
 8. Fees: maker_fee_rate x price x amount per maker fill, taker_fee_rate for a taker fill
    ([risk] section); only a non-post-only order that crosses takes (all at the best price).
 9. A CLEAR event (a gap in captured data) empties both books: the engine sees no price and pulls.
10. Our side (ladder_orders.py, core.pyx): mass-quote mode (gateway.mass_quote, the default) keeps
    a level re-sent at the same price and amount (its priority too) and replaces any other change
    by cancel + insert; insert/amend mode amends unmatched orders in turn. One request per order
    at a time: an order with an insert, amend or cancel unanswered is left until the answer
    arrives, and the ladder is then applied again (hftbacktest's local model refuses a second
    request, and a gateway that waits never races its own amends).
11. Risk (driver.py): fills are booked as they reach us; the trading state (P&L limits, the
    position band) is looked at once after each batch of fills that reached us before a quote
    step, as the live risk process looks once per pass over its executions ring, and once every
    simulated second (marks move without fills). The pre-trade limits run on every ladder.

Where hftbacktest 2.4.4 differs, and what we do:
 - Amend that moves the price or grows the amount (insert/amend mode only; mass-quote mode never
   amends): hftbacktest re-inserts the order with its previous leaves_qty (only qty takes the new
   amount), so the fill and the next modify's keep-priority test use the old amount. We rest the
   amended amount, as Thalex's amend does. Same orders, times and prices; amounts differ.
 - Partial fills: the same rules (3, 4), but 2.4.4's PartialFillExchange stops with
   InvalidOrderStatus when a queue fill equals what rests (it marks the order filled and leaves
   it in the book: ``filled_qty > leaves`` where >= is needed); partial mode is not compared.
 - A trade or depth row flagged both buy and sell is read as buy, as there; BBO rows are ignored
   by both. Mass-quote semantics and the one-request rule are ours; fees are not compared.
 - Order ids: ours are Thalex client ids; hftbacktest takes them unchanged.
"""
