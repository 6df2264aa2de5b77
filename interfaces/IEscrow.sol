// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IEscrowHooks} from "./hooks/IEscrowHooks.sol";

/// @title Escrow of ASC orders: funding, delivery legs, SLA penalties, settlement, pull payments
/// @notice One ERC-20 per Escrow. Invariant: `token.balanceOf(escrow) == outstanding()`, and per order
///         `amount == sellerPayout + sum(carrierPayouts) + buyerRefund`.
/// @dev The token must be a plain ERC-20 (no fee on transfer, no rebasing): the deployer picks it.
interface IEscrow is IEscrowHooks {
    // ------------------------------------------------------------------ TYPES
    /// @notice Life-cycle of an order.
    enum OrderStatus {
        None,
        Active,
        Settled,
        Cancelled
    }

    /// @notice Stored order (five slots). Everything a verdict penalty reads or writes shares the first slot
    ///         (status, liability, per-excursion penalty, running claim), so a penalty costs one cold read and
    ///         one write to a slot that is never zero while the order is active.
    /// @param status Life-cycle state.
    /// @param legCount Number of delivery legs (at most MAX_LEGS).
    /// @param activeLeg Index of the leg whose carrier holds the goods, or NO_LEG (the seller is liable).
    /// @param pickedUp True once the goods left the seller (first handoff).
    /// @param claimRecords Which records hold flushed claims (bit i: leg i; SELLER_RECORD: the seller), so that
    ///        settlement reads only those.
    /// @param penaltyPerExcursion Per severity point of a verdict.
    /// @param pendingPenalty Penalties claimed from the party liable now, since liability last moved (saturates
    ///        at type(uint96).max: settlement caps every charge far below).
    /// @param buyer Funds the order; receives penalties and refunds; accepting custody settles the order.
    /// @param deliveryDeadline SLA delivery deadline (unix seconds).
    /// @param seller Receives the rest of the amount at settlement.
    /// @param amount Funded amount (unit price x quantity).
    /// @param penaltyPerHourLate Per started hour of lateness.
    /// @param penaltyCap Upper bound on the sum of the order's charged penalties.
    /// @param sellerPenalty Penalties claimed from the seller in earlier liability periods (flushed from
    ///        `pendingPenalty` when liability moved away from the seller).
    struct Order {
        OrderStatus status;
        uint8 legCount;
        uint8 activeLeg;
        bool pickedUp;
        uint8 claimRecords;
        uint96 penaltyPerExcursion;
        uint96 pendingPenalty;
        address buyer;
        uint64 deliveryDeadline;
        address seller;
        uint96 amount;
        uint96 penaltyPerHourLate;
        uint96 penaltyCap;
        uint96 sellerPenalty;
    }

    /// @notice A delivery leg.
    /// @param carrier Carrier paid for the leg.
    /// @param freight Agreed freight, carved out of the seller's share.
    /// @param penalty Penalties claimed from the carrier in earlier liability periods on this leg (flushed from
    ///        the order's `pendingPenalty` when liability moved away from it); what is charged is decided at
    ///        settlement (PenaltySettled).
    struct Leg {
        address carrier;
        uint96 freight;
        uint96 penalty;
    }

    // ------------------------------------------------------------------ CUSTOM ERRORS
    /// @notice Thrown when the token address given to the constructor is zero.
    error EscrowZeroToken();
    /// @notice Thrown when a hook caller (Procurement, CustodyTwin or VerdictHub) given to the constructor is zero.
    error EscrowZeroHookCaller();
    /// @notice Thrown when `caller` calls a hook reserved to another contract (`expected`).
    error EscrowUnauthorizedCaller(address caller, address expected);
    /// @notice Thrown when `orderId` is opened a second time.
    error EscrowOrderExists(uint256 orderId);
    /// @notice Thrown when `orderId` was never opened.
    error EscrowUnknownOrder(uint256 orderId);
    /// @notice Thrown when `orderId` is not Active (its status is `status`).
    error EscrowOrderNotActive(uint256 orderId, OrderStatus status);
    /// @notice Thrown when an order is opened with a zero amount.
    error EscrowZeroAmount(uint256 orderId);
    /// @notice Thrown when `party` cannot play its part (zero address, or the same as another party).
    error EscrowInvalidParty(uint256 orderId, address party);
    /// @notice Thrown when an order already has MAX_LEGS legs.
    error EscrowTooManyLegs(uint256 orderId);
    /// @notice Thrown when a leg's `freight` exceeds what is left of the seller's share (`available`).
    error EscrowFreightExceedsShare(uint256 orderId, uint96 freight, uint96 available);
    /// @notice Thrown when `caller` may not cancel `orderId` now.
    error EscrowCancelNotAllowed(uint256 orderId, address caller);
    /// @notice Thrown when `account` withdraws with no credit.
    error EscrowNothingToWithdraw(address account);

