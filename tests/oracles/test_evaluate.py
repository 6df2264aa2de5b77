"""``python -m oracles.evaluate`` end to end on a labelled folder in NAB layout written by the test."""

import contextlib
import io
import json
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oracles.evaluate import main

ROOT = Path(__file__).resolve().parents[2]
ROWS = 2000
SPIKE_ROW = 1500
BREAK_ROW = 1050


def stamps(n: int) -> list[datetime]:
    return [datetime(2024, 1, 1) + timedelta(minutes=5 * i) for i in range(n)]


def window(ts: list[datetime], left: int, right: int) -> list[str]:
    return [ts[left].strftime("%Y-%m-%d %H:%M:%S.%f"), ts[right].strftime("%Y-%m-%d %H:%M:%S.%f")]


@pytest.fixture()
def labelled_dir(tmp_path: Path) -> Path:
    rng = np.random.default_rng(5)
    ts = stamps(ROWS)
    uni = 10.0 + rng.normal(0, 0.2, ROWS)
    uni[SPIKE_ROW:] += 4.0  # a level shift the baseline must catch at its first row
    (tmp_path / "univariate").mkdir()
    pd.DataFrame({"timestamp": [t.strftime("%Y-%m-%d %H:%M:%S") for t in ts], "value": uni}).to_csv(
        tmp_path / "univariate" / "shift.csv", index=False
    )
    multi = pd.DataFrame(
        {
            "timestamp": [t.strftime("%Y-%m-%d %H:%M:%S") for t in ts],
            "pressure": 1.0 + rng.normal(0, 0.01, ROWS),
            "flow": 32.0 + rng.normal(0, 0.1, ROWS),
        }
    )
    (tmp_path / "multivariate").mkdir()
    multi.to_csv(tmp_path / "multivariate" / "quiet.csv", index=False)
    windows = {
        "univariate/shift.csv": [window(ts, 1450, 1549)],
        "multivariate/quiet.csv": [window(ts, 1000, 1099)],
    }
    (tmp_path / "combined_windows.json").write_text(json.dumps(windows))
    return tmp_path


