// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IEscrowHooks} from "./hooks/IEscrowHooks.sol";
import {IProcurementHooks} from "./hooks/IProcurementHooks.sol";

/// @title Contract-net procurement with sealed bids
/// @notice A buyer opens a call for proposals (CFP); eligible registered sellers (GOODS) or carriers
///         (DELIVERY) commit sealed bids, reveal them, and the CFP is awarded: to the best bid by anyone, or
///         to any revealed bid by the buyer. A GOODS award funds the order in Escrow and mints its custody
///         twin (orderId = cfpId); a DELIVERY award adds a paid leg to the parent order.
/// @dev Sealed bid: `commitment = keccak256(abi.encode(cfpId, bidder, unitPrice, etaTimestamp, salt))`
///      with types (uint256, address, uint96, uint64, bytes32). Phases by time: commit while
///      `now <= commitDeadline`, reveal while `commitDeadline < now <= revealDeadline`, award while
///      `revealDeadline < now <= awardDeadline`, expire after `awardDeadline`.
///      A REROUTE CFP's origin is the goods' current custody location and its destination that of
///      `sourceCfpId` (see RerouteOpened): both are emitted as zero.
interface IProcurement is IProcurementHooks {
    // ------------------------------------------------------------------ TYPES
    /// @notice What is bought.
    enum CfpKind {
        Goods,
        Delivery
    }

    /// @notice Life-cycle of a CFP (phases within Open follow from the deadlines).
    enum CfpStatus {
        None,
        Open,
        Awarded,
        Cancelled,
        Expired
    }

    /// @notice Physical service-level terms, read by the oracles.
    /// @param tempMinCentiC Lowest allowed temperature, 0.01 degC.
    /// @param tempMaxCentiC Highest allowed temperature, 0.01 degC.
    /// @param humidityMinBp Lowest allowed relative humidity, basis points.
    /// @param humidityMaxBp Highest allowed relative humidity, basis points (at most 10000).
    /// @param shockLimitMilliG Largest allowed shock, milli-g.
    /// @param excursionGraceSeconds Out-of-range time tolerated before an excursion counts.
    struct SlaTerms {
        int16 tempMinCentiC;
        int16 tempMaxCentiC;
        uint16 humidityMinBp;
        uint16 humidityMaxBp;
        uint16 shockLimitMilliG;
        uint32 excursionGraceSeconds;
    }

    /// @notice Everything a buyer states when opening a CFP.
    /// @param kind GOODS or DELIVERY.
    /// @param parentOrderId DELIVERY: the order whose goods are carried; GOODS: 0.
    /// @param productType Product family.
    /// @param quantity Units (GOODS) or freight units (DELIVERY); price is per unit.
    /// @param maxUnitPrice Highest acceptable unit price, base units.
    /// @param windowStart Earliest delivery (unix seconds).
    /// @param windowEnd Latest delivery (unix seconds); for GOODS equal to `money.deliveryDeadline`.
    /// @param origin Pick-up place (geohash or place id).
    /// @param destination Drop-off place.
    /// @param eligibleRoles Roles a bidder must hold: SUPPLIER or WHOLESALER (GOODS), CARRIER (DELIVERY).
    /// @param commitDeadline Last second for commitments.
    /// @param revealDeadline Last second for reveals.
    /// @param awardDeadline Last second for the award.
    /// @param sla Physical SLA terms.
    /// @param money Money SLA terms (GOODS); all zero for DELIVERY (the order's terms apply).
    struct CfpParams {
        CfpKind kind;
        uint64 parentOrderId;
        bytes32 productType;
        uint64 quantity;
        uint96 maxUnitPrice;
        uint64 windowStart;
        uint64 windowEnd;
        bytes32 origin;
        bytes32 destination;
        uint8 eligibleRoles;
        uint64 commitDeadline;
        uint64 revealDeadline;
        uint64 awardDeadline;
        SlaTerms sla;
        IEscrowHooks.SlaMoneyTerms money;
    }

