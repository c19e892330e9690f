"""Frames from Thalex into shm records: ``frame`` parses once and routes by channel to
``market`` (ticker, book, trades, index) or ``orders`` (session.orders); ``account`` reads
trade reports, the portfolio and mass-quote results. Every field is input:
a value that is missing, of the wrong type or out of range rejects the item with a reason."""
