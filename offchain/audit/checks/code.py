"""Deployed code against code built from this repository's sources.

For each manifest contract: the chain's runtime code at its address, with the immutable ranges solc reports
(`immutableReferences`) masked, must equal the compiled runtime code. Metadata: solc appends a CBOR blob (its
length in the last two bytes) holding the IPFS hash of the metadata JSON, which commits to the exact source
texts (comments included), their paths and the compiler settings. The executable part decides the check; the
metadata part is compared separately: equal means byte-identical sources, different (with equal executable
code) is reported as a NOTE, since the code behaves exactly as reviewed but was built from sources that differ
in text (e.g. comments) or paths. The manifest's own `runtime_code_hash` is checked too, but never trusted:
it was written by the deployer.
"""

from __future__ import annotations

from collections.abc import Callable

from eth_utils.crypto import keccak

from offchain.audit.build import BuiltContract
from offchain.audit.findings import CheckResult
from offchain.manifest import DeploymentManifest

# Sources that build, and so pass the comparison, but must never hold real money or goods.
NOT_FOR_PRODUCTION = ("contracts/dev/", "contracts/test/")


def split_metadata(code: bytes) -> tuple[bytes, bytes]:
    """(executable, CBOR metadata incl. its 2-byte length); no metadata when the length does not fit."""
    if len(code) < 2:
        return code, b""
    length = int.from_bytes(code[-2:], "big")
    if length + 2 > len(code) or length == 0 or code[-(length + 2)] & 0xE0 != 0xA0:  # CBOR map header
        return code, b""
    return code[: -(length + 2)], code[-(length + 2) :]


def mask(code: bytes, ranges: tuple[tuple[int, int], ...]) -> bytes:
    masked = bytearray(code)
    for start, length in ranges:
        masked[start : start + length] = bytes(length)
    return bytes(masked)


def compare(chain_code: bytes, built: BuiltContract) -> tuple[bool, bool, str]:
    """(executable code equal, metadata equal, explanation)."""
    if not chain_code:
        return False, False, "no code at the address"
    if len(chain_code) != len(built.runtime):
        return False, False, f"code is {len(chain_code)} bytes, the build is {len(built.runtime)}"
    chain_exec, chain_meta = split_metadata(mask(chain_code, built.immutables))
    built_exec, built_meta = split_metadata(built.runtime)
    if chain_exec != built_exec:
        first = next(i for i, (x, y) in enumerate(zip(chain_exec, built_exec, strict=False)) if x != y)
        return False, False, f"executable code differs from the build from byte {first}"
    return True, chain_meta == built_meta, ""


def check(
    manifest: DeploymentManifest, built: dict[str, BuiltContract], code_at: Callable[[str], bytes]
) -> CheckResult:
    result = CheckResult("code", "Deployed code is the code built from this repository's sources")
    for name, entry in sorted(manifest.contracts.items()):
        result.checked += 1
        where = f"{name} at {entry.address}"
        code = code_at(entry.address)
        if keccak(code).hex() != entry.runtime_code_hash.lower().removeprefix("0x"):
            result.fail(
                f"code hash 0x{keccak(code).hex()} differs from the manifest's {entry.runtime_code_hash}", where
            )
        target = built.get(name)
        if target is None:
            result.fail(f"no contract {name} in this repository's sources: cannot be the reviewed code", where)
            continue
        same_code, same_metadata, why = compare(code, target)
        if not same_code:
            result.fail(
                f"impostor: the code at this address is not {name} built from {target.source_path}: {why}", where
            )
        elif not same_metadata:
            result.note(
                f"executable code equals {name} built from {target.source_path} (immutables masked); the metadata "
                "hash differs: built from sources differing in text or paths",
                where,
            )
        else:
            result.ok(f"identical to {target.source_path} built here (immutables masked, metadata equal)", where)
        if same_code and target.source_path.startswith(NOT_FOR_PRODUCTION):
            result.note(f"{target.source_path} is a development/test-only contract, not meant for real money", where)
    if manifest.token not in {e.address for e in manifest.contracts.values()}:
        result.note("the escrow token is not part of the manifest's contracts: its code is not checked", manifest.token)
    return result