    // ------------------------------------------------------------------ EVENTS
    /// @notice Emitted when an order is opened and funded.
    /// @param orderId The order (= the GOODS call for proposals).
    /// @param buyer The buyer who funded it.
    /// @param seller The seller.
    /// @param amount Amount pulled from the buyer.
    /// @param deliveryDeadline SLA delivery deadline.
    /// @param penaltyPerHourLate Per started hour of lateness.
    /// @param penaltyPerExcursion Per severity point of a verdict.
    /// @param penaltyCap Bound on the sum of penalties.
    event OrderOpened(
        uint256 indexed orderId,
        address indexed buyer,
        address indexed seller,
        uint96 amount,
        uint64 deliveryDeadline,
        uint96 penaltyPerHourLate,
        uint96 penaltyPerExcursion,
        uint96 penaltyCap
    );
    /// @notice Emitted when a delivery leg is added.
    /// @param orderId The order.
    /// @param legIndex Index of the leg.
    /// @param carrier The carrier.
    /// @param freight Freight carved out of the seller's share.
    event LegAdded(uint256 indexed orderId, uint8 legIndex, address indexed carrier, uint96 freight);
    /// @notice Emitted on every custody handoff of an active order: who is liable from now on.
    /// @param orderId The order.
    /// @param from Previous holder.
    /// @param to New holder.
    /// @param handedAt Handoff time (from CustodyTwin).
    /// @param activeLeg The leg now liable, or NO_LEG when the seller is.
    event LiabilityMoved(
        uint256 indexed orderId, address indexed from, address indexed to, uint64 handedAt, uint8 activeLeg
    );
    /// @notice Emitted for every penalty claim: each accepted verdict with a severity, and the lateness penalty at
    ///         delivery. The claim is charged at settlement, within the liable party's share and the cap.
    /// @param orderId The order.
    /// @param verdictId The accepted verdict, or LATENESS for the lateness penalty computed at delivery.
    /// @param legIndex The liable party: the carrier of leg `legIndex` (see LegAdded), or the seller (NO_LEG).
    /// @param severity Severity of the verdict (0 for lateness).
    /// @param amount Amount claimed (severity x penaltyPerExcursion, or the lateness penalty), before clamping.
    event PenaltyApplied(
        uint256 indexed orderId, bytes32 indexed verdictId, uint8 legIndex, uint8 severity, uint96 amount
    );
    /// @notice Emitted at settlement for each party with claimed penalties: what was finally charged.
    /// @param orderId The order.
    /// @param liable The party charged (a carrier or the seller).
    /// @param legIndex The leg charged, or NO_LEG when the seller is.
    /// @param claimed Sum of the party's claims (PenaltyApplied) on this leg, or as seller.
    /// @param charged Amount charged: the claim clamped to the party's share and to what the cap leaves.
    event PenaltySettled(
        uint256 indexed orderId, address indexed liable, uint8 legIndex, uint96 claimed, uint96 charged
    );
    /// @notice Emitted when the buyer accepts custody and the order's money is split into credits.
    /// @param orderId The order.
    /// @param deliveredAt Time the buyer accepted custody.
    /// @param sellerPayout Credited to the seller.
    /// @param carriersPayout Credited to all carriers together (each gets a Credited event).
    /// @param buyerRefund Credited to the buyer (all charged penalties).
    event OrderSettled(
        uint256 indexed orderId, uint64 deliveredAt, uint96 sellerPayout, uint96 carriersPayout, uint96 buyerRefund
    );
    /// @notice Emitted when an order is cancelled and the buyer refunded in full.
    /// @param orderId The order.
    /// @param by Who cancelled (the seller or the buyer).
    /// @param refund Amount credited to the buyer.
    event OrderCancelled(uint256 indexed orderId, address indexed by, uint96 refund);
    /// @notice Emitted when a party is credited from an order.
    /// @param account The party.
    /// @param orderId The order.
    /// @param amount Amount credited.
    event Credited(address indexed account, uint256 indexed orderId, uint96 amount);
    /// @notice Emitted when a party withdraws its credit.
    /// @param account The party (and recipient).
    /// @param amount Amount transferred.
    event Withdrawn(address indexed account, uint256 amount);

    // ------------------------------------------------------------------ FUNCTIONS
    /// @notice Cancels an active order and credits the buyer in full. Allowed to the seller before pickup;
    ///         to the buyer when the goods were not picked up by the delivery deadline, or were not delivered
    ///         by the delivery deadline plus DELIVERY_GRACE (failed delivery).
    /// @param orderId The order.
    function cancelOrder(uint256 orderId) external;

    /// @notice Transfers the caller's whole credit to the caller.
    function withdraw() external;

    /// @notice The escrow token.
    function token() external view returns (address);

    /// @notice The stored order `orderId` (status None when unknown).
    function order(uint256 orderId) external view returns (Order memory);

    /// @notice Leg `legIndex` of `orderId` (zeroes when absent).
    function leg(uint256 orderId, uint256 legIndex) external view returns (Leg memory);

    /// @notice Unwithdrawn credit of `account`.
    function credit(address account) external view returns (uint256);

    /// @notice Everything Escrow owes: funded-but-unsettled orders plus unwithdrawn credits.
    function outstanding() external view returns (uint256);
}