    /// @notice Stored CFP (eight slots at most; origin/destination live in the CfpOpened event).
    /// @param buyer Opener; for DELIVERY the seller or its logistics agent.
    /// @param kind GOODS or DELIVERY.
    /// @param status Life-cycle state.
    /// @param eligibleRoles Roles a bidder must hold.
    /// @param commitDeadline Last second for commitments.
    /// @param revealDeadline Last second for reveals.
    /// @param awardDeadline Last second for the award.
    /// @param windowStart Earliest delivery.
    /// @param windowEnd Latest delivery.
    /// @param quantity Units.
    /// @param parentOrderId DELIVERY: the order carried.
    /// @param maxUnitPrice Highest acceptable unit price.
    /// @param bestUnitPrice Best revealed price so far, then the awarded price.
    /// @param productType Product family.
    /// @param sla Physical SLA terms.
    /// @param money Money SLA terms (GOODS).
    /// @param bestBidder Best revealed bidder so far, then the winner (for GOODS: the order's seller).
    /// @param bestEta ETA of `bestBidder`'s bid.
    struct Cfp {
        address buyer;
        CfpKind kind;
        CfpStatus status;
        uint8 eligibleRoles;
        uint40 commitDeadline;
        uint40 revealDeadline;
        uint40 awardDeadline;
        uint40 windowStart;
        uint40 windowEnd;
        uint64 quantity;
        uint64 parentOrderId;
        uint96 maxUnitPrice;
        uint96 bestUnitPrice;
        bytes32 productType;
        SlaTerms sla;
        IEscrowHooks.SlaMoneyTerms money;
        address bestBidder;
        uint40 bestEta;
    }

    /// @notice A bidder's sealed bid: the commitment until revealed, then the revealed terms.
    /// @param commitment Pending commitment (zero once revealed).
    /// @param unitPrice Revealed unit price.
    /// @param etaTimestamp Revealed delivery ETA.
    /// @param revealed True once revealed.
    struct Bid {
        bytes32 commitment;
        uint96 unitPrice;
        uint40 etaTimestamp;
        bool revealed;
    }

