// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IEscrowHooks} from "../../../interfaces/hooks/IEscrowHooks.sol";

/// @title MockEscrowHooks (tests only)
/// @notice Stands in for Escrow in custody and verdict unit tests. `applyPenalty` does the work a real escrow
///         does at least once per penalty, so gas measured against it is realistic: one cold SLOAD, one SSTORE
///         on an already non-zero slot and one event.
contract MockEscrowHooks is IEscrowHooks {
    /// @notice Emitted for every `onHandoff` call.
    /// @param orderId The order.
    /// @param from The previous holder.
    /// @param to The new holder.
    /// @param timestamp Time reported by CustodyTwin.
    /// @param caller The caller.
    event HandoffReported(uint256 indexed orderId, address indexed from, address indexed to, uint64 timestamp, address caller);

    /// @notice Emitted for every `applyPenalty` call.
    /// @param orderId The order.
    /// @param verdictId The verdict.
    /// @param severity Its severity.
    /// @param penalty The amount charged.
    event PenaltyApplied(uint256 indexed orderId, bytes32 indexed verdictId, uint8 severity, uint96 penalty);

    /// @notice Thrown by every hook while `failing` is set.
    error MockEscrowHooksFailing();

    /// @dev One slot, non-zero from construction, so `applyPenalty` pays a cold SLOAD and a non-zero SSTORE.
    struct Book {
        uint96 penaltyPerSeverity;
        uint96 totalPenalties;
        bool failing;
    }

    Book public book;
    uint256 public handoffCount;

    constructor(uint96 penaltyPerSeverity) {
        book = Book({penaltyPerSeverity: penaltyPerSeverity, totalPenalties: 1, failing: false});
    }

    /// @notice Makes every hook revert (or not).
    function setFailing(bool failing) external {
        book.failing = failing;
    }

    /// @inheritdoc IEscrowHooks
    function openOrder(uint256, address, address, uint96, SlaMoneyTerms calldata) external pure {
        revert MockEscrowHooksFailing();
    }

    /// @inheritdoc IEscrowHooks
    function addLeg(uint256, address, uint96) external pure returns (uint8) {
        revert MockEscrowHooksFailing();
    }

    /// @inheritdoc IEscrowHooks
    function onHandoff(uint256 orderId, address from, address to, uint64 timestamp) external {
        if (book.failing) revert MockEscrowHooksFailing();
        ++handoffCount;
        emit HandoffReported(orderId, from, to, timestamp, msg.sender);
    }

    /// @inheritdoc IEscrowHooks
    function applyPenalty(uint256 orderId, bytes32 verdictId, uint8 severity) external returns (uint96 penalty) {
        Book memory b = book;
        if (b.failing) revert MockEscrowHooksFailing();
        penalty = b.penaltyPerSeverity * severity;
        book.totalPenalties = b.totalPenalties + penalty;
        emit PenaltyApplied(orderId, verdictId, severity, penalty);
    }
}
