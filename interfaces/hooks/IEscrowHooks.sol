// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Escrow entry points used by the other ASC contracts
/// @notice Each hook may only be called by the one contract fixed (immutable) in Escrow's constructor, named as
///         the caller of each hook. See contracts/ARCHITECTURE.md.
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
    /// @dev Caller: Procurement, when a GOODS call for proposals is awarded.
    function openOrder(uint256 orderId, address buyer, address seller, uint96 amount, SlaMoneyTerms calldata terms)
        external;

    /// @notice Adds a delivery leg to `orderId`, paying `freight` to `carrier` out of the seller's share.
    /// @dev Caller: Procurement, when a DELIVERY call for proposals is awarded.
    /// @return legIndex Index of the new leg (0-based, at most MAX_LEGS - 1).
    function addLeg(uint256 orderId, address carrier, uint96 freight) external returns (uint8 legIndex);

    /// @notice Custody of the order's twin moved from `from` to `to` at time `handedAt`.
    /// @dev Caller: CustodyTwin, after every accepted handoff of a twin bound to an order.
    ///      `to == buyer` confirms delivery and settles the order.
    function onHandoff(uint256 orderId, address from, address to, uint64 handedAt) external;

    /// @notice Claims the penalty of an accepted verdict (severity x penaltyPerExcursion) from the party liable
    ///         for the goods now. The claim is charged at settlement: clamped to that party's share and to what
    ///         the order's penaltyCap leaves (see Escrow for the order in which the cap is spent).
    /// @dev Caller: VerdictHub. Idempotence is the hub's job (each verdict is accepted once).
    /// @return penalty The amount claimed (saturating at type(uint96).max), before settlement-time clamping.
    function applyPenalty(uint256 orderId, bytes32 verdictId, uint8 severity) external returns (uint96 penalty);
}
