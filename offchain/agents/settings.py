"""The one settings object of an agent process (environment prefix `ASC_AGENT_`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class AgentSettings(BaseSettings):
    """Where an agent finds its config, its key, the chain, the API and the world.

    The key comes from an encrypted keystore (`keystore` + `keystore_password`, both secrets: no default,
    never logged) or, on local development chains only, from the public dev key at `dev_key_index`.
    """

    model_config = SettingsConfigDict(env_prefix="ASC_AGENT_", env_file=None, extra="ignore")

    config: Path | None = Field(default=None, description="The agent's YAML config (the CLI argument wins).")
    keystore: Path | None = Field(default=None, description="Encrypted JSON keystore of the agent's account.")
    keystore_password: SecretStr | None = Field(default=None, description="Password of the keystore.")
    dev_key_index: int | None = Field(default=None, ge=0, description="anvil dev key index (local chains only).")
    manifest: Path = Field(default=Path(".state/deployments/asc-local.json"), description="Deployment manifest.")
    rpc_url: str | None = Field(default=None, description="JSON-RPC endpoint; the manifest's rpc_hint if unset.")
    api_url: str | None = Field(default=None, description="Transcript and approvals API; none: kept locally.")
    world_url: str | None = Field(default=None, description="World service (carriers and logistics only).")
    data_dir: Path = Field(default=Path(".state/agents"), description="Holds <name>.sqlite when no db_url.")
    db_url: str | None = Field(default=None, description="Any SQLAlchemy URL; SQLite in data_dir by default.")
    confirmations: int = Field(default=2, ge=0, le=64, description="Blocks a log must be buried under.")
    poll_interval_s: float = Field(default=1.0, gt=0, le=60)
    log_chunk_blocks: int = Field(default=2_000, ge=1, description="Blocks per eth_getLogs request.")
    reorg_depth: int = Field(default=12, ge=1, description="Recent block hashes kept to detect reorgs.")
    tx_timeout_s: float = Field(default=60.0, gt=0, description="Resend with more gas after this long unmined.")
    approval_timeout_s: float = Field(default=3_600.0, gt=0, description="Give up on a pending approval after.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @model_validator(mode="after")
    def _one_key_source(self) -> AgentSettings:
        if self.keystore is not None and self.dev_key_index is not None:
            raise ValueError("set either ASC_AGENT_KEYSTORE or ASC_AGENT_DEV_KEY_INDEX, not both")
        return self

    def database_url(self, agent_name: str) -> str:
        if self.db_url:
            return self.db_url
        return f"sqlite:///{self.data_dir / f'{agent_name}.sqlite'}"
