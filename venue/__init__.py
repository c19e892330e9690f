"""The Thalex venue, a library of its own: login token, rate limits, a synchronous websocket
client, and the hot decoders that turn frames into shm records.

| module | what |
|---|---|
| token.py | RS512 login JWT with strictly increasing iat; key files others can read are refused |
| credentials.py | the key id and private key path from the environment (never from conf/) |
| ratelimit.py | token buckets for Thalex's 10/50 orders/s and 1000 cancels/s, throttle cooldown |
| client.py | ThalexClient: id-matched calls, pipelined sends, pre-encoded sends, notification dispatch, keep-alive |
| frames.py | FrameReader: websocket frames cut out of one receive buffer (no websocket-client layers) |
| api.py | the Thalex methods as wrappers over call/send |
| errors.py | ThalexError, ThalexTimeout, ThalexConnectionError, SubscriptionError |
| frame_log.py | per-reason counts and throttled logging of frames we could not use |
| reasons.py | rejection reason codes and names |
| layouts.py | struct packers for MD / trade / exec records, checked against shm/records.py |
| decode/market.py | ticker / book / trades / index payloads into shm records |
| decode/orders.py | session.orders OrderStatus items into exec events, duplicate fills dropped |
| decode/account.py | trade reports, portfolio positions and mass-quote errors, validated |
| subscriptions.py | what a subscribe call returned against what was asked: missing required channels |
| decode/frame.py | FrameDecoder: raw frame bytes -> one parse -> records in reused buffers |
"""
