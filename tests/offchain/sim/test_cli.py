from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from offchain.sim.cli import EXIT_BAD_INPUT, main

from .conftest import REPO_ROOT, SCENARIOS

DEFAULT = str(SCENARIOS / "default.yaml")


def test_route_prints_the_path_and_eta(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["route", "supplier_ely", "wholesaler_cambridge"]) == 0
    out = capsys.readouterr().out
    assert "A10 Stretham roundabout" in out
    assert "total 20.09 km, ETA 16 min" in out


def test_route_at_rush_hour_takes_longer(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["route", "supplier_ely", "wholesaler_cambridge", "--at", "2026-06-15T08:00:00Z"]) == 0
    assert "ETA 24 min" in capsys.readouterr().out


def test_route_avoids_closed_edges(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["route", "supplier_ely", "wholesaler_cambridge", "--closed", "a10_waterbeach_stretham"]) == 0
    assert "A142" in capsys.readouterr().out


def test_route_to_an_unknown_place_fails_with_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["route", "supplier_ely", "mars"]) == EXIT_BAD_INPUT
    assert "unknown place 'mars'; known:" in capsys.readouterr().err


def test_route_with_an_unknown_closed_edge_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["route", "supplier_ely", "wholesaler_cambridge", "--closed", "a99"]) == EXIT_BAD_INPUT
    assert "unknown edge(s) a99" in capsys.readouterr().err


def test_places_lists_nodes_and_roads(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["places"]) == 0
    out = capsys.readouterr().out
    assert "wholesaler_cambridge" in out and "a14_milton_quy" in out


def test_run_writes_the_readings_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.csv"
    assert main(["run", DEFAULT, "--seed", "7", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert out.read_text().startswith("ts,shipment,device,vehicle,temp_centi_c")
    assert "ship-1 at +" in printed and f"wrote {out}" in printed


def test_separate_processes_write_byte_identical_readings(tmp_path: Path) -> None:
    outputs = []
    for hash_seed in ("1", "2"):  # str hashing differs between the processes; the readings must not
        out = tmp_path / f"r{hash_seed}.csv"
        subprocess.run(
            [sys.executable, "-m", "offchain.sim", "run", DEFAULT, "--seed", "7", "--out", str(out)],
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT), "PYTHONHASHSEED": hash_seed},
            cwd=REPO_ROOT,
            check=True,
            capture_output=True,
            timeout=60,
        )
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]


def test_run_with_start_override_shifts_the_timestamps(tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    assert (
        main(["run", DEFAULT, "--start", "2026-01-01T00:00:00Z", "--until-min", "5", "--out", str(out)]) == 0
    )
    first_ts = int(out.read_text().splitlines()[1].split(",")[0])
    assert first_ts == 1_767_225_600_000 + 60_000


def test_run_without_any_output_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", DEFAULT]) == EXIT_BAD_INPUT
    assert "give --out CSV and/or --api URL" in capsys.readouterr().err


def test_posting_without_an_admin_token_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ASC_SIM_ADMIN_TOKEN", raising=False)
    assert main(["run", DEFAULT, "--api", "http://127.0.0.1:8901"]) == EXIT_BAD_INPUT
    assert "needs ASC_SIM_ADMIN_TOKEN" in capsys.readouterr().err


def test_an_invalid_scenario_is_reported_with_file_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        (SCENARIOS / "default.yaml").read_text().replace("start_at: supplier_ely", "start_at: ely")
    )
    assert main(["run", str(bad), "--out", str(tmp_path / "r.csv")]) == EXIT_BAD_INPUT
    assert "bad.yaml: vehicles.0.start_at: unknown place 'ely'" in capsys.readouterr().err


def test_invalid_settings_are_reported(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ASC_SIM_BATCH_SIZE", "0")
    assert main(["places"]) == EXIT_BAD_INPUT
    assert "batch_size" in capsys.readouterr().err


def test_plot_draws_the_band_and_the_map(tmp_path: Path) -> None:
    readings = tmp_path / "r.csv"
    assert main(["run", DEFAULT, "--out", str(readings)]) == 0
    figure = tmp_path / "fig.png"
    assert main(["plot", str(readings), "--out", str(figure), "--band", "0,5"]) == 0
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and figure.stat().st_size > 50_000


def test_plot_of_a_missing_file_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plot", str(tmp_path / "none.csv"), "--out", str(tmp_path / "f.png")]) == EXIT_BAD_INPUT
    assert "none.csv: no such file" in capsys.readouterr().err


def test_plot_of_a_csv_without_readings_columns_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    assert main(["plot", str(bad), "--out", str(tmp_path / "f.png")]) == EXIT_BAD_INPUT
    assert "missing column(s) ts, shipment" in capsys.readouterr().err


def test_plot_rejects_an_inverted_band(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["plot", "x.csv", "--out", str(tmp_path / "f.png"), "--band", "5,0"])
    assert caught.value.code == 2


def test_sigterm_stops_a_paced_run_and_keeps_what_was_written(tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    process = subprocess.Popen(
        [sys.executable, "-m", "offchain.sim", "run", DEFAULT, "--speed", "60", "--out", str(out)],
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while not (out.exists() and out.read_text().count("\n") >= 2):
            assert time.monotonic() < deadline, "no readings written"
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, stderr
    assert "stopping at the next sample" in stderr
    assert out.read_text().count("\n") >= 2 and "wrote" in stdout