    // ------------------------------------------------------------------ CUSTOM ERRORS
    /// @notice Thrown when a constructor address is zero.
    error ProcurementZeroAddress();
    /// @notice Thrown when `account` is not registered, suspended, or lacks `roles`.
    error ProcurementNotEligible(address account, uint256 roles);
    /// @notice Thrown when `roles` is not the eligible role the CFP kind needs.
    error ProcurementInvalidRoles(CfpKind kind, uint8 roles);
    /// @notice Thrown when the deadlines are not `now < commit < reveal < award <= windowEnd`, `windowStart <=
    ///         windowEnd`, or do not fit 40 bits.
    error ProcurementInvalidTiming();
    /// @notice Thrown when quantity or max unit price is zero, or their product does not fit 96 bits.
    error ProcurementInvalidAmounts(uint64 quantity, uint96 maxUnitPrice);
    /// @notice Thrown when SLA ranges are inverted or humidity exceeds 100 %.
    error ProcurementInvalidSlaTerms();
    /// @notice Thrown when GOODS money terms disagree with the window, or DELIVERY money terms are not zero.
    error ProcurementInvalidMoneyTerms();
    /// @notice Thrown when a GOODS CFP names a parent order.
    error ProcurementUnexpectedParent(uint64 parentOrderId);
    /// @notice Thrown when `orderId` is not an awarded GOODS CFP.
    error ProcurementUnknownOrder(uint256 orderId);
    /// @notice Thrown when `caller` is neither the seller of `orderId` nor the logistics agent it named.
    error ProcurementNotOrderSeller(uint256 orderId, address caller);
    /// @notice Thrown when `cfpId` does not exist.
    error ProcurementUnknownCfp(uint256 cfpId);
    /// @notice Thrown when `cfpId` is not Open (its status is `status`).
    error ProcurementCfpNotOpen(uint256 cfpId, CfpStatus status);
    /// @notice Thrown when `caller` is not the buyer of `cfpId`.
    error ProcurementNotBuyer(uint256 cfpId, address caller);
    /// @notice Thrown when the buyer bids on its own CFP.
    error ProcurementBuyerCannotBid(uint256 cfpId);
    /// @notice Thrown when the buyer or seller of the order a DELIVERY CFP carries bids on it (Escrow would refuse
    ///         them as carrier).
    error ProcurementPartyCannotBid(uint256 cfpId, address bidder);
    /// @notice Thrown when a commitment is zero.
    error ProcurementZeroCommitment(uint256 cfpId);
    /// @notice Thrown when a commitment arrives after `commitDeadline`.
    error ProcurementCommitClosed(uint256 cfpId, uint64 commitDeadline);
    /// @notice Thrown when a reveal arrives outside `(commitDeadline, revealDeadline]`.
    error ProcurementRevealClosed(uint256 cfpId, uint64 commitDeadline, uint64 revealDeadline);
    /// @notice Thrown when `bidder` reveals with no pending commitment (none, or already revealed).
    error ProcurementNoCommitment(uint256 cfpId, address bidder);
    /// @notice Thrown when the revealed bid does not hash to `bidder`'s commitment.
    error ProcurementCommitmentMismatch(uint256 cfpId, address bidder);
    /// @notice Thrown when a revealed unit price is zero or above the CFP's maximum.
    error ProcurementInvalidBidPrice(uint256 cfpId, uint96 unitPrice, uint96 maxUnitPrice);
    /// @notice Thrown when an award arrives outside `(revealDeadline, awardDeadline]`.
    error ProcurementAwardClosed(uint256 cfpId, uint64 revealDeadline, uint64 awardDeadline);
    /// @notice Thrown when `bidder` has no revealed bid on `cfpId` (zero bidder: no bid revealed at all).
    error ProcurementBidNotRevealed(uint256 cfpId, address bidder);
    /// @notice Thrown when `cfpId` is expired before its award deadline passed.
    error ProcurementNotExpired(uint256 cfpId, uint64 awardDeadline);
    /// @notice Thrown when `orderId` has no awarded DELIVERY CFP to reroute.
    error ProcurementNothingToReroute(uint256 orderId);

    // ------------------------------------------------------------------ EVENTS
    /// @notice Emitted when a CFP is opened (also for reroutes).
    /// @param cfpId The new CFP.
    /// @param buyer Its buyer.
    /// @param parentOrderId DELIVERY: the order carried; GOODS: 0.
    /// @param params Every term of the CFP.
    event CfpOpened(uint256 indexed cfpId, address indexed buyer, uint256 indexed parentOrderId, CfpParams params);
    /// @notice Emitted with CfpOpened when VerdictHub reroutes an order.
    /// @param cfpId The new DELIVERY CFP.
    /// @param orderId The order rerouted.
    /// @param sourceCfpId The DELIVERY CFP whose buyer, terms and destination were cloned.
    /// @param verdictId The REROUTE verdict.
    event RerouteOpened(uint256 indexed cfpId, uint256 indexed orderId, uint256 sourceCfpId, bytes32 indexed verdictId);
    /// @notice Emitted when a seller names (or clears, agent = 0) its logistics agent for an order.
    /// @param orderId The order.
    /// @param seller The seller.
    /// @param agent The LOGISTICS participant allowed to buy delivery for the order.
    event LogisticsAgentSet(uint256 indexed orderId, address indexed seller, address indexed agent);
    /// @notice Emitted when a sealed bid is committed or replaced.
    /// @param cfpId The CFP.
    /// @param bidder The bidder.
    /// @param commitment The commitment.
    event BidCommitted(uint256 indexed cfpId, address indexed bidder, bytes32 commitment);
    /// @notice Emitted when a bid is revealed.
    /// @param cfpId The CFP.
    /// @param bidder The bidder.
    /// @param unitPrice Unit price.
    /// @param etaTimestamp Delivery ETA.
    /// @param best True when it became the best bid.
    event BidRevealed(uint256 indexed cfpId, address indexed bidder, uint96 unitPrice, uint64 etaTimestamp, bool best);
    /// @notice Emitted when a CFP is awarded; every other bid is declined by this event.
    /// @param cfpId The CFP (for GOODS also the new order id).
    /// @param winner The awarded bidder.
    /// @param unitPrice Awarded unit price.
    /// @param etaTimestamp Awarded ETA.
    /// @param total unitPrice x quantity (GOODS: funded amount; DELIVERY: freight).
    /// @param twinIdOrLegIndex GOODS: the twin id minted; DELIVERY: the Escrow leg index.
    /// @param byBuyer True when the buyer chose the bid, false for awardBest.
    event CfpAwarded(
        uint256 indexed cfpId,
        address indexed winner,
        uint96 unitPrice,
        uint64 etaTimestamp,
        uint96 total,
        uint256 twinIdOrLegIndex,
        bool byBuyer
    );
    /// @notice Emitted when the buyer cancels an open CFP.
    /// @param cfpId The CFP.
    /// @param buyer The buyer.
    event CfpCancelled(uint256 indexed cfpId, address indexed buyer);
    /// @notice Emitted when an unawarded CFP is expired after its award deadline.
    /// @param cfpId The CFP.
    /// @param caller Who expired it.
    event CfpExpired(uint256 indexed cfpId, address indexed caller);

