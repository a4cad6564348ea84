"""Inspection settings: all from the environment (the README's settings table)."""

from shuangsui.kernel.settings import DatabaseSettings

SERVICE = "inspection"


class Settings(DatabaseSettings):
    """Nothing beyond the common settings yet."""
