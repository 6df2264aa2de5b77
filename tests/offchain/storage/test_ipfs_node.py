from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from offchain.storage.cid import compute_cid
from offchain.storage.ipfs_node import IpfsNode, IpfsNodeError

# Stand-ins for the jsipfs executable, for the start-up failure paths a real node does not produce on demand.
_INIT_THEN = """\
#!/bin/sh
if [ "$1" = init ]; then echo '{{"Addresses": {{}}}}' > "$IPFS_PATH/config"; exit 0; fi
{daemon}
"""


def _executable(tmp_path: Path, script: str) -> Path:
    path = tmp_path / "jsipfs"
    path.write_text(textwrap.dedent(script))
    path.chmod(0o755)
    return path


def _process_exists(pid: int) -> bool:
    """Whether ``pid`` is a live process; a killed one may linger a moment as a zombie until reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_node_api_listens_on_localhost(ipfs_node: IpfsNode) -> None:
    assert ipfs_node.api_multiaddr.startswith("/ip4/127.0.0.1/tcp/")


@pytest.mark.usefixtures("jsipfs_installed")
def test_stop_ends_the_daemon_and_deletes_the_repository() -> None:
    with IpfsNode() as node:
        repo = node.repo_path
        pid = node.pid
        assert _process_exists(pid)
    assert not _process_exists(pid)
    assert not repo.exists()


def test_block_file_of_absent_block_raises(ipfs_node: IpfsNode) -> None:
    with pytest.raises(IpfsNodeError, match="no block file for"):
        ipfs_node.block_file(compute_cid(b"not on this node"))


def test_api_of_a_stopped_node_raises() -> None:
    with pytest.raises(IpfsNodeError, match="not running"):
        _ = IpfsNode().api_multiaddr


def test_start_without_installation_names_the_installer(tmp_path: Path) -> None:
    with pytest.raises(IpfsNodeError, match=r"not installed at .*: run .*install\.sh"):
        IpfsNode(jsipfs=tmp_path / "missing" / "jsipfs").start()


def test_failed_init_is_reported_with_its_output(tmp_path: Path) -> None:
    node = IpfsNode(jsipfs=_executable(tmp_path, "#!/bin/sh\necho 'repo locked' >&2\nexit 3\n"))
    with pytest.raises(IpfsNodeError, match=r"jsipfs init failed \(3\): repo locked"):
        node.start()


def test_daemon_exiting_early_is_reported_with_its_log(tmp_path: Path) -> None:
    node = IpfsNode(jsipfs=_executable(tmp_path, _INIT_THEN.format(daemon="echo 'port in use'; exit 4")))
    with pytest.raises(IpfsNodeError, match=r"exited with 4:\nport in use"):
        node.start()


def test_daemon_never_ready_times_out_and_its_process_group_is_killed(tmp_path: Path) -> None:
    child_pid_file = tmp_path / "child.pid"
    daemon = f"sleep 300 & echo $! > {child_pid_file}; wait"
    node = IpfsNode(jsipfs=_executable(tmp_path, _INIT_THEN.format(daemon=daemon)), start_timeout_s=1)
    with pytest.raises(IpfsNodeError, match="not ready after 1s"):
        node.start()
    assert not _process_exists(int(child_pid_file.read_text()))


def test_start_twice_raises(ipfs_node: IpfsNode) -> None:
    with pytest.raises(IpfsNodeError, match="already running"):
        ipfs_node.start()
