"""The still market the sim tests run against: no random walk and no background flow, so the
book is exactly the background ladder (best bid 99995, best ask 100005 on BTC-PERPETUAL, 5 USD
apart per level, 8 levels) until a test trades."""
STILL = {"volatility": 0, "flow_rate": 0, "seed": 1}
BEST_BID, BEST_ASK = 99995.0, 100005.0
BTC = "BTC-PERPETUAL"
