"""The physical world for the demo, the tests and the benchmarks: roads, trucks, reefers and loggers.

`Simulator` (world.py) is the programmable model; `run_scenario` (runner.py) plays a YAML scenario through
it and, optionally, posts each logger's signed readings to the ingestion API.
"""
