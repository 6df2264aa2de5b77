"""The deployment manifest: the one place off-chain code learns where the contracts are.

Written by ``scripts/deploy.py`` after a deployment, read by oracles, agents, the API, the dapp and the audit
tool. No address is ever written in code or configuration by hand. One manifest per network::

    {
      "schema": "asc-deployment/1",
      "network": "asc-local", "chain_id": 31337, "rpc_hint": "http://127.0.0.1:8645",
      "deployer": "0x...", "deployed_at": 1764000000, "source_commit": "abc123..." | null,
      "token": "0x...",   # the ERC-20 orders settle in (TestStablecoin on local chains)
      "contracts": {
        "Escrow": {"address": "0x...", "deploy_block": 12, "deploy_tx": "0x...",
                   "runtime_code_hash": "0x...", "abi": [...]},
        ...
      }
    }
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from eth_utils import is_checksum_address
from pydantic import BaseModel, ConfigDict, Field, field_validator

SCHEMA = "asc-deployment/1"
SUITE = ("TestStablecoin", "ParticipantRegistry", "Escrow", "CustodyTwin", "Procurement", "VerdictHub")


class ManifestError(ValueError):
    """The manifest is missing, unreadable or does not describe a complete deployment."""


def _checksummed(cls: type, value: str) -> str:
    if not is_checksum_address(value):
        raise ValueError(f"not a checksummed address: {value!r}")
    return value


class DeployedContract(BaseModel):
    """One deployed contract."""

    model_config = ConfigDict(frozen=True)

    address: str
    deploy_block: int = Field(ge=0)
    deploy_tx: str
    runtime_code_hash: str
    abi: list[dict[str, Any]]

    _address = field_validator("address")(_checksummed)


class DeploymentManifest(BaseModel):
    """Chain id, addresses, deploy blocks and ABIs of one deployment of the suite."""

    model_config = ConfigDict(frozen=True)

    schema_: str = Field(alias="schema")
    network: str
    chain_id: int = Field(gt=0)
    rpc_hint: str | None = None
    deployer: str
    deployed_at: int
    source_commit: str | None = None
    token: str
    contracts: dict[str, DeployedContract]

    _addresses = field_validator("deployer", "token")(_checksummed)

    @field_validator("schema_")
    @classmethod
    def _known_schema(cls, value: str) -> str:
        if value != SCHEMA:
            raise ValueError(f"unknown manifest schema {value!r} (this code reads {SCHEMA!r})")
        return value

    def contract(self, name: str) -> DeployedContract:
        try:
            return self.contracts[name]
        except KeyError:
            raise ManifestError(
                f"the manifest of {self.network} (chain {self.chain_id}) has no contract {name!r}; "
                f"it has {sorted(self.contracts)}"
            ) from None

    @property
    def first_block(self) -> int:
        """The earliest deploy block: event scanners start here."""
        return min(c.deploy_block for c in self.contracts.values())

    def to_json(self) -> str:
        return json.dumps(self.model_dump(by_alias=True), indent=2, sort_keys=True) + "\n"


def default_manifest_path(network: str, root: Path | None = None) -> Path:
    """Where scripts/deploy.py writes the manifest of ``network`` unless told otherwise."""
    base = root if root is not None else Path(__file__).resolve().parent.parent
    return base / ".state" / "deployments" / f"{network}.json"


def load_manifest(path: str | os.PathLike[str]) -> DeploymentManifest:
    """Read and validate a manifest; every problem is a :class:`ManifestError` naming the file."""
    file = Path(path)
    try:
        raw = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"no deployment manifest at {file} (run `make deploy` or scripts/deploy.py)") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ManifestError(f"cannot read deployment manifest {file}: {exc}") from exc
    try:
        return DeploymentManifest.model_validate(raw)
    except ValueError as exc:
        raise ManifestError(f"invalid deployment manifest {file}: {exc}") from exc


def write_manifest(manifest: DeploymentManifest, path: str | os.PathLike[str]) -> Path:
    """Write atomically (temp file + rename), so a reader never sees half a manifest."""
    file = Path(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(manifest.to_json())
        os.replace(tmp, file)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return file


# IProcurement.SlaTerms (interfaces/IProcurement.sol), in ABI order.
SLA_FIELDS = (
    "tempMinCentiC",
    "tempMaxCentiC",
    "humidityMinBp",
    "humidityMaxBp",
    "shockLimitMilliG",
    "excursionGraceSeconds",
)


def sla_terms(value: Mapping[str, Any] | Sequence[Any]) -> dict[str, int]:
    """An SlaTerms struct as web3 decodes it (a mapping in events, a tuple from calls), by field name."""
    if isinstance(value, Mapping):
        return {name: int(value[name]) for name in SLA_FIELDS}
    if len(value) != len(SLA_FIELDS):
        raise ValueError(f"an SlaTerms struct has {len(SLA_FIELDS)} fields, got {len(value)}")
    return {name: int(field) for name, field in zip(SLA_FIELDS, value, strict=True)}