def run_process(*args: str) -> subprocess.CompletedProcess[str]:
    """The real command line, in its own interpreter."""
    return subprocess.run(
        [sys.executable, "-m", "oracles.evaluate", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """The same entry point in this interpreter (the machine is shared: no interpreter start per test)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return subprocess.CompletedProcess(["oracles.evaluate", *args], code, out.getvalue(), err.getvalue())


def test_command_line_prints_table_then_json(labelled_dir: Path):
    done = run_process(str(labelled_dir), "--json")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith("file") and json.loads(lines[-1])["total"]["files"] == 2


def test_json_report_is_the_last_line(labelled_dir: Path):
    done = run(str(labelled_dir), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert [f["file"] for f in report["files"]] == ["multivariate/quiet.csv", "univariate/shift.csv"]


def test_level_shift_is_detected_at_its_first_row(labelled_dir: Path):
    report = json.loads(run(str(labelled_dir), "--json").stdout.strip().splitlines()[-1])
    shift = next(f for f in report["files"] if f["file"] == "univariate/shift.csv")
    assert shift["detected_windows"] == 1
    assert shift["mean_delay_rows"] == SPIKE_ROW - 1450


def test_missed_window_and_total_are_scored(labelled_dir: Path):
    report = json.loads(run(str(labelled_dir), "--json").stdout.strip().splitlines()[-1])
    quiet = next(f for f in report["files"] if f["file"] == "multivariate/quiet.csv")
    assert quiet["detected_windows"] == 0 and quiet["recall"] == 0.0
    assert report["total"]["windows"] == 2 and report["total"]["detected_windows"] == 1
    assert set(report["total"]["nab"]) == {"standard", "reward_low_FP_rate", "reward_low_FN_rate"}


def test_table_lists_every_file_and_total(labelled_dir: Path):
    out = run(str(labelled_dir)).stdout
    assert "univariate/shift.csv" in out and "multivariate/quiet.csv" in out and "TOTAL" in out


def test_progress_goes_to_stderr(labelled_dir: Path):
    assert "[2/2] univariate/shift.csv" in run(str(labelled_dir)).stderr


def test_results_dir_holds_nab_results_files(labelled_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("results")
    assert run(str(labelled_dir), "--results-dir", str(out)).returncode == 0
    frame = pd.read_csv(out / "univariate" / "shift.csv")
    assert list(frame.columns) == ["timestamp", "value", "anomaly_score", "label"]
    assert frame["anomaly_score"].between(0, 1).all()
    assert frame["label"].sum() == 100
    assert frame.loc[SPIKE_ROW, "anomaly_score"] >= 0.5


def test_results_dir_rows_match_the_data_rows_and_alerts(
    labelled_dir: Path, tmp_path_factory: pytest.TempPathFactory
):
    out = tmp_path_factory.mktemp("results")
    report = json.loads(run(str(labelled_dir), "--json", "--results-dir", str(out)).stdout.splitlines()[-1])
    for name in ("univariate/shift.csv", "multivariate/quiet.csv"):
        source = pd.read_csv(labelled_dir / name)
        frame = pd.read_csv(out / name)
        assert list(frame["timestamp"]) == list(source["timestamp"])
        assert np.array_equal(frame["value"].to_numpy(), source.iloc[:, 1].to_numpy())
        row = next(f for f in report["files"] if f["file"] == name)
        assert int((frame["anomaly_score"] >= 0.5).sum()) == row["alarm_events"]


def test_default_detector_chooses_by_the_number_of_columns(labelled_dir: Path):
    report = json.loads(run(str(labelled_dir), "--json").stdout.strip().splitlines()[-1])
    novelty = "window_novelty16+window_novelty32+window_novelty64"
    assert report["detector"] == f"auto: pca_t2q if >= 2 columns, else {novelty}"
    detectors = {f["file"]: {a["detector"] for a in f["alerts"]} for f in report["files"]}
    assert detectors["univariate/shift.csv"] == {"window_novelty"}
    assert detectors["multivariate/quiet.csv"] <= {"pca_t2", "pca_q"}


def test_multivariate_alert_names_the_signal_that_broke_the_relation(labelled_dir: Path):
    path = labelled_dir / "multivariate" / "quiet.csv"
    frame = pd.read_csv(path)
    frame.loc[BREAK_ROW:, "flow"] += 1.0  # ten noise sigmas on one signal, the other unchanged
    frame.to_csv(path, index=False)
    report = json.loads(run(str(labelled_dir), "--json").stdout.strip().splitlines()[-1])
    quiet = next(f for f in report["files"] if f["file"] == "multivariate/quiet.csv")
    alert = next(a for a in quiet["alerts"] if a["row"] >= BREAK_ROW)
    assert alert["row"] - BREAK_ROW <= 10 and alert["severity"] >= 0.5
    assert alert["signal"].startswith("flow") and max(alert["contributions"], key=alert["contributions"].get) == "flow"


def test_multivariate_detector_on_a_single_column_file_is_a_clear_error(labelled_dir: Path):
    done = run(str(labelled_dir), "--detector", "multivariate")
    assert done.returncode == 2 and "univariate/shift.csv" in done.stderr and "two or more columns" in done.stderr


def test_baseline_detector_option_runs(labelled_dir: Path):
    done = run(str(labelled_dir), "--json", "--detector", "baseline")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["detector"].startswith("robust_baseline")


def test_isolation_forest_option_runs_with_the_baseline(labelled_dir: Path):
    done = run(str(labelled_dir), "--json", "--detector", "baseline", "--isolation-forest")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["detector"].endswith("+isolation_forest")


def test_isolation_forest_with_novelty_is_a_clear_error(labelled_dir: Path):
    done = run(str(labelled_dir), "--isolation-forest")
    assert done.returncode == 2
    assert "isolation forest is part of the baseline detector only" in done.stderr


def test_unknown_detector_is_rejected_by_the_command_line(labelled_dir: Path):
    with pytest.raises(SystemExit) as exit_info, contextlib.redirect_stderr(io.StringIO()):
        main([str(labelled_dir), "--detector", "htm"])
    assert exit_info.value.code == 2


def test_missing_windows_file_is_a_clear_error(tmp_path: Path):
    done = run(str(tmp_path))
    assert done.returncode == 2 and "combined_windows.json" in done.stderr


def test_labelled_file_that_does_not_exist_is_a_clear_error(labelled_dir: Path):
    (labelled_dir / "combined_windows.json").write_text(json.dumps({"nowhere.csv": []}))
    done = run(str(labelled_dir))
    assert done.returncode == 2 and "nowhere.csv" in done.stderr


def test_non_numeric_column_is_a_clear_error(labelled_dir: Path):
    path = labelled_dir / "univariate" / "shift.csv"
    frame = pd.read_csv(path)
    frame["status"] = "ok"
    frame.to_csv(path, index=False)
    done = run(str(labelled_dir))
    assert done.returncode == 2 and "'status' is not numeric" in done.stderr


def test_missing_value_is_a_clear_error(labelled_dir: Path):
    path = labelled_dir / "univariate" / "shift.csv"
    frame = pd.read_csv(path)
    frame.loc[7, "value"] = np.nan
    frame.to_csv(path, index=False)
    done = run(str(labelled_dir))
    assert done.returncode == 2 and "data row 8" in done.stderr


def test_unlabelled_csv_is_skipped_with_a_warning(labelled_dir: Path, caplog: pytest.LogCaptureFixture):
    (labelled_dir / "univariate" / "extra.csv").write_text("timestamp,value\n2024-01-01 00:00:00,1\n")
    assert run(str(labelled_dir)).returncode == 0
    assert "extra.csv has no entry" in caplog.text


def test_file_without_data_rows_is_a_clear_error(labelled_dir: Path):
    (labelled_dir / "univariate" / "shift.csv").write_text("timestamp,value\n")
    done = run(str(labelled_dir))
    assert done.returncode == 2 and "at least two data rows" in done.stderr


def test_results_written_inside_the_data_dir_are_not_reported_as_unlabelled(
    labelled_dir: Path, caplog: pytest.LogCaptureFixture
):
    assert run(str(labelled_dir), "--results-dir", str(labelled_dir / "out")).returncode == 0
    caplog.clear()
    assert run(str(labelled_dir), "--results-dir", str(labelled_dir / "out")).returncode == 0
    assert "has no entry" not in caplog.text


def test_every_alert_row_is_explained_by_detector_signal_and_score(labelled_dir: Path):
    report = json.loads(run(str(labelled_dir), "--json").stdout.strip().splitlines()[-1])
    shift = next(f for f in report["files"] if f["file"] == "univariate/shift.csv")
    explained = [a for a in shift["alerts"] if a["row"] == SPIKE_ROW]
    assert explained and explained[0]["timestamp"] == "2024-01-06 05:00:00"
    assert {a["detector"] for a in explained} == {"window_novelty"}
    assert all(a["signal"].startswith("value@window") and a["severity"] >= 0.5 for a in explained)
    assert all(a["statistic"] >= 4.0 for a in explained)


def test_baseline_alerts_are_explained_too(labelled_dir: Path):
    report = json.loads(run(str(labelled_dir), "--json", "--detector", "baseline").stdout.strip().splitlines()[-1])
    shift = next(f for f in report["files"] if f["file"] == "univariate/shift.csv")
    assert any(a["row"] == SPIKE_ROW and a["detector"].startswith("robust_baseline") for a in shift["alerts"])
