"""Live credentials: never in conf/, always from the environment (DESIGN.md "Configuration")."""
from __future__ import annotations

import os

from conf.load import ConfigError
from conf.schema import Venue
from venue.token import KeyFileError, load_private_key


def read_credentials(venue: Venue, environ=os.environ) -> tuple[str, str]:
    """(key_id, private key PEM) from the variables ``venue`` names; a clear error otherwise.

    The key file must be readable by its owner only (venue.token.load_private_key refuses
    anything else, naming the path and the mode, never the content).
    """
    key_id = environ.get(venue.key_id_env, "")
    key_path = environ.get(venue.private_key_env, "")
    if not key_id:
        raise ConfigError(f"{venue.key_id_env} is not set: export the Thalex API key id")
    if not key_path:
        raise ConfigError(f"{venue.private_key_env} is not set: export the path of the RSA private key")
    try:
        return key_id, load_private_key(key_path)
    except KeyFileError as exc:
        raise ConfigError(f"{venue.private_key_env}: {exc}") from None
