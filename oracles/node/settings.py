"""The one settings object of an oracle node (environment prefix ``ASC_ORACLE_``).

The signing key is a secret: it has no default, comes either as an encrypted keystore (path + password) or,
for development chains, as a raw hex key, and never appears in a repr or a log line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ActionName = Literal["penalty", "hold", "reroute"]
# Named points where a test may have the node kill itself (SIGKILL) to prove restart safety.
CrashPoint = Literal["after_sign", "after_send"]


def _split_list(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class OracleNodeSettings(BaseSettings):
    """Configuration of one oracle node process."""

    model_config = SettingsConfigDict(env_prefix="ASC_ORACLE_", env_file=None, extra="ignore", frozen=True)

    manifest_path: Path = Field(
        default=Path(".state/deployments/asc-local.json"),
        description="Deployment manifest (addresses, ABIs).",
    )
    rpc_url: str | None = Field(default=None, description="JSON-RPC endpoint; default: the manifest's rpc_hint.")

    private_key: SecretStr | None = Field(default=None, description="Raw hex signing key (development only).")
    dev_key_index: int | None = Field(
        default=None,
        ge=0,
        description="Local chains only: sign with the i-th development oracle key (offchain.devkeys).",
    )
    keystore_path: Path | None = Field(default=None, description="Encrypted JSON keystore of the signing key.")
    keystore_password: SecretStr | None = Field(default=None, description="Password of the keystore.")

    shipments: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Optional filter: only these shipments (custody twin ids), comma-separated; empty = every "
        "twin in transit found on-chain.",
    )
    discovery_from_block: int | None = Field(
        default=None, ge=0, description="First block scanned for shipments; default: the deployment's."
    )
    discovery_chunk_blocks: int = Field(default=2000, ge=1, description="Blocks per eth_getLogs request.")
    confirmations: int = Field(
        default=0, ge=0, description="Blocks behind the head the scan stops (reorg safety on public chains)."
    )
    road_graph_path: Path | None = Field(
        default=None, description="Road graph for planned corridors; default: the packaged one."
    )
    corridor_width_m: int = Field(
        default=2000, gt=0, description="Width of the planned corridor (off-route beyond half of it)."
    )
    # Five fixes in a row at the usual one-a-minute rate: a stray GPS fix or a wrong turn put right at the
    # next junction is not a deviation; a truck that keeps away from the route for five minutes is.
    route_deviation_grace_s: int = Field(
        default=300, ge=0, description="Off the corridor for at least this long (reading time) before a verdict."
    )
    # A precooled reefer takes a load handed over a few degrees warm back into range in well under an hour
    # (the simulator's relief van: about 22 minutes from 13 degC, default scenario); a relief unit that cannot
    # is still caught within one typical leg.
    pull_down_allowance_s: int = Field(
        default=3600,
        ge=0,
        description="After taking a load that was out of range, the new holder is liable only for what is"
        " still (or again) out of range this long after its handover (reading time).",
    )
    use_isolation_forest: bool = Field(default=True, description="Run the window IsolationForest too.")
    evidence_context_readings: int = Field(
        default=60, ge=1, le=400, description="Readings before a window kept as its context in the evidence."
    )
    learned_lookback_s: int = Field(
        default=3600, ge=0, description="Learned-detector alerts this long before a window count for it."
    )
    peers: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Base URLs of the other nodes' peer endpoints, comma-separated."
    )
    listen_host: str = "127.0.0.1"
    listen_port: int = Field(default=8790, ge=0, le=65535)

    api_url: str = Field(default="http://127.0.0.1:8000", description="The reading API (offchain/api).")
    api_oracle_token: SecretStr | None = Field(
        default=None,
        description="Bearer token for POST /verdicts; without it accepted verdicts are not posted.",
    )

    data_dir: Path = Field(default=Path(".state/oracle"), description="Holds the checkpoint database.")

    poll_interval_s: float = Field(default=0.25, gt=0, description="Pause between rounds when idle.")
    page_size: int = Field(default=500, ge=1, le=1000, description="Readings fetched per API request.")
    rpc_backoff_initial_s: float = Field(default=0.25, gt=0, description="First retry delay after an RPC error.")
    rpc_backoff_max_s: float = Field(default=10.0, gt=0, description="Retry delays double up to this.")
    peer_timeout_s: float = Field(default=2.0, gt=0, description="Limit of one signature POST to a peer.")
    peer_retry_s: float = Field(default=1.0, gt=0, description="Pause before re-sending a signature to a peer.")
    gas_margin_percent: int = Field(default=20, ge=0, le=200, description="Head-room over the gas estimate.")

    # Verdict policy: what each kind of breach does on-chain and how severe it is.
    temperature_action: ActionName = "penalty"
    humidity_action: ActionName = "penalty"
    shock_action: ActionName = "penalty"
    route_deviation_action: ActionName = "penalty"
    delay_action: ActionName = "penalty"
    temperature_severity_step_centi_c: int = Field(
        default=200, gt=0, description="Each step of peak excess beyond the range adds one severity level."
    )
    humidity_severity_step_bp: int = Field(default=1000, gt=0)
    shock_severity_step_milli_g: int = Field(default=2000, gt=0)
    route_deviation_severity_step_m: int = Field(default=1000, gt=0)
    delay_severity_step_s: int = Field(default=3600, gt=0)
    max_severity: int = Field(default=5, ge=1, le=255)
    route_deviation_hold_from_severity: int = Field(
        default=3, ge=0, description="A route deviation this severe puts the goods on HOLD (0 = never)."
    )
    shock_hold_from_severity: int = Field(default=0, ge=0, description="Same for shocks (0 = never).")
    reefer_failure_action: ActionName = Field(
        default="reroute", description="Action of a temperature excursion whose evidence shows the reefer failing."
    )
    reefer_failure_min_rise_centi_c: int = Field(default=100, ge=0)
    reefer_failure_min_rising_percent: int = Field(default=50, ge=0, le=100)
    reefer_failure_needs_learned: bool = True

    crash_at: CrashPoint | None = Field(
        default=None,
        description="Test hook: SIGKILL this process at the named point (never set in production).",
    )

    _lists = field_validator("shipments", "peers", mode="before")(lambda cls, v: _split_list(v))

    @field_validator("peers")
    @classmethod
    def _peer_urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"peer {url!r} is not an http(s) URL")
        return [url.rstrip("/") for url in value]

    @field_validator("shipments")
    @classmethod
    def _shipment_ids(cls, value: list[str]) -> list[str]:
        for item in value:
            if not item.isdigit():
                raise ValueError(f"shipment {item!r} is not a custody twin id (a decimal integer)")
        return value

    @model_validator(mode="after")
    def _one_key_source(self) -> OracleNodeSettings:
        sources = [self.private_key, self.keystore_path, self.dev_key_index]
        if sum(source is not None for source in sources) != 1:
            raise ValueError(
                "set exactly one of ASC_ORACLE_PRIVATE_KEY, ASC_ORACLE_KEYSTORE_PATH or ASC_ORACLE_DEV_KEY_INDEX"
            )
        if self.keystore_path is not None and self.keystore_password is None:
            raise ValueError("ASC_ORACLE_KEYSTORE_PATH needs ASC_ORACLE_KEYSTORE_PASSWORD")
        return self

    @property
    def checkpoint_path(self) -> Path:
        return self.data_dir / "checkpoint.sqlite3"
