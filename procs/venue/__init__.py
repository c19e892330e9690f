"""The Thalex venue: login token, rate limits, a synchronous websocket client, hot decoders.

| module | what |
|---|---|
| token.py | RS512 login JWT with strictly increasing iat; key files others can read are refused |
| ratelimit.py | token buckets for Thalex's 10/50 orders/s and 1000 cancels/s, throttle cooldown |
| client.py | ThalexClient: id-matched calls, pipelined sends, notification dispatch, keep-alive |
| api.py | the Thalex methods as wrappers over call/send |
| decode.py | ticker / book / trades / session.orders decoded straight into shm records |
| errors.py | ThalexError, ThalexTimeout, ThalexConnectionError |
"""
