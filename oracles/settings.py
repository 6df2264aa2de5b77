"""Fixed detection thresholds for the oracle's detectors, one settings object (env prefix ``ASC_DETECT_``).

Every threshold here is chosen up front (see each field's description) and never fitted on the data
being scored: a verdict that moves money must not depend on thresholds tuned after the fact.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class DetectSettings(BaseSettings):
    """Thresholds and window sizes shared by every detector and by ``oracles.evaluate``."""

    model_config = SettingsConfigDict(env_prefix="ASC_DETECT_", frozen=True, extra="ignore")

    # --- robust adaptive univariate baseline (oracles.detect.baseline) -------------------------------
    baseline_window: int = Field(
        default=1024,
        ge=8,
        description=(
            "Past rows in the rolling median/MAD baseline of each signal. Chosen on NAB dev (256, 512, 1024"
            " and 2048 compared), verified on SKAB dev."
        ),
    )
    baseline_stride: int = Field(
        default=16, ge=1, description="Rows between baseline refreshes (cost per row ~ window / stride)."
    )
    slow_span_rows: int = Field(
        default=32,
        ge=0,
        description=(
            "Rows in the rolling median scored by the slow-scale baseline (0 = off). Chosen on NAB dev"
            " (spans 16/32/64/128 compared), verified on SKAB dev."
        ),
    )
    seasonal_cycles: int = Field(
        default=3, ge=1, description="Past periods (days) the same-time-of-day baseline looks back over."
    )
    seasonal_period_s: int = Field(default=86_400, ge=60, description="Period of the seasonal baseline.")
    seasonal_max_rows: int = Field(
        default=2048,
        ge=8,
        description="Seasonal baseline only when a period spans at most this many rows (bounds the state).",
    )
    baseline_min_history: int = Field(
        default=64, ge=4, description="Rows a signal must have seen before it may raise an alert."
    )
    baseline_z_threshold: float = Field(
        default=6.0,
        gt=0,
        description=(
            "Robust z (|x - median| / (1.4826 MAD)) at which a row is anomalous. Six robust sigmas, set"
            " a priori: far in the tail of any unimodal noise, so alerts need a real change, not an unlucky"
            " sample (5 and 7 were also measured on NAB dev and were not better)."
        ),
    )
    baseline_scale_floor_rel: float = Field(
        default=1e-3,
        ge=0,
        description="Scale floor as a fraction of |median|, so a flat signal does not divide by zero.",
    )
    baseline_scale_floor_abs: float = Field(default=1e-9, gt=0, description="Absolute scale floor.")
    refractory_rows: int = Field(
        default=512,
        ge=0,
        description=(
            "After an alert, rows of the same episode that do not raise a new alert on that signal. Chosen"
            " on NAB dev (128/512 compared), verified on SKAB dev."
        ),
    )

    relation_warmup_rows: int = Field(
        default=300, ge=3, description="Rows of a stream's prefix the humidity~temperature line is fitted on."
    )

    # --- IsolationForest on multivariate windows (oracles.detect.learned) ----------------------------
    iforest_window: int = Field(default=8, ge=1, description="Rows per feature window.")
    iforest_trees: int = Field(default=100, ge=10, description="Trees in the forest.")
    iforest_warmup_rows: int = Field(
        default=300, ge=16, description="Rows of the stream's own prefix the forest is fitted on."
    )
    iforest_score_threshold: float = Field(
        default=0.70,
        gt=0.5,
        lt=1.0,
        description=(
            "Isolation score s(x) = 2^(-E[h]/c(n)) above which a window is anomalous (Liu et al. 2008:"
            " s close to 1 = anomaly, s <= 0.5 = normal). Set above the 99.9th percentile (0.68) of"
            " scores on synthetic normal two-signal data, not on the labelled data."
        ),
    )
    iforest_seed: int = Field(
        default=20260101, description="Fixed seed: every oracle node fits the same forest."
    )

    # --- window novelty (oracles.detect.novelty) ----------------------------------------------------
    novelty_segments: int = Field(
        default=8, ge=1, description="Segment means per window (piecewise aggregate approximation)."
    )
    novelty_windows: tuple[int, ...] = Field(
        default=(16, 32, 64),
        min_length=1,
        description=(
            "Window lengths (rows) scored on every signal: short enough to see a spike or a step, long"
            " enough to see a changed daily shape. Each must be a multiple of novelty_segments."
        ),
    )
    novelty_memory_rows: int = Field(
        default=4000,
        ge=16,
        description="Past rows whose windows are searched for the nearest neighbour (bounds state and cost).",
    )
    novelty_calibration_rows: int = Field(
        default=1000, ge=16, description="Past log distances the robust z of a row is measured against."
    )
    novelty_calibration_stride: int = Field(
        default=16, ge=1, description="Rows between refreshes of the calibration median/MAD."
    )
    novelty_min_calibration_rows: int = Field(
        default=64, ge=8, description="Log distances needed before a row gets a statistic at all."
    )
    novelty_min_history: int = Field(
        default=600,
        ge=0,
        description=(
            "Rows a stream must have seen before novelty may alert (oracles.evaluate passes NAB's"
            " probationary length instead)."
        ),
    )
    novelty_z_threshold: float = Field(
        default=4.0,
        gt=0,
        description="Robust z of log nearest-neighbour distance at which a row is anomalous.",
    )
    novelty_fusion: Literal["any", "mean"] = Field(
        default="any",
        description=(
            "How a signal's window lengths combine: 'any' = one window's z reaches novelty_z_threshold;"
            " 'mean' = the mean of their z reaches novelty_mean_z_threshold. 'mean' (with windows (16, 32),"
            " mean z 3.0) raised NAB leave-one-file-out but lost drifts and added false alarms on the"
            " synthetic unseen series, so 'any' stays the default (oracles/detect/README.md)."
        ),
    )
    novelty_mean_z_threshold: float = Field(
        default=3.0,
        gt=0,
        description=(
            "Mean over a signal's window lengths of the robust z at which a row is anomalous ('mean'): what"
            " leave-one-file-out on NAB dev picked on five files in five of six folds."
        ),
    )
    novelty_log_scale_floor: float = Field(
        default=0.05,
        gt=0,
        description=(
            "Smallest robust spread of log distances: a signal that repeats itself exactly still needs a"
            " distance about exp(threshold * floor) times its usual one to alert."
        ),
    )
    novelty_distance_floor: float = Field(
        default=1e-9, gt=0, description="Added to distances before the log (exact repeats have distance 0)."
    )
    novelty_refractory_rows: int = Field(
        default=200, ge=0, description="After a stream alert, rows that cannot open a new one."
    )

    @field_validator("novelty_windows")
    @classmethod
    def _windows_fit_segments(cls, windows: tuple[int, ...], info: ValidationInfo) -> tuple[int, ...]:
        segments = info.data.get("novelty_segments")
        if segments is None:  # novelty_segments itself failed validation and is reported on its own
            return windows
        bad = [w for w in windows if w < segments or w % segments]
        if bad or len(set(windows)) != len(windows):
            raise ValueError(f"window lengths must be distinct multiples of novelty_segments={segments}: {bad}")
        return windows

    # --- PCA T²+Q over all signals of a stream (oracles.detect.multivariate) ---------------------------
    multivariate_warmup_rows: int = Field(
        default=400,
        ge=8,
        description=(
            "Least rows of a stream's own prefix the PCA model and its limits are learned from (SKAB's"
            " authors train their T²+Q on 400 rows; at one reefer reading per 10 s, about an hour)."
            " oracles.evaluate uses NAB's probationary length instead when that is longer."
        ),
    )
    multivariate_variance: float = Field(
        default=0.9,
        gt=0,
        lt=1,
        description="Share of the warm-up variance the kept principal components explain (the usual 90%).",
    )
    multivariate_smooth_rows: int = Field(
        default=8, ge=1, description="Trailing rows averaged before scoring (single-row sensor noise)."
    )
    multivariate_z_threshold: float = Field(
        default=4.0,
        gt=0,
        description=(
            "Robust z of the cube root of T² or of Q against the warm-up at which a row is anomalous;"
            " the same a priori value as novelty_z_threshold."
        ),
    )
    multivariate_root_scale_floor: float = Field(
        default=0.05, gt=0, description="Smallest robust spread of the warm-up's cube roots of T² and of Q."
    )
    multivariate_refractory_rows: int = Field(
        default=200, ge=0, description="After an alert, rows that cannot open a new one."
    )
    multivariate_explain_top: int = Field(default=2, ge=1, description="Contributing signals named in an alert.")

    multivariate_min_columns: int = Field(
        default=2,
        ge=2,
        description=(
            "oracles.evaluate's automatic choice: streams with at least this many columns are scored by"
            " PCA T²+Q (relations between signals), narrower ones by window novelty."
        ),
    )

    # --- late-arrival forecast (oracles.detect.sla) ---------------------------------------------------
    eta_speed_window_s: int = Field(
        default=1800,
        ge=60,
        description="Seconds of recent movement the arrival forecast averages speed over.",
    )
    eta_min_speed_mps: float = Field(
        default=0.5, gt=0, description="Below this average speed the truck counts as stopped (no forecast)."
    )
    eta_safety_factor: float = Field(
        default=1.1, ge=1.0, description="Forecast travel time multiplier (traffic, stops) before comparing."
    )
    # A truck pulling away from a stop drives its first minute slower than it will drive: the default
    # scenario's relief van covered 180 m in its first minute after the handover, then 1.2 km a minute.
    eta_min_moving_s: int = Field(
        default=300,
        ge=0,
        description="No forecast until the goods have moved this long since they last stood still.",
    )

    # --- scoring ----------------------------------------------------------------------------------------
    detection_threshold: float = Field(
        default=0.5, description="anomaly_score at or above which a row counts as a detection (NAB results)."
    )
    nab_probation_percent: float = Field(
        default=0.15, ge=0, lt=1, description="NAB probationary period as a fraction of each file."
    )
