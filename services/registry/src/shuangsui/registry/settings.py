"""Registry settings: all from the environment (the README's settings table)."""

from pydantic import Field

from shuangsui.kernel.settings import DatabaseSettings

SERVICE = "registry"


class Settings(DatabaseSettings):
    max_push_bytes: int = Field(
        default=512 * 1024 * 1024,
        description="MAX_PUSH_BYTES — largest bulk push body accepted (413 above it)",
    )
