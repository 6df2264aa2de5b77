"""Session plumbing shared by the pages: settings, the picked deployment, the wallet, the API, and writes
that always show their transaction (or a plain sentence when they fail).

Pages catch `Exception` at their edges on purpose: whatever fails reaches the person as one sentence
(`errors.explain`) and the log keeps the type; nothing is swallowed silently."""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec

import streamlit as st
from web3.contract.contract import ContractFunction

from frontend import wallet as wallet_mod
from frontend.api import DappApi
from frontend.chain import Chain, TxOutcome
from frontend.errors import ErrorDecoder, explain
from frontend.settings import DappSettings
from offchain.manifest import DeploymentManifest, ManifestError, load_manifest

log = logging.getLogger("asc.dapp")

P = ParamSpec("P")
NETWORK_KEY = "asc_network"
OUTCOMES_KEY = "asc_outcomes"


@st.cache_resource
def settings() -> DappSettings:
    return DappSettings()


@st.cache_resource
def _chain(manifest_path: str, manifest_mtime_ns: int, rpc_url: str | None, chunk: int) -> Chain:
    """One Chain per manifest version: a redeployment (new manifest file) gets a fresh one."""
    return Chain(load_manifest(manifest_path), rpc_url, log_chunk_blocks=chunk)


@st.cache_resource
def _api(url: str | None, timeout_s: float) -> DappApi:
    return DappApi(url, timeout_s)


def manifests() -> dict[str, tuple[Path, DeploymentManifest | None, str | None]]:
    """network name (or file name when unreadable) -> (path, manifest, error sentence)."""
    found: dict[str, tuple[Path, DeploymentManifest | None, str | None]] = {}
    for path in settings().manifests:
        try:
            manifest = load_manifest(path)
        except ManifestError as exc:
            found[path.name] = (path, None, explain(exc))
            continue
        found[f"{manifest.network} (chain {manifest.chain_id})"] = (path, manifest, None)
    return found


def chain() -> Chain:
    """The picked deployment on its node, checked to be the manifest's chain; stops the page with a sentence
    when it cannot be used."""
    known = manifests()
    choice = st.session_state.get(NETWORK_KEY) or next(iter(known))
    path, manifest, error = known.get(choice, next(iter(known.values())))
    if manifest is None:
        st.error(error)
        st.stop()
    try:
        current = _chain(str(path), path.stat().st_mtime_ns, settings().rpc_url, settings().log_chunk_blocks)
        current.check_network()
    except Exception as exc:
        st.error(explain(exc))
        st.stop()
    return current


def api() -> DappApi | None:
    """The API client, or None (after saying why) when none is configured."""
    try:
        return _api(settings().api_url, settings().api_timeout_s)
    except Exception as exc:
        st.info(explain(exc))
        return None


def sidebar() -> None:
    known = manifests()
    with st.sidebar:
        names = list(known)
        default = settings().network
        index = next((i for i, n in enumerate(names) if default and n.startswith(default)), 0)
        st.selectbox("Network", names, index=index, key=NETWORK_KEY)
        wallet_panel()


def wallet_panel() -> None:
    unlocked = wallet_mod.current(st.session_state)
    if unlocked is not None:
        st.success(f"Signing as {unlocked.address}")
        if st.button("Lock keystore", key="lock"):
            wallet_mod.forget(st.session_state)
            st.rerun()
        return
    with st.form("unlock"):
        default = str(settings().keystore) if settings().keystore else ""
        path = st.text_input("Keystore file", value=default, key="keystore_path")
        password = st.text_input("Password", type="password", key="keystore_password")
        if st.form_submit_button("Unlock", key="unlock_submit"):
            try:
                wallet_mod.remember(st.session_state, wallet_mod.unlock(Path(path), password))
            except wallet_mod.WalletError as exc:
                st.error(explain(exc))
                return
            finally:
                # The password has done its job: it is not kept in the session.
                st.session_state.pop("keystore_password", None)
            st.rerun()


def guarded(render: Callable[P, None]) -> Callable[P, None]:
    """Runs a page (or a live fragment of one) so that anything unforeseen reaches the person as a sentence and
    the operator's log with its traceback. Streamlit's own stop/rerun signals are BaseExceptions: they pass."""

    @functools.wraps(render)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            render(*args, **kwargs)
        except Exception as exc:
            log.exception("%s failed", getattr(render, "__name__", "page"))
            st.error(explain(exc, _current_errors()))

    return run


def _current_errors() -> ErrorDecoder | None:
    """The decoder of the picked deployment, to name a revert's custom error; None when there is none."""
    try:
        known = manifests()
    except Exception:  # settings unusable: the page's own error is what gets shown
        return None
    _, manifest, _ = known.get(st.session_state.get(NETWORK_KEY) or "", next(iter(known.values())))
    return ErrorDecoder.from_manifest(manifest) if manifest is not None else None


def send(current: Chain, what: str, build: Callable[[], ContractFunction]) -> TxOutcome | None:
    """Sign and send one transaction with the session's wallet; the outcome (or the sentence explaining the
    failure) goes to the session's list of writes, which each page shows (`show_outcomes`)."""
    try:
        wallet = wallet_mod.require(st.session_state)
        outcome = current.send(wallet, what, build())
    except Exception as exc:
        sentence = explain(exc, current.errors)
        log.warning("%s failed: %s (%s)", what, sentence, type(exc).__name__)
        st.session_state.setdefault(OUTCOMES_KEY, []).append(("error", f"{what} failed: {sentence}"))
        return None
    st.session_state.setdefault(OUTCOMES_KEY, []).append(("ok" if outcome.succeeded else "error", outcome.sentence))
    return outcome


def show_outcomes() -> None:
    """The latest writes of this session, newest first."""
    for kind, sentence in reversed(st.session_state.get(OUTCOMES_KEY, [])[-5:]):
        (st.success if kind == "ok" else st.error)(sentence)


def when(ts: int | None) -> str:
    if not ts:
        return ""
    return dt.datetime.fromtimestamp(int(ts), dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def money(value: int | None) -> str:
    return "" if value is None else f"{value / 10**6:,.2f}"


def short(address: str) -> str:
    return f"{address[:6]}…{address[-4:]}" if address else ""
