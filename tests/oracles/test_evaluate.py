"""``python -m oracles.evaluate`` end to end on a labelled folder in NAB layout written by the test."""

import json
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
ROWS = 2000
SPIKE_ROW = 1500


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


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "oracles.evaluate", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


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


def test_isolation_forest_option_runs(labelled_dir: Path):
    done = run(str(labelled_dir), "--json", "--isolation-forest")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["detector"] == "robust_baseline+isolation_forest"


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


def test_unlabelled_csv_is_skipped_with_a_warning(labelled_dir: Path):
    (labelled_dir / "univariate" / "extra.csv").write_text("timestamp,value\n2024-01-01 00:00:00,1\n")
    done = run(str(labelled_dir))
    assert done.returncode == 0 and "extra.csv has no entry" in done.stderr
