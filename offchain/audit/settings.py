"""Settings of the audit (environment prefix ``ASC_AUDIT_``); the evidence store keeps its own ``ASC_STORAGE_``."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from offchain.storage.settings import StorageSettings

ROOT = Path(__file__).resolve().parents[2]


class AuditSettings(BaseSettings):
    """Where the chain, the evidence and (optionally) the sensor series are, and how hard to ask the node."""

    model_config = SettingsConfigDict(env_prefix="ASC_AUDIT_", extra="forbid")

    rpc_url: str | None = Field(default=None, description="JSON-RPC endpoint; default: the manifest's rpc_hint")
    api_url: str | None = Field(default=None, description="ASC API base URL for sensor series plots (optional)")
    log_chunk_blocks: int = Field(default=5_000, ge=1, description="blocks per eth_getLogs request")
    rpc_retries: int = Field(default=4, ge=0, description="extra attempts after a failed RPC request")
    rpc_backoff_s: float = Field(default=0.5, ge=0, description="first retry delay; doubles on each attempt")
    project_root: Path = Field(default=ROOT, description="repository whose sources the deployed code must match")
    build_cache: Path = Field(
        default=ROOT / ".state" / "audit" / "build", description="compiler output cache, keyed by sources+settings"
    )
    storage: StorageSettings = Field(default_factory=StorageSettings)
