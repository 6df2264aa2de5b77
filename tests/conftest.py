"""Suite-wide collection rules.

`make test-python` runs the suite on two pytest-xdist workers with `--dist loadgroup`. Tests share machine-wide
things inside a group (the repository's brownie build folder, brownie's network list, each folder's port range),
so every test belongs to exactly one of two groups that never share any of them, and each group runs on one
worker in collection order, as a plain sequential run would:

- `scenarios`: the orchestrator's runs of tests/offchain/scenario — each a whole chain, API, oracle network and
  agents in a temporary folder on ports 9310-9339, mostly waiting for simulated time, so they overlap well with
  the CPU-bound rest (the longest group: ~14 min);
- `suite`: everything else, the dapp's end-to-end run (ports 9540-9599) included.
"""

from __future__ import annotations

from pathlib import Path

import pytest

_TESTS = Path(__file__).resolve().parent
_SCENARIOS = _TESTS / "offchain" / "scenario"


def _group(path: Path) -> str:
    return "scenarios" if _SCENARIOS in path.parents else "suite"


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads the marks into the scheduling scope
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.xdist_group(_group(Path(str(item.path)))))
