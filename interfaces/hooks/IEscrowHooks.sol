// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Escrow entry points used by the other ASC contracts
/// @notice Only the contracts granted the matching role in Escrow may call these. See contracts/ARCHITECTURE.md.
interface IEscrowHooks {
    /// @notice Money side of an order's service-level agreement.
    /// @param deliveryDeadline Latest delivery time (unix seconds); later deliveries pay `penaltyPerHourLate`.
    /// @param penaltyPerHourLate Penalty per started hour of lateness, in token base units.
    /// @param penaltyPerExcursion Penalty per accepted verdict of severity 1 (scaled by severity), in base units.
    /// @param penaltyCap Upper bound on the sum of all penalties of the order, in base units.
    struct SlaMoneyTerms {
        uint64 deliveryDeadline;
        uint96 penaltyPerHourLate;
        uint96 penaltyPerExcursion;
        uint96 penaltyCap;
    }

    /// @notice Opens and funds order `orderId`: pulls `amount` of the escrow token from `buyer`.
    /// @dev Caller: Procurement (PROCUREMENT_ROLE), when a GOODS call for proposals is awarded.
    function openOrder(uint256 orderId, address buyer, address seller, uint96 amount, SlaMoneyTerms calldata terms)
        external;

    /// @notice Adds a delivery leg to `orderId`, paying `freight` to `carrier` out of the seller's share.
    /// @dev Caller: Procurement (PROCUREMENT_ROLE), when a DELIVERY call for proposals is awarded.
    /// @return legIndex Index of the new leg (0-based, at most MAX_LEGS - 1).
    function addLeg(uint256 orderId, address carrier, uint96 freight) external returns (uint8 legIndex);

    /// @notice Custody of the order's twin moved from `from` to `to` at time `at`.
    /// @dev Caller: CustodyTwin (CUSTODY_ROLE), after every accepted handoff of a twin bound to an order.
    ///      `to == buyer` confirms delivery and settles the order.
    function onHandoff(uint256 orderId, address from, address to, uint64 at) external;

    /// @notice Charges the penalty of an accepted verdict to the party liable for the goods now.
    /// @dev Caller: VerdictHub (VERDICT_ROLE). Idempotence is the hub's job (each verdict is accepted once).
    /// @return penalty The amount actually charged (after the cap and the liable party's share).
    function applyPenalty(uint256 orderId, bytes32 verdictId, uint8 severity) external returns (uint96 penalty);
}
