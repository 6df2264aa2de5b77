from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import pytest

from offchain.storage.__main__ import main
from offchain.storage.cid import CHUNK_SIZE_BYTES, cid_to_text, compute_cid
from offchain.storage.ipfs_node import IpfsNode

EVIDENCE = b'{"temp_mC":9100}'


@pytest.fixture
def evidence_file(tmp_path: Path) -> Path:
    path = tmp_path / "evidence.json"
    path.write_bytes(EVIDENCE)
    return path


@pytest.fixture(autouse=True)
def _embedded_store_in_tmp(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("BACKEND", "IPFS_API"):
        monkeypatch.delenv(f"ASC_STORAGE_{name}", raising=False)
    monkeypatch.setenv("ASC_STORAGE_DIRECTORY", str(tmp_path / "store"))


def _stored_file(tmp_path: Path, cid_text: str) -> Path:
    return tmp_path / "store" / "objects" / cid_text[-3:-1] / cid_text


CID_TEXT = cid_to_text(compute_cid(EVIDENCE))
BYTES32 = "0x" + hashlib.sha256(EVIDENCE).hexdigest()


def test_put_prints_cid_size_and_bytes32(evidence_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["put", str(evidence_file)]) == 0
    assert capsys.readouterr().out == f"{CID_TEXT}\tsize=16\tbytes32={BYTES32}\n"


def test_put_of_multi_block_file_prints_no_bytes32(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * (CHUNK_SIZE_BYTES + 1))
    assert main(["put", str(big)]) == 0
    assert "bytes32" not in capsys.readouterr().out


def test_get_writes_the_bytes_to_stdout(
    evidence_file: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    main(["put", str(evidence_file)])
    capsysbinary.readouterr()
    assert main(["get", CID_TEXT]) == 0
    assert capsysbinary.readouterr().out == EVIDENCE


def test_get_writes_the_bytes_to_a_file(evidence_file: Path, tmp_path: Path) -> None:
    main(["put", str(evidence_file)])
    assert main(["get", CID_TEXT, "-o", str(tmp_path / "out.json")]) == 0
    assert (tmp_path / "out.json").read_bytes() == EVIDENCE


def test_verify_reports_intact_object(evidence_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["put", str(evidence_file)])
    capsys.readouterr()
    assert main(["verify", CID_TEXT]) == 0
    assert capsys.readouterr().out.startswith(f"ok\t{CID_TEXT}\t")


def test_verify_fails_on_altered_object(
    evidence_file: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    main(["put", str(evidence_file)])
    stored = _stored_file(tmp_path, CID_TEXT)
    stored.chmod(0o644)
    stored.write_bytes(b'{"temp_mC":2100}')
    with caplog.at_level(logging.ERROR):
        assert main(["verify", CID_TEXT]) == 1
    assert "content altered" in caplog.text


def test_verify_fails_on_missing_object(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        assert main(["verify", CID_TEXT]) == 1
    assert f"content {CID_TEXT} not found" in caplog.text


def test_invalid_cid_exits_2(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        assert main(["get", "not-a-cid"]) == 2
    assert "not a valid CID" in caplog.text


def test_missing_input_file_exits_1(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        assert main(["put", str(tmp_path / "absent.json")]) == 1
    assert "absent.json" in caplog.text


def test_cid_computes_without_storing(
    evidence_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["cid", str(evidence_file)]) == 0
    assert capsys.readouterr().out.startswith(f"{CID_TEXT}\t")
    assert not _stored_file(tmp_path, CID_TEXT).exists()


def test_from_bytes32_prints_the_cid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["from-bytes32", BYTES32]) == 0
    assert capsys.readouterr().out == f"{CID_TEXT}\n"


@pytest.mark.parametrize("value", ["0xzz", "0x" + "00" * 31])
def test_from_bytes32_rejects_bad_input(value: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        assert main(["from-bytes32", value]) == 2
    assert caplog.text


def test_bad_settings_exit_2(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("ASC_STORAGE_BACKEND", "ipfs")
    with caplog.at_level(logging.ERROR):
        assert main(["verify", CID_TEXT]) == 2
    assert "needs ASC_STORAGE_IPFS_API" in caplog.text


def test_put_and_verify_through_the_ipfs_node(
    ipfs_node: IpfsNode,
    evidence_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ASC_STORAGE_IPFS_API", ipfs_node.api_multiaddr)
    assert main(["put", str(evidence_file)]) == 0
    assert main(["verify", CID_TEXT]) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith(f"ok\t{CID_TEXT}")
