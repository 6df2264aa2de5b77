"""The one settings object of the simulator (environment prefix `ASC_SIM_`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class SimSettings(BaseSettings):
    """Configuration of one simulator process; command-line options override these.

    `admin_token` is a secret: it has no default value (None means "not given"), is only needed to
    register loggers with the API, and is never logged.
    """

    model_config = SettingsConfigDict(env_prefix="ASC_SIM_", env_file=None, extra="ignore")

    api_url: str | None = Field(default=None, description="Ingestion API; readings are only posted if set.")
    admin_token: SecretStr | None = Field(default=None, min_length=16, description="API admin bearer token.")
    data_dir: Path = Field(default=Path(".state/sim"), description="Holds the loggers' private keys.")
    seed: int = Field(default=7, ge=0)
    speed: float = Field(default=0.0, ge=0, description="Simulated seconds per wall second; 0 = flat out.")
    batch_size: int = Field(default=30, ge=1, le=1000, description="Readings per signed batch.")
    post_retries: int = Field(default=3, ge=0, le=20, description="Retries of a batch on transport errors.")
    progress_every_min: float = Field(default=10.0, gt=0, description="Simulated minutes between reports.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # The world service (`python -m offchain.sim serve`).
    host: str = "127.0.0.1"
    port: int = Field(default=9350, ge=0, le=65535)
    chain_rpc_url: str | None = Field(
        default=None, description="A local chain (1337/31337) whose clock follows the simulated one."
    )
    chain_warp_min_s: int = Field(
        default=5, ge=1, description="Warp the chain once it lags the simulated clock by this much."
    )
    step_wall_s: float = Field(default=0.2, gt=0, le=5, description="Wall time between two advances of the world.")
    loading_min: float = Field(default=10.0, ge=0, le=240, description="Doors open at pickup and at unloading.")
    handoff_dwell_min: float = Field(default=15.0, gt=0, le=240, description="Doors open during a transfer.")
    graceful_shutdown_s: int = Field(default=5, gt=0)
