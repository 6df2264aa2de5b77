"""Shared brownie fixtures for every contract test.

Brownie 1.22.2 ships compiled (mypyc) modules; its compiled `stateful` module rejects the state-machine
classes it builds itself (`TypeError: ..._BrownieStateMachine object expected`). The pure-Python source
ships beside it, so we load that under a name inside `brownie.test` (its relative imports resolve) and
override the `state_machine` fixture with it. Nothing in site-packages is patched.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import brownie.test
import pytest


def _load_pure_python(module: str) -> ModuleType:
    name = f"brownie.test._pure_{module}"
    if name in sys.modules:
        return sys.modules[name]
    source = Path(brownie.test.__file__).with_name(f"{module}.py")
    spec = importlib.util.spec_from_file_location(name, source)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {source}")
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[name] = loaded
    spec.loader.exec_module(loaded)
    return loaded


_stateful = _load_pure_python("stateful")


@pytest.fixture
def state_machine() -> Iterator[Callable[..., Any]]:
    """Rule-based state machine runner (pure-Python brownie implementation)."""
    yield _stateful.state_machine


@pytest.fixture(autouse=True)
def isolation(fn_isolation: None) -> None:
    """Every test starts from the same chain snapshot."""
