"""Configuration: TOML files in this directory, validated once into frozen objects.

    paper.toml       the default: the embedded local exchange, BTC-PERPETUAL, yield/backoff idling
    testnet.toml     Thalex testnet (credentials from THALEX_KEY_ID / THALEX_PRIVATE_KEY_FILE)
    production.toml  Thalex production
    colo.toml        a colocated host: isolated CPUs, feed, quoter and gateway busy-spinning, one a core

Per-instrument and per-product sections (``[instruments."ETH-PERPETUAL"]``, ``[products."FETHUSD"]``)
are conf/instruments.py's; ``Config.quoter_for(name)``, ``risk_for(name)`` and ``mmp_for(product)``
give one instrument's or product group's effective numbers.

``conf.load(path, overrides)`` returns a ``conf.schema.Config``; ``venue.credentials`` reads the
key id and private key from the environment and refuses a key file others can read.
"""
from conf.load import ConfigError, from_dict, load, to_dict  # noqa: F401
