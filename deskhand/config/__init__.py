"""Deskhand's configuration: the checked contents of ``config.yaml`` and the secrets."""

from deskhand.config.loader import (
    ConfigError,
    ConfigProblem,
    load_config,
    parse_config,
    review_config,
)
from deskhand.config.schema import Config
from deskhand.config.secrets import Secrets

__all__ = [
    "Config",
    "ConfigError",
    "ConfigProblem",
    "Secrets",
    "load_config",
    "parse_config",
    "review_config",
]
