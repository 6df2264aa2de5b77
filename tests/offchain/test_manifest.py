"""Deployment manifest: validation, atomic write, clear errors."""

from pathlib import Path

import pytest

from offchain.manifest import (
    SCHEMA,
    SLA_FIELDS,
    DeploymentManifest,
    ManifestError,
    load_manifest,
    sla_terms,
    write_manifest,
)

ADDRESS = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def _manifest(**overrides: object) -> DeploymentManifest:
    raw = {
        "schema": SCHEMA,
        "network": "asc-local",
        "chain_id": 31337,
        "deployer": ADDRESS,
        "deployed_at": 1,
        "token": ADDRESS,
        "contracts": {
            "Escrow": {
                "address": ADDRESS,
                "deploy_block": 3,
                "deploy_tx": "0x01",
                "runtime_code_hash": "0x02",
                "abi": [],
            },
            "VerdictHub": {
                "address": ADDRESS,
                "deploy_block": 5,
                "deploy_tx": "0x03",
                "runtime_code_hash": "0x04",
                "abi": [],
            },
        },
    }
    raw.update(overrides)
    return DeploymentManifest.model_validate(raw)


def test_round_trip_through_a_file(tmp_path: Path) -> None:
    manifest = _manifest()
    path = write_manifest(manifest, tmp_path / "nested" / "asc-local.json")
    assert load_manifest(path) == manifest
    assert manifest.first_block == 3


def test_missing_file_names_the_path_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"no deployment manifest at .*make deploy"):
        load_manifest(tmp_path / "absent.json")


def test_corrupt_json_is_a_manifest_error(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text("{not json")
    with pytest.raises(ManifestError, match="cannot read"):
        load_manifest(path)


def test_unknown_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text(_manifest().to_json().replace(SCHEMA, "asc-deployment/99"))
    with pytest.raises(ManifestError, match="unknown manifest schema"):
        load_manifest(path)


def test_non_checksummed_address_is_refused() -> None:
    with pytest.raises(ValueError, match="checksummed"):
        _manifest(
            deployer=ADDRESS,
            contracts={
                "Escrow": {
                    "address": ADDRESS.lower(),
                    "deploy_block": 1,
                    "deploy_tx": "0x",
                    "runtime_code_hash": "0x",
                    "abi": [],
                }
            },
        )


def test_unknown_contract_lookup_lists_what_exists() -> None:
    with pytest.raises(ManifestError, match=r"no contract 'Nope'.*\['Escrow', 'VerdictHub'\]"):
        _manifest().contract("Nope")


def test_sla_terms_reads_a_decoded_struct_by_name_or_position() -> None:
    expected = {name: i * 10 - 5 for i, name in enumerate(SLA_FIELDS)}
    assert sla_terms(expected) == expected
    assert sla_terms(tuple(expected.values())) == expected


def test_sla_terms_refuses_a_tuple_of_another_struct() -> None:
    with pytest.raises(ValueError, match="SlaTerms struct has 6 fields, got 5"):
        sla_terms((1, 2, 3, 4, 5))
