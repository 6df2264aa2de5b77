"""The one settings object of the API service (environment prefix `ASC_API_`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    """Configuration of one API process.

    The two tokens are secrets: they have no defaults and are never logged. `database_url` may carry a
    password, so it is only ever logged with the password hidden.
    """

    model_config = SettingsConfigDict(env_prefix="ASC_API_", env_file=None, extra="ignore")

    admin_token: SecretStr = Field(min_length=16, description="Bearer token for device registration.")
    oracle_token: SecretStr = Field(min_length=16, description="Bearer token for posting verdicts.")

    data_dir: Path = Field(default=Path(".state/api"), description="Holds the SQLite database by default.")
    database_url: str | None = Field(
        default=None, description="Any SQLAlchemy URL; default: SQLite (WAL) in data_dir."
    )

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    graceful_shutdown_s: float = Field(default=10.0, gt=0)

    max_batch_readings: int = Field(default=1000, ge=1, le=100_000)
    max_future_ms: int = Field(default=5 * 60 * 1000, ge=0, description="Clock skew allowed for devices.")
    max_speed_kmh: int = Field(default=250, gt=0, description="Faster moves between fixes are teleports.")

    feed_queue_size: int = Field(default=1000, ge=1, description="Messages buffered per feed client.")
    page_limit_max: int = Field(default=1000, ge=1)

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'api.sqlite3').resolve()}"