    // ------------------------------------------------------------------ FUNCTIONS
    /// @notice Opens a CFP. GOODS: caller registered. DELIVERY: caller the parent order's seller, or the
    ///         LOGISTICS participant the seller named.
    /// @return cfpId The new CFP (ids start at 1).
    function openCfp(CfpParams calldata params) external returns (uint256 cfpId);

    /// @notice Names `agent` (a LOGISTICS participant, or 0 to clear) to buy delivery for `orderId`.
    ///         Caller: the order's seller.
    function setLogisticsAgent(uint256 orderId, address agent) external;

    /// @notice Commits (or replaces) the caller's sealed bid. Caller: a registered, eligible participant.
    function commitBid(uint256 cfpId, bytes32 commitment) external;

    /// @notice Reveals the caller's bid; must match its commitment. Tracks the best bid.
    function revealBid(uint256 cfpId, uint96 unitPrice, uint64 etaTimestamp, bytes32 salt) external;

    /// @notice Awards the best revealed bid (lowest price, then earliest ETA, then earliest reveal). Anyone.
    function awardBest(uint256 cfpId) external;

    /// @notice Awards `bidder`'s revealed bid. Caller: the CFP's buyer.
    function award(uint256 cfpId, address bidder) external;

    /// @notice Cancels an open CFP. Caller: the CFP's buyer.
    function cancel(uint256 cfpId) external;

    /// @notice Closes an open CFP whose award deadline passed. Anyone.
    function expire(uint256 cfpId) external;

    /// @notice The stored CFP `cfpId` (status None when unknown).
    function cfp(uint256 cfpId) external view returns (Cfp memory);

    /// @notice Physical SLA terms in force for `orderId`: those of its last awarded DELIVERY CFP, else of the
    ///         GOODS CFP.
    function slaTerms(uint256 orderId) external view returns (SlaTerms memory);

    /// @notice The CFP whose SLA terms are in force for `orderId` (0 when the order does not exist).
    function slaCfpOf(uint256 orderId) external view returns (uint256);

    /// @notice The logistics agent named for `orderId` (0 when none).
    function logisticsAgentOf(uint256 orderId) external view returns (address);

    /// @notice `bidder`'s bid on `cfpId`.
    function bid(uint256 cfpId, address bidder) external view returns (Bid memory);

    /// @notice The commitment a bidder must send for these terms.
    function commitmentOf(uint256 cfpId, address bidder, uint96 unitPrice, uint64 etaTimestamp, bytes32 salt)
        external
        pure
        returns (bytes32);

    /// @notice Number of CFPs opened so far (the last id).
    function cfpCount() external view returns (uint256);
}
