/* C mirror of shm/records.py (the description, with byte diagrams, lives there).
 * tests/unit/shm/test_records.py checks sizeof and every offsetof against the NumPy dtypes. */
#ifndef MM_RECORDS_H
#define MM_RECORDS_H
#include <stdint.h>

#define MM_MAX_LEVELS 10

typedef struct {
    uint16_t type; uint16_t flags; uint32_t instrument_id; uint64_t seq;
    int64_t exchange_ts_ns; int64_t receive_ts_ns;
    double best_bid_price; double best_bid_amount;
    double best_ask_price; double best_ask_amount;
    double mark_price; double index_price;
    double last_price; double last_amount;
    double funding_rate; int64_t publish_ts_ns;
    uint8_t _reserved[16];
} MdRecord;

typedef struct {
    uint16_t type; int8_t side; uint8_t _pad0; uint32_t instrument_id; uint64_t seq;
    uint64_t trade_id; int64_t exchange_ts_ns; int64_t receive_ts_ns;
    double price; double amount;
    uint8_t _reserved[8];
} TradeRecord;

typedef struct {
    uint16_t type; uint8_t n_bids; uint8_t n_asks; uint32_t instrument_id; uint64_t seq;
    uint64_t md_seq; int64_t md_exchange_ts_ns; int64_t created_ts_ns;
    double mid; double reservation_price; double half_spread;
    double sigma; double gamma; double intensity_a; double intensity_k;
    double inventory; uint32_t flags; uint32_t reason;
    int64_t md_receive_ts_ns; uint8_t _reserved[8];
    double bid_price[MM_MAX_LEVELS]; double bid_amount[MM_MAX_LEVELS];
    double ask_price[MM_MAX_LEVELS]; double ask_amount[MM_MAX_LEVELS];
} QuoteSet;

typedef struct {
    uint16_t type; int8_t side; uint8_t flags; uint32_t instrument_id; uint64_t seq;
    uint64_t client_order_id; int64_t created_ts_ns;
    double price; double amount; uint64_t quote_seq;
    uint8_t _reserved[8];
} OrderCommand;

typedef struct {
    uint16_t type; int8_t side; uint8_t liquidity; uint32_t instrument_id; uint64_t seq;
    uint64_t client_order_id; uint64_t order_id; uint64_t trade_id;
    int64_t exchange_ts_ns; int64_t receive_ts_ns;
    double price; double amount; double remaining;
    double position; double fee; double realised_pnl;
    int32_t reason; uint8_t _pad0[4];
    uint8_t _reserved[16];
} ExecEvent;

#endif
