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
///      (config version); each signer maps to (epoch, index) in one slot so a stale member fails with one SLOAD;
///      a bitmap over indices rejects duplicate signers. High-s signatures are refused by OpenZeppelin ECDSA.
///      The hot path reads one config slot, one slot per signer and the window slot, writes only the window
///      slot, and keeps everything else in the `VerdictAccepted` event.
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

    /// @notice Escrow that charges penalties (this hub holds its VERDICT_ROLE).
    IEscrowHooks public immutable escrow;
    /// @notice CustodyTwin that holds twins (this hub holds its HOLD_ROLE).
    ICustodyHooks public immutable custody;
    /// @notice Procurement that opens reroutes (this hub holds its REROUTE_ROLE).
    IProcurementHooks public immutable procurement;

    // ---------------------------------------------------------------- STORAGE

    /// @dev A member's position in the set of `epoch`; stale once the epoch moves on.
    struct SignerSlot {
        uint32 epoch;
        uint8 index;
    }

    OracleConfig private _config;
    address[] private _signers;
    mapping(address signer => SignerSlot) private _signerSlots;
    mapping(bytes32 windowKey => bytes32 verdictId) private _verdictOfWindow;

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
        uint32 epoch = _config.epoch + 1;
        delete _signers;
        for (uint256 i; i < n; ++i) {
            address signer = signers_[i];
            if (signer == address(0)) revert VerdictHubZeroSigner();
            if (_signerSlots[signer].epoch == epoch) revert VerdictHubDuplicateSigner(signer);
            _signerSlots[signer] = SignerSlot({epoch: epoch, index: uint8(i)});
            _signers.push(signer);
        }
        _config = OracleConfig({epoch: epoch, threshold: threshold, signerCount: uint8(n)});
        emit OracleSetChanged(epoch, signers_, threshold);
    }

    // ---------------------------------------------------------------- VERDICTS

    /// @inheritdoc IVerdictHub
    function submitVerdict(Verdict calldata verdict, bytes calldata signatures)
        external
        returns (bytes32 verdictId)
    {
        OracleConfig memory config = _config;
        if (config.epoch == 0) revert VerdictHubNoOracleSet();
        if (verdict.epoch != config.epoch) revert VerdictHubWrongEpoch(verdict.epoch, config.epoch);
        _checkFields(verdict);
        uint256 expectedLength = uint256(config.threshold) * 64;
        if (signatures.length != expectedLength) {
            revert VerdictHubWrongSignaturesLength(signatures.length, expectedLength);
        }

        bytes32 windowKey = keccak256(abi.encode(verdict.orderId, verdict.kind, verdict.windowStart));
        bytes32 earlier = _verdictOfWindow[windowKey];
        if (earlier != bytes32(0)) {
            revert VerdictHubWindowConsumed(verdict.orderId, verdict.kind, verdict.windowStart, earlier);
        }

        verdictId = _hashTypedDataV4(_structHash(verdict));
        uint32 signersBitmap = _verifySignatures(verdictId, signatures, config);

        // Consumed before any external call, so a re-entrant submission of the same window fails.
        _verdictOfWindow[windowKey] = verdictId;

        uint96 penalty;
        if (verdict.severity > 0) penalty = escrow.applyPenalty(verdict.orderId, verdictId, verdict.severity);
        if (verdict.action == ACTION_HOLD) {
            custody.setHold(verdict.twinId, true, verdictId);
        } else if (verdict.action == ACTION_REROUTE) {
            uint256 cfpId = procurement.openReroute(verdict.orderId, verdictId);
            emit VerdictRerouted(verdictId, verdict.orderId, cfpId);
        }
        _emitAccepted(verdictId, verdict, signersBitmap, penalty);
    }

    // ---------------------------------------------------------------- VIEWS

    /// @inheritdoc IVerdictHub
    function hashVerdict(Verdict calldata verdict) external view returns (bytes32) {
        return _hashTypedDataV4(_structHash(verdict));
    }

    /// @inheritdoc IVerdictHub
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @inheritdoc IVerdictHub
    function oracleConfig() external view returns (OracleConfig memory) {
        return _config;
    }

    /// @inheritdoc IVerdictHub
    function signers() external view returns (address[] memory) {
        return _signers;
    }

    /// @inheritdoc IVerdictHub
    function verdictOfWindow(uint256 orderId, uint8 kind, uint64 windowStart) external view returns (bytes32) {
        return _verdictOfWindow[keccak256(abi.encode(orderId, kind, windowStart))];
    }

    // ---------------------------------------------------------------- INTERNALS

    function _checkFields(Verdict calldata verdict) private view {
        uint8 kind = verdict.kind;
        if (kind < KIND_TEMPERATURE || kind > KIND_DELAY) revert VerdictHubInvalidKind(kind);
        uint8 action = verdict.action;
        if (action < ACTION_PENALTY || action > ACTION_REROUTE) revert VerdictHubInvalidAction(action);
        if (action == ACTION_PENALTY && verdict.severity == 0) revert VerdictHubZeroSeverityPenalty();
        if (verdict.windowStart > verdict.windowEnd || verdict.windowEnd > block.timestamp) {
            revert VerdictHubInvalidWindow(verdict.windowStart, verdict.windowEnd, block.timestamp);
        }
    }

    function _structHash(Verdict calldata verdict) private pure returns (bytes32) {
        return keccak256(
            abi.encode(
                VERDICT_TYPEHASH,
                verdict.orderId,
                verdict.twinId,
                verdict.kind,
                verdict.severity,
                verdict.action,
                verdict.windowStart,
                verdict.windowEnd,
                verdict.evidenceHash,
                verdict.epoch
            )
        );
    }

    /// @dev `signatures` has exactly `threshold` 64-byte (r, vs) entries (checked by the caller).
    function _verifySignatures(bytes32 digest, bytes calldata signatures, OracleConfig memory config)
        private
        view
        returns (uint32 signersBitmap)
    {
        uint256 count = config.threshold;
        for (uint256 i; i < count; ++i) {
            bytes32 r;
            bytes32 vs;
            assembly ("memory-safe") {
                let entry := add(signatures.offset, shl(6, i))
                r := calldataload(entry)
                vs := calldataload(add(entry, 0x20))
            }
            address signer = ECDSA.recover(digest, r, vs);
            SignerSlot memory slot = _signerSlots[signer];
            if (slot.epoch != config.epoch) revert VerdictHubUnknownSigner(signer);
            uint32 bit = uint32(1) << slot.index;
            if (signersBitmap & bit != 0) revert VerdictHubDuplicateSignature(signer);
            signersBitmap |= bit;
        }
    }

    /// @dev Separate frame: the event's twelve fields do not fit the caller's stack.
    function _emitAccepted(bytes32 verdictId, Verdict calldata verdict, uint32 signersBitmap, uint96 penalty)
        private
    {
        emit VerdictAccepted(
            verdictId,
            verdict.orderId,
            verdict.twinId,
            verdict.kind,
            verdict.severity,
            verdict.action,
            verdict.windowStart,
            verdict.windowEnd,
            verdict.evidenceHash,
            verdict.epoch,
            signersBitmap,
            penalty
        );
    }
}
