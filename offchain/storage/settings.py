"""Settings of the evidence store (environment prefix ``ASC_STORAGE_``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from multiaddr import Multiaddr
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Backend = Literal["embedded", "ipfs"]


class StorageSettings(BaseSettings):
    """Where evidence objects live.

    With no backend given, the store is the embedded directory unless an IPFS API address is configured.
    """

    model_config = SettingsConfigDict(env_prefix="ASC_STORAGE_", extra="forbid")

    backend: Backend | None = None
    directory: Path = Path(".state/evidence")
    ipfs_api: str | None = Field(
        default=None, description="RPC API multiaddr, e.g. /ip4/127.0.0.1/tcp/5001/http"
    )
    ipfs_http_timeout_s: float = Field(default=60.0, gt=0, description="client-side limit for one HTTP call")
    ipfs_fetch_timeout_s: float = Field(
        default=20.0, gt=0, description="node-side limit for finding content (cat, pin) before 'not found'"
    )
    ipfs_has_timeout_s: float = Field(default=2.0, gt=0, description="node-side limit for a presence check")
    ipfs_retries: int = Field(default=3, ge=0, description="extra attempts after a connection error")
    ipfs_backoff_s: float = Field(default=0.5, ge=0, description="first retry delay; doubles on each attempt")

    @field_validator("ipfs_api")
    @classmethod
    def _valid_multiaddr(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                Multiaddr(value)
            except Exception as exc:  # multiaddr raises several types for malformed input
                raise ValueError(f"not a multiaddr: {value!r} ({exc})") from exc
        return value

    @model_validator(mode="after")
    def _consistent(self) -> StorageSettings:
        if self.backend == "ipfs" and self.ipfs_api is None:
            raise ValueError("backend 'ipfs' needs ASC_STORAGE_IPFS_API (the node's RPC API multiaddr)")
        node_side = max(self.ipfs_fetch_timeout_s, self.ipfs_has_timeout_s)
        if self.ipfs_http_timeout_s <= node_side:
            raise ValueError(
                f"ipfs_http_timeout_s ({self.ipfs_http_timeout_s}) must exceed the node-side timeouts "
                f"({node_side}) so a missing object is reported by the node, not as a dropped connection"
            )
        return self

    @property
    def resolved_backend(self) -> Backend:
        if self.backend is not None:
            return self.backend
        return "ipfs" if self.ipfs_api is not None else "embedded"
