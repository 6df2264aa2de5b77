"""Streaming anomaly detectors for oracle nodes: SLA rules, a robust adaptive baseline, IsolationForest."""
