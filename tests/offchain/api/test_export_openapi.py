"""The published OpenAPI document is the one the code generates, and the server serves it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx

from offchain.api.export_openapi import DEFAULT_PATH, main, render

from .conftest import REPO_ROOT, RunningApi


def test_committed_openapi_file_is_up_to_date() -> None:
    assert DEFAULT_PATH.read_text(encoding="utf-8") == render(), (
        "interfaces/openapi.json is stale: run python -m offchain.api.export_openapi"
    )


def test_check_mode_fails_on_stale_file(tmp_path: Path) -> None:
    stale = tmp_path / "openapi.json"
    stale.write_text("{}\n", encoding="utf-8")
    assert main(["--output", str(stale), "--check"]) == 1


def test_export_command_writes_the_document(tmp_path: Path) -> None:
    target = tmp_path / "openapi.json"
    subprocess.run(
        [sys.executable, "-m", "offchain.api.export_openapi", "--output", str(target)],
        cwd=REPO_ROOT,
        check=True,
    )
    assert target.read_text(encoding="utf-8") == render()


def test_server_serves_the_published_document(sqlite_api: RunningApi) -> None:
    served = httpx.get(f"{sqlite_api.base_url}/openapi.json").json()
    assert served == json.loads(DEFAULT_PATH.read_text(encoding="utf-8"))
    assert httpx.get(f"{sqlite_api.base_url}/docs").status_code == 200


def test_document_describes_errors_as_problem_details() -> None:
    document = json.loads(render())
    post = document["paths"]["/batches"]["post"]["responses"]
    assert set(post) >= {"200", "201", "401", "403", "409", "413", "422"}
    assert "application/problem+json" in post["422"]["content"]
    assert "HTTPValidationError" not in document["components"]["schemas"]
