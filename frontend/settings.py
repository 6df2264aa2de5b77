"""Settings of the dapp (environment prefix ``ASC_DAPP_``). The keystore password is never a setting: the
dapp asks for it once per browser session."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class DappSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ASC_DAPP_", extra="forbid")

    manifests: Annotated[list[Path], NoDecode] = Field(
        default=[ROOT / ".state" / "deployments" / "asc-local.json"],
        description="deployment manifests (comma-separated); each is a network the partner can pick",
    )
    network: str | None = Field(default=None, description="network picked at start; default: the first manifest")
    rpc_url: str | None = Field(default=None, description="JSON-RPC endpoint; default: the manifest's rpc_hint")
    api_url: str | None = Field(default=None, description="ASC API base URL (readings, verdicts, messages)")
    keystore: Path | None = Field(default=None, description="the partner's encrypted JSON keystore")
    report_dir: Path = Field(default=ROOT / ".state" / "reports", description="delivery reports are written here")
    refresh_s: float = Field(default=5.0, gt=0, description="live views re-read the chain and the API this often")
    log_chunk_blocks: int = Field(default=5_000, ge=1, description="blocks per eth_getLogs request")
    map_style: str | None = Field(
        default=None, description="basemap style URL for the map; none: no request beyond the chain and the API"
    )
    api_timeout_s: float = Field(default=10.0, gt=0)

    @field_validator("manifests", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("manifests")
    @classmethod
    def _not_empty(cls, value: list[Path]) -> list[Path]:
        if not value:
            raise ValueError("name at least one deployment manifest")
        return value
