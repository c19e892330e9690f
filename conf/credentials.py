"""Live credentials: never in conf/, always from the environment (DESIGN.md "Configuration")."""
from __future__ import annotations

import os
import stat
from pathlib import Path

from conf.load import ConfigError
from conf.schema import Venue


def read_credentials(venue: Venue, environ=os.environ) -> tuple[str, str]:
    """(key_id, private key PEM) from the variables ``venue`` names; a clear error otherwise.

    The key file must be readable by its owner only: a file others can read is refused (its
    secret may already have leaked, and it would keep leaking).
    """
    key_id = environ.get(venue.key_id_env, "")
    key_path = environ.get(venue.private_key_env, "")
    if not key_id:
        raise ConfigError(f"{venue.key_id_env} is not set: export the Thalex API key id")
    if not key_path:
        raise ConfigError(f"{venue.private_key_env} is not set: export the path of the RSA private key")
    path = Path(key_path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ConfigError(f"{venue.private_key_env}={key_path}: no such file") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"{venue.private_key_env}={key_path}: mode {stat.S_IMODE(mode):04o} lets "
                          "others read the key; expected 0600 (chmod 600 it)")
    return key_id, path.read_text()
