// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

import {IVerdictHub} from "../interfaces/IVerdictHub.sol";
import {ICustodyHooks} from "../interfaces/hooks/ICustodyHooks.sol";
import {IEscrowHooks} from "../interfaces/hooks/IEscrowHooks.sol";
import {IProcurementHooks} from "../interfaces/hooks/IProcurementHooks.sol";

/// @title VerdictHub
/// @notice Accepts oracle verdicts signed (EIP-712) by k of the n members of the current oracle set, at most
///         once per (orderId, kind, windowStart), and applies them: penalty in Escrow, hold in CustodyTwin,
///         reroute in Procurement.
/// @dev Verification follows Chainlink OCR2 `transmit`: the digest binds chain id, this contract and the epoch
///      (config version); a bitmap over member indices rejects duplicate signers; high-s signatures are refused
///      with OpenZeppelin ECDSA's rule and errors. Digests come from OpenZeppelin EIP712.
///      Gas (measured: 80.7-80.85k for a 3-of-5 PENALTY verdict with signatures in member order, ~81.1k in
///      arbitrary order, against a mock Escrow doing one cold SLOAD, one SSTORE and one event): the hot path
///      reads one config slot, the epoch's member table and the window slot, and writes only the window slot;
///      everything else goes to the `VerdictAccepted` event.
///      The member table of each epoch is stored as contract code (the SSTORE2 pattern: a data-only contract
///      whose code is STOP followed by the members, one 32-byte word each), written once at rotation and read
///      with one EXTCODECOPY (2,600 gas cold for the whole set) instead of one cold SLOAD per signer (2,100
///      each). Its address is packed in the config slot with the epoch, threshold and set size.
contract VerdictHub is AccessControl, EIP712, IVerdictHub {
    // ---------------------------------------------------------------- CONSTANTS

    /// @notice EIP-712 type hash of `Verdict`.
    bytes32 public constant VERDICT_TYPEHASH = keccak256(
        "Verdict(uint256 orderId,uint256 twinId,uint8 kind,uint8 severity,uint8 action,uint64 windowStart,uint64 windowEnd,bytes32 evidenceHash,uint32 epoch)"
    );
    /// @notice Largest oracle set (the signers bitmap is a uint32).
    uint256 public constant MAX_SIGNERS = 32;

    uint8 public constant KIND_TEMPERATURE = 1;
    uint8 public constant KIND_HUMIDITY = 2;
    uint8 public constant KIND_SHOCK = 3;
    uint8 public constant KIND_ROUTE_DEVIATION = 4;
    uint8 public constant KIND_DELAY = 5;

    uint8 public constant ACTION_PENALTY = 1;
    uint8 public constant ACTION_HOLD = 2;
    uint8 public constant ACTION_REROUTE = 3;

    /// @notice Escrow that records penalty claims (built with this hub as its immutable VERDICT_HUB caller).
    IEscrowHooks public immutable escrow;
    /// @notice CustodyTwin that holds twins (built with this hub as its immutable HOLD_KEEPER).
    ICustodyHooks public immutable custody;
    /// @notice Procurement that opens reroutes (this hub holds its REROUTE_ROLE).
    IProcurementHooks public immutable procurement;

    // ---------------------------------------------------------------- STORAGE

    /// @dev One slot: everything `submitVerdict` needs before it reads signatures.
    struct Config {
        uint32 epoch;
        uint8 threshold;
        uint8 signerCount;
        address memberTable;
    }

    Config private _config;
    // The verdict accepted for each window lives at storage slot keccak256(abi.encode(orderId, kind, windowStart))
    // (see `_windowKey`): no mapping, so the hot path hashes once instead of three times. A 96-byte preimage
    // cannot collide with Solidity's own slots (mappings hash 64 bytes, dynamic arrays 32).

    // ---------------------------------------------------------------- CONSTRUCTOR

    /// @param admin Receives DEFAULT_ADMIN_ROLE (rotates the oracle set).
    /// @param escrow_ Escrow (IEscrowHooks).
    /// @param custody_ CustodyTwin (ICustodyHooks).
    /// @param procurement_ Procurement (IProcurementHooks).
    constructor(address admin, IEscrowHooks escrow_, ICustodyHooks custody_, IProcurementHooks procurement_)
        EIP712("ASC VerdictHub", "1")
    {
        if (
            admin == address(0) || address(escrow_) == address(0) || address(custody_) == address(0)
                || address(procurement_) == address(0)
        ) revert VerdictHubZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        escrow = escrow_;
        custody = custody_;
        procurement = procurement_;
    }

    // ---------------------------------------------------------------- ADMIN

    /// @inheritdoc IVerdictHub
    function setOracleSet(address[] calldata signers_, uint8 threshold) external onlyRole(DEFAULT_ADMIN_ROLE) {
        uint256 n = signers_.length;
        if (n == 0 || n > MAX_SIGNERS) revert VerdictHubInvalidSignerCount(n);
        // A strict majority: two disjoint quorums can never both exist within one epoch.
        if (threshold == 0 || threshold > n || uint256(threshold) * 2 <= n) {
            revert VerdictHubInvalidThreshold(threshold, n);
        }
        // Bounded (n <= 32): at most 496 comparisons, on an admin-only path.
        for (uint256 i; i < n; ++i) {
            address signer = signers_[i];
            if (signer == address(0)) revert VerdictHubZeroSigner();
            for (uint256 j; j < i; ++j) {
                if (signers_[j] == signer) revert VerdictHubDuplicateSigner(signer);
            }
        }
        uint32 epoch = _config.epoch + 1;
        address table = _writeMemberTable(abi.encodePacked(signers_));
        _config = Config({epoch: epoch, threshold: threshold, signerCount: uint8(n), memberTable: table});
        emit OracleSetChanged(epoch, signers_, threshold);
    }

    // ---------------------------------------------------------------- VERDICTS

    /// @inheritdoc IVerdictHub
    /// @dev Hot path of the 81k gas budget (see the contract notes): the config slot stays one word on the stack,
    ///      narrow fields are read from calldata once, and Escrow is called without the ABI helpers.
    function submitVerdict(Verdict calldata verdict, bytes calldata signatures)
        external
        returns (bytes32 verdictId)
    {
        uint256 config;
        assembly ("memory-safe") {
            config := sload(_config.slot)
        }
        (uint256 severity, uint256 action) = _checkFields(verdict, config);
        uint256 expectedLength = ((config >> 32) & 0xff) << 6;
        if (signatures.length != expectedLength) {
            revert VerdictHubWrongSignaturesLength(signatures.length, expectedLength);
        }

        bytes32 windowKey = _windowKey(verdict);
        bytes32 earlier;
        assembly ("memory-safe") {
            earlier := sload(windowKey)
        }
        if (earlier != bytes32(0)) {
            revert VerdictHubWindowConsumed(verdict.orderId, verdict.kind, verdict.windowStart, earlier);
        }

        verdictId = _hashTypedDataV4(_structHash(verdict));
        uint32 signersBitmap = _verifySignatures(verdictId, signatures, config);

        // Consumed before any external call, so a re-entrant submission of the same window fails.
        assembly ("memory-safe") {
            sstore(windowKey, verdictId)
        }

        uint256 orderId;
        assembly ("memory-safe") {
            orderId := calldataload(verdict)
        }
        uint96 penalty;
        if (severity != 0) penalty = _applyPenalty(orderId, verdictId, severity);
        if (action == ACTION_HOLD) {
            custody.setHold(verdict.twinId, true, verdictId);
        } else if (action == ACTION_REROUTE) {
            uint256 cfpId = procurement.openReroute(orderId, verdictId);
            emit VerdictRerouted(verdictId, orderId, cfpId);
        }
        _emitAccepted(verdictId, verdict, signersBitmap, penalty);
    }

    // ---------------------------------------------------------------- VIEWS

    /// @inheritdoc IVerdictHub
    /// @dev Narrow fields are hashed as encoded: a non-canonical encoding yields a digest no signer produces.
    function hashVerdict(Verdict calldata verdict) external view returns (bytes32) {
        return _hashTypedDataV4(_structHash(verdict));
    }

    /// @inheritdoc IVerdictHub
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @inheritdoc IVerdictHub
    function oracleConfig() external view returns (OracleConfig memory) {
        Config memory config = _config;
        return OracleConfig({epoch: config.epoch, threshold: config.threshold, signerCount: config.signerCount});
    }

    /// @inheritdoc IVerdictHub
    function signers() external view returns (address[] memory members) {
        Config memory config = _config;
        members = new address[](config.signerCount);
        if (config.signerCount != 0) _loadMemberTable(config, members);
    }

    /// @inheritdoc IVerdictHub
    function verdictOfWindow(uint256 orderId, uint8 kind, uint64 windowStart)
        external
        view
        returns (bytes32 verdictId)
    {
        bytes32 windowKey = keccak256(abi.encode(orderId, kind, windowStart));
        assembly ("memory-safe") {
            verdictId := sload(windowKey)
        }
    }

    // ---------------------------------------------------------------- INTERNALS

    /// @dev Reads the narrow fields once and rejects dirty high bits exactly like Solidity's ABI decoder (empty
    ///      revert). The valid case is one branch-free test; only a failing verdict pays for `_fieldError`, which
    ///      names the first broken rule. Everything hashed or logged later from raw calldata is canonical.
    function _checkFields(Verdict calldata verdict, uint256 config)
        private
        view
        returns (uint256 severity, uint256 action)
    {
        uint256 kind;
        uint256 windowStart;
        uint256 windowEnd;
        uint256 epoch;
        bool valid;
        assembly ("memory-safe") {
            kind := calldataload(add(verdict, 0x40))
            severity := calldataload(add(verdict, 0x60))
            action := calldataload(add(verdict, 0x80))
            windowStart := calldataload(add(verdict, 0xa0))
            windowEnd := calldataload(add(verdict, 0xc0))
            epoch := calldataload(add(verdict, 0x100))
            if or(
                or(gt(or(or(kind, severity), action), 0xff), gt(or(windowStart, windowEnd), 0xffffffffffffffff)),
                gt(epoch, 0xffffffff)
            ) { revert(0, 0) }
            let currentEpoch := and(config, 0xffffffff)
            // Every operand is 0 or 1, so bitwise `and` is the logical one.
            valid := and(
                and(and(gt(currentEpoch, 0), eq(epoch, currentEpoch)), and(lt(sub(kind, 1), 5), lt(sub(action, 1), 3))),
                and(
                    or(gt(severity, 0), iszero(eq(action, 1))),
                    and(iszero(gt(windowStart, windowEnd)), iszero(gt(windowEnd, timestamp())))
                )
            )
        }
        if (!valid) _fieldError(kind, severity, action, windowStart, windowEnd, epoch, config);
    }

    /// @dev Reverts with the first rule a verdict breaks, in a fixed order: oracle set, epoch, kind, action,
    ///      severity, window.
    function _fieldError(
        uint256 kind,
        uint256 severity,
        uint256 action,
        uint256 windowStart,
        uint256 windowEnd,
        uint256 epoch,
        uint256 config
    ) private view {
        uint32 currentEpoch = uint32(config);
        if (currentEpoch == 0) revert VerdictHubNoOracleSet();
        if (epoch != currentEpoch) revert VerdictHubWrongEpoch(uint32(epoch), currentEpoch);
        if (kind < KIND_TEMPERATURE || kind > KIND_DELAY) revert VerdictHubInvalidKind(uint8(kind));
        if (action < ACTION_PENALTY || action > ACTION_REROUTE) revert VerdictHubInvalidAction(uint8(action));
        if (action == ACTION_PENALTY && severity == 0) revert VerdictHubZeroSeverityPenalty();
        revert VerdictHubInvalidWindow(uint64(windowStart), uint64(windowEnd), block.timestamp);
    }

    /// @dev `IEscrowHooks.applyPenalty` without the ABI helpers; reverts bubble up unchanged, and a reply that is
    ///      not a uint96 is refused like a high-level call would.
    function _applyPenalty(uint256 orderId, bytes32 verdictId, uint256 severity) private returns (uint96 penalty) {
        address target = address(escrow);
        bytes4 selector = IEscrowHooks.applyPenalty.selector;
        uint256 reply;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, selector)
            mstore(add(ptr, 0x04), orderId)
            mstore(add(ptr, 0x24), verdictId)
            mstore(add(ptr, 0x44), severity)
            if iszero(call(gas(), target, 0, ptr, 0x64, 0x00, 0x20)) {
                returndatacopy(ptr, 0, returndatasize())
                revert(ptr, returndatasize())
            }
            reply := mload(0x00)
            if or(lt(returndatasize(), 0x20), gt(reply, 0xffffffffffffffffffffffff)) { revert(0, 0) }
        }
        penalty = uint96(reply);
    }

    /// @dev The struct is static, so its nine words sit in calldata exactly as `abi.encode` would lay them out:
    ///      hashing them in place saves the copy field by field. On the submission path `_checkFields` has
    ///      already refused dirty narrow fields, so the words hashed here are canonical.
    function _structHash(Verdict calldata verdict) private pure returns (bytes32 structHash) {
        bytes32 typeHash = VERDICT_TYPEHASH;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, typeHash)
            calldatacopy(add(ptr, 0x20), verdict, 0x120)
            structHash := keccak256(ptr, 0x140)
        }
    }

    /// @dev `signatures` has exactly `threshold` 64-byte (r, vs) entries (checked by the caller).
    ///      Recovery mirrors OpenZeppelin `ECDSA.tryRecover(hash, r, vs)` inline (same low-s bound, same
    ///      `ECDSAInvalidSignatureS` / `ECDSAInvalidSignature` errors): the library's generic error plumbing
    ///      costs several hundred gas per signature, which the 81k budget of a 3-of-5 verdict does not have.
    ///      The loop reports the first failure as (code, argument); Solidity turns it into the custom error.
    function _verifySignatures(bytes32 digest, bytes calldata signatures, uint256 config)
        private
        view
        returns (uint32 signersBitmap)
    {
        uint256 count = (config >> 32) & 0xff;
        uint256 n = (config >> 40) & 0xff;
        address table = address(uint160(config >> 48));
        uint256 failure;
        bytes32 failureArg;
        uint256 bitmap;
        assembly ("memory-safe") {
            let members := mload(0x40)
            extcodecopy(table, members, 1, shl(5, n))
            let input := add(members, shl(5, n))
            mstore(input, digest)
            let cursor := members
            for { let i := 0 } lt(i, count) { i := add(i, 1) } {
                let entry := add(signatures.offset, shl(6, i))
                let vs := calldataload(add(entry, 0x20))
                let s := and(vs, 0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff)
                if gt(s, 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0) {
                    failure := 1
                    failureArg := s
                    break
                }
                mstore(add(input, 0x20), add(shr(255, vs), 27))
                mstore(add(input, 0x40), calldataload(entry))
                mstore(add(input, 0x60), s)
                mstore(0x00, 0)
                // The precompile returns nothing for an unrecoverable signature: 0x00 then stays zero.
                pop(staticcall(gas(), 0x01, input, 0x80, 0x00, 0x20))
                let signer := mload(0x00)
                if iszero(signer) {
                    failure := 2
                    break
                }
                // Search from just after the previous match, wrapping once: any order is accepted, and
                // signatures in member order (what oracles/verdicts.py produces) cost one comparison each.
                let member := cursor
                for {} lt(member, input) { member := add(member, 0x20) } { if eq(mload(member), signer) { break } }
                if eq(member, input) {
                    member := members
                    for {} lt(member, cursor) { member := add(member, 0x20) } { if eq(mload(member), signer) { break } }
                    if eq(member, cursor) { member := input }
                }
                cursor := add(member, 0x20)
                let index := shr(5, sub(member, members))
                if eq(index, n) {
                    failure := 3
                    failureArg := signer
                    break
                }
                let bit := shl(index, 1)
                if and(bitmap, bit) {
                    failure := 4
                    failureArg := signer
                    break
                }
                bitmap := or(bitmap, bit)
            }
        }
        if (failure != 0) {
            if (failure == 1) revert ECDSA.ECDSAInvalidSignatureS(failureArg);
            if (failure == 2) revert ECDSA.ECDSAInvalidSignature();
            address signer = address(uint160(uint256(failureArg)));
            if (failure == 3) revert VerdictHubUnknownSigner(signer);
            revert VerdictHubDuplicateSignature(signer);
        }
        signersBitmap = uint32(bitmap);
    }

    /// @dev Deploys `members` (n 32-byte words) as the code of a data-only contract, behind a STOP byte so the
    ///      table can never execute. Init code: PUSH2 size, DUP1, PUSH1 10, RETURNDATASIZE, CODECOPY,
    ///      RETURNDATASIZE, RETURN (copies and returns the 10-byte-offset runtime).
    function _writeMemberTable(bytes memory members) private returns (address table) {
        bytes memory initCode = abi.encodePacked(hex"61", uint16(members.length + 1), hex"80600a3d393df300", members);
        assembly ("memory-safe") {
            table := create(0, add(initCode, 0x20), mload(initCode))
        }
        if (table == address(0)) revert VerdictHubMemberTableNotCreated();
    }

    /// @dev Fills `members` (already sized to the set) from the epoch's member table.
    function _loadMemberTable(Config memory config, address[] memory members) private view {
        address table = config.memberTable;
        uint256 size = uint256(config.signerCount) << 5;
        assembly ("memory-safe") {
            extcodecopy(table, add(members, 0x20), 1, size)
        }
    }

    /// @dev keccak256(abi.encode(orderId, kind, windowStart)) from the (validated) calldata words: the storage
    ///      slot of the window's verdict id.
    function _windowKey(Verdict calldata verdict) private pure returns (bytes32 key) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, calldataload(verdict))
            mstore(add(ptr, 0x20), calldataload(add(verdict, 0x40)))
            mstore(add(ptr, 0x40), calldataload(add(verdict, 0xa0)))
            key := keccak256(ptr, 0x60)
        }
    }

    /// @dev Emits `VerdictAccepted` straight from calldata: its non-indexed fields are the verdict's words 1..8
    ///      (twinId .. epoch, already validated) followed by the bitmap and the penalty, the same ABI layout the
    ///      Solidity `emit` would build, at a fraction of the cost. twinId is not indexed: a topic costs more
    ///      than a data word, and holds are indexed by twin in CustodyTwin's `HoldSet` anyway.
    function _emitAccepted(bytes32 verdictId, Verdict calldata verdict, uint32 signersBitmap, uint96 penalty)
        private
    {
        bytes32 topic = VerdictAccepted.selector;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            calldatacopy(ptr, add(verdict, 0x20), 0x100)
            mstore(add(ptr, 0x100), signersBitmap)
            mstore(add(ptr, 0x120), penalty)
            log3(ptr, 0x140, topic, verdictId, calldataload(verdict))
        }
    }
}
