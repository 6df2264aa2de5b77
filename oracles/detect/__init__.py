"""Streaming anomaly detectors for oracle nodes.

* ``types``: ``Reading`` (fixed-point reefer reading), ``Score``, ``Detection``.
* ``sla``: ``SlaTerms`` and ``SlaMonitor`` (range excursions past grace, shock, corridor, late arrival).
* ``geo``: haversine distance to a route polyline and route distance left.
* ``baseline``: ``RobustBaseline`` (rolling median/MAD, optional time-of-day season), ``SmoothedBaseline``
  (the same on a rolling median: slow changes), ``RelationBaseline`` (one signal against another).
* ``learned``: ``WindowIsolationForest`` fitted on the stream's own warm-up prefix.
* ``novelty``: ``WindowNovelty`` / ``NoveltyStream`` (nearest-neighbour window distance, any change of shape).
* ``multivariate``: ``PcaT2Q`` (Hotelling T² and Q on a PCA of the warm-up: broken relations between signals).
* ``ensemble``: ``StreamDetector`` (any numeric columns, used by ``oracles.evaluate``) and
  ``ShipmentMonitor`` (what an oracle node runs per shipment).

Every detector scores a row from earlier rows only, folds the row into its state in the same call,
gives the same results whether rows arrive one by one or in batches, and round-trips its state through
JSON (``state_dict`` / ``load_state``) so a restarted node resumes exactly.
"""
