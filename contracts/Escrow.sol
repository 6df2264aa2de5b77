// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IEscrow} from "../interfaces/IEscrow.sol";
import {IEscrowHooks} from "../interfaces/hooks/IEscrowHooks.sol";
import {SlaMath} from "./libraries/SlaMath.sol";

/// @title Escrow
/// @notice Holds the buyer's payment of each order until delivery, records SLA penalty claims against whoever
///         holds the goods, then splits the payment into credits that each party withdraws (pull payments).
/// @dev Money never leaves except through `withdraw`; every other function only moves credits, so the
///      conservation invariant `token.balanceOf(this) == outstanding()` holds after each transaction.
///
///      Hook callers are immutable (no admin, no roles): Procurement, CustodyTwin and VerdictHub are fixed at
///      construction. scripts/deploy.py predicts their addresses from the deployer's nonce and verifies them
///      after deployment.
///
///      Penalty rule. A verdict only records a claim (PenaltyApplied) against the party liable at that moment:
///      the running claim of the liable party sits in the order's first slot, and is flushed to that party's
///      record (its leg, or the seller) when liability moves. At settlement the lateness penalty is claimed
///      from the party handing over to the buyer, then the cap is spent in liability order: the seller (liable
///      before pickup) first, then the legs by index; each party is charged at most its own share (the seller
///      its amount minus all freight, a carrier its freight), so nobody ever goes below zero, and the sum of
///      charges never exceeds penaltyCap. PenaltySettled reports claim and charge per party.
contract Escrow is IEscrow, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    // ------------------------------------------------------------------ CONSTANTS
    /// @notice Legs per order: bounds every loop over legs.
    uint8 public constant MAX_LEGS = 4;
    /// @notice `activeLeg` value when no carrier holds the goods (the seller is liable).
    uint8 public constant NO_LEG = type(uint8).max;
    /// @notice Bit of `Order.claimRecords` set once the seller's record (`sellerPenalty`) holds a claim; bit i
    ///         (i < MAX_LEGS) is set once leg i's record (`Leg.penalty`) does.
    uint8 public constant SELLER_RECORD = 0x80;
    /// @notice `verdictId` of the lateness penalty computed at delivery.
    bytes32 public constant LATENESS = "lateness";
    // Bit offsets in the order's first slot (IEscrow.Order declares status, legCount, activeLeg, pickedUp,
    // claimRecords: 8 bits each, then penaltyPerExcursion and pendingPenalty).
    uint256 private constant _ACTIVE_LEG_BIT = 16;
    uint256 private constant _PER_EXCURSION_BIT = 40;
    uint256 private constant _PENDING_BIT = 136;

    // ------------------------------------------------------------------ IMMUTABLES
    IERC20 private immutable _token;
    /// @notice After `deliveryDeadline + DELIVERY_GRACE` an undelivered order may be cancelled by its buyer.
    uint64 public immutable DELIVERY_GRACE;
    /// @notice The only caller of `openOrder` and `addLeg`.
    address public immutable PROCUREMENT;
    /// @notice The only caller of `onHandoff`.
    address public immutable CUSTODY;
    /// @notice The only caller of `applyPenalty`.
    address public immutable VERDICT_HUB;

    // ------------------------------------------------------------------ STORAGE
    mapping(uint256 orderId => Order) private _orders;
    mapping(uint256 orderId => Leg[MAX_LEGS]) private _legs;
    mapping(address account => uint256) private _credits;
    uint256 private _outstanding;

    /// @param token_ The ERC-20 every order of this Escrow is paid in (a plain token: no fee, no rebase).
    /// @param deliveryGrace Seconds after the delivery deadline before a picked-up order counts as failed.
    /// @param procurement_ Procurement: opens orders and adds legs.
    /// @param custody_ CustodyTwin: reports handoffs.
    /// @param verdictHub_ VerdictHub: claims verdict penalties.
    constructor(address token_, uint64 deliveryGrace, address procurement_, address custody_, address verdictHub_) {
        if (token_ == address(0)) revert EscrowZeroToken();
        if (procurement_ == address(0) || custody_ == address(0) || verdictHub_ == address(0)) {
            revert EscrowZeroHookCaller();
        }
        _token = IERC20(token_);
        DELIVERY_GRACE = deliveryGrace;
        PROCUREMENT = procurement_;
        CUSTODY = custody_;
        VERDICT_HUB = verdictHub_;
    }

    modifier onlyCaller(address expected) {
        if (msg.sender != expected) revert EscrowUnauthorizedCaller(msg.sender, expected);
        _;
    }

    // ------------------------------------------------------------------ HOOKS
    /// @inheritdoc IEscrowHooks
    function openOrder(uint256 orderId, address buyer, address seller, uint96 amount, SlaMoneyTerms calldata terms)
        external
        onlyCaller(PROCUREMENT)
        nonReentrant
    {
        Order storage o = _orders[orderId];
        if (o.status != OrderStatus.None) revert EscrowOrderExists(orderId);
        if (amount == 0) revert EscrowZeroAmount(orderId);
        if (buyer == address(0)) revert EscrowInvalidParty(orderId, buyer);
        if (seller == address(0) || seller == buyer) revert EscrowInvalidParty(orderId, seller);

        o.status = OrderStatus.Active;
        o.activeLeg = NO_LEG;
        o.penaltyPerExcursion = terms.penaltyPerExcursion;
        o.buyer = buyer;
        o.deliveryDeadline = terms.deliveryDeadline;
        o.seller = seller;
        o.amount = amount;
        o.penaltyPerHourLate = terms.penaltyPerHourLate;
        o.penaltyCap = terms.penaltyCap;
        _outstanding += amount;
        emit OrderOpened(
            orderId,
            buyer,
            seller,
            amount,
            terms.deliveryDeadline,
            terms.penaltyPerHourLate,
            terms.penaltyPerExcursion,
            terms.penaltyCap
        );
        _token.safeTransferFrom(buyer, address(this), amount);
    }

    /// @inheritdoc IEscrowHooks
    function addLeg(uint256 orderId, address carrier, uint96 freight)
        external
        onlyCaller(PROCUREMENT)
        nonReentrant
        returns (uint8 legIndex)
    {
        Order storage o = _activeOrder(orderId);
        // Legs are bought for goods still with the seller, or to reroute goods already on the way.
        legIndex = o.legCount;
        if (legIndex == MAX_LEGS) revert EscrowTooManyLegs(orderId);
        if (carrier == address(0) || carrier == o.buyer || carrier == o.seller) {
            revert EscrowInvalidParty(orderId, carrier);
        }
        uint96 available = _sellerRoom(orderId, o, legIndex);
        if (freight > available) revert EscrowFreightExceedsShare(orderId, freight, available);

        Leg storage l = _legs[orderId][legIndex];
        l.carrier = carrier;
        l.freight = freight;
        o.legCount = legIndex + 1;
        emit LegAdded(orderId, legIndex, carrier, freight);
    }

    /// @inheritdoc IEscrowHooks
    function onHandoff(uint256 orderId, address from, address to, uint64 handedAt)
        external
        onlyCaller(CUSTODY)
        nonReentrant
    {
        Order storage o = _orders[orderId];
        OrderStatus status = o.status;
        if (status == OrderStatus.None) revert EscrowUnknownOrder(orderId);
        // Twins outlive their order: later handoffs (the buyer moving its own goods) are not Escrow's business.
        if (status != OrderStatus.Active) return;

        uint8 previous = o.activeLeg;
        uint8 active = _legOf(orderId, o, previous, to);
        // addLeg never lets a carrier be the buyer, so only a holder without a leg can be the buyer: the buyer's
        // slot is not read on carrier handoffs.
        if (active == NO_LEG && to == o.buyer) {
            _settle(orderId, o, handedAt);
            return;
        }
        uint96 pending = o.pendingPenalty;
        if (pending != 0) {
            // Liability moves: the running claim becomes the previous party's record.
            if (previous == NO_LEG) {
                o.sellerPenalty = _saturatingAdd(o.sellerPenalty, pending);
                o.claimRecords |= SELLER_RECORD;
            } else {
                Leg storage l = _legs[orderId][previous];
                l.penalty = _saturatingAdd(l.penalty, pending);
                o.claimRecords |= uint8(1 << previous);
            }
            o.pendingPenalty = 0;
        }
        o.activeLeg = active;
        if (!o.pickedUp) o.pickedUp = true;
        emit LiabilityMoved(orderId, from, to, handedAt, active);
    }

    /// @inheritdoc IEscrowHooks
    /// @dev The hot path of every verdict: one read and at most one write of the order's first slot (layout in
    ///      IEscrow.Order: status bits 0-7, activeLeg 16-23, penaltyPerExcursion 40-135, pendingPenalty 136-231;
    ///      test_escrow checks it through `order()`).
    function applyPenalty(uint256 orderId, bytes32 verdictId, uint8 severity)
        external
        onlyCaller(VERDICT_HUB)
        returns (uint96 penalty)
    {
        Order storage o = _orders[orderId];
        uint256 head;
        assembly ("memory-safe") {
            head := sload(o.slot)
        }
        if (uint8(head) != uint8(OrderStatus.Active)) _activeOrder(orderId);
        // A uint96 times a uint8, and a sum of two uint96: neither can overflow 256 bits.
        unchecked {
            uint256 raw = uint256(uint96(head >> _PER_EXCURSION_BIT)) * severity;
            penalty = raw > type(uint96).max ? type(uint96).max : uint96(raw);
            if (penalty != 0) {
                uint256 pending = uint256(uint96(head >> _PENDING_BIT)) + penalty;
                if (pending > type(uint96).max) pending = type(uint96).max;
                head = (head & ~(uint256(type(uint96).max) << _PENDING_BIT)) | (pending << _PENDING_BIT);
                assembly ("memory-safe") {
                    sstore(o.slot, head)
                }
            }
        }
        emit PenaltyApplied(orderId, verdictId, uint8(head >> _ACTIVE_LEG_BIT), severity, penalty);
    }

    // ------------------------------------------------------------------ PARTIES
    /// @inheritdoc IEscrow
    function cancelOrder(uint256 orderId) external nonReentrant {
        Order storage o = _activeOrder(orderId);
        bool allowed = false;
        if (msg.sender == o.seller) {
            allowed = !o.pickedUp;
        } else if (msg.sender == o.buyer) {
            uint256 deadline = o.deliveryDeadline;
            allowed = o.pickedUp ? block.timestamp > deadline + DELIVERY_GRACE : block.timestamp > deadline;
        }
        if (!allowed) revert EscrowCancelNotAllowed(orderId, msg.sender);

        uint96 amount = o.amount;
        o.status = OrderStatus.Cancelled;
        _credits[o.buyer] += amount;
        emit OrderCancelled(orderId, msg.sender, amount);
        emit Credited(o.buyer, orderId, amount);
    }

    /// @inheritdoc IEscrow
    function withdraw() external nonReentrant {
        uint256 amount = _credits[msg.sender];
        if (amount == 0) revert EscrowNothingToWithdraw(msg.sender);
        _credits[msg.sender] = 0;
        _outstanding -= amount;
        emit Withdrawn(msg.sender, amount);
        _token.safeTransfer(msg.sender, amount);
    }

    // ------------------------------------------------------------------ VIEWS
    /// @inheritdoc IEscrow
    function token() external view returns (address) {
        return address(_token);
    }

    /// @inheritdoc IEscrow
    function order(uint256 orderId) external view returns (Order memory) {
        return _orders[orderId];
    }

    /// @inheritdoc IEscrow
    function leg(uint256 orderId, uint256 legIndex) external view returns (Leg memory) {
        if (legIndex >= MAX_LEGS) return Leg(address(0), 0, 0);
        return _legs[orderId][legIndex];
    }

    /// @inheritdoc IEscrow
    function credit(address account) external view returns (uint256) {
        return _credits[account];
    }

    /// @inheritdoc IEscrow
    function outstanding() external view returns (uint256) {
        return _outstanding;
    }

    // ------------------------------------------------------------------ INTERNAL
    function _activeOrder(uint256 orderId) private view returns (Order storage o) {
        o = _orders[orderId];
        if (o.status != OrderStatus.Active) {
            if (o.status == OrderStatus.None) revert EscrowUnknownOrder(orderId);
            revert EscrowOrderNotActive(orderId, o.status);
        }
    }

    /// @dev What a new leg's freight may still take: amount - freight of the first `legCount` legs - penalties
    ///      claimed from the seller so far (so freight never eats what the seller owes), floored at zero.
    function _sellerRoom(uint256 orderId, Order storage o, uint256 legCount) private view returns (uint96) {
        // The flag saves a cold read of the (usually empty) seller record.
        uint256 committed = o.claimRecords & SELLER_RECORD != 0 ? o.sellerPenalty : 0;
        if (o.activeLeg == NO_LEG) committed += o.pendingPenalty;
        for (uint256 i = 0; i < legCount; ++i) {
            committed += _legs[orderId][i].freight;
        }
        uint256 amount = o.amount;
        return committed >= amount ? 0 : uint96(amount - committed);
    }

    /// @dev The leg `holder` carries: the first leg after `current` with that carrier, else the first leg with
    ///      that carrier, else NO_LEG (a warehouse or the seller's agent: the seller stays liable).
    function _legOf(uint256 orderId, Order storage o, uint8 current, address holder) private view returns (uint8) {
        uint256 n = o.legCount;
        uint256 start = current == NO_LEG ? 0 : uint256(current) + 1;
        for (uint256 i = start; i < n; ++i) {
            if (_legs[orderId][i].carrier == holder) return uint8(i);
        }
        for (uint256 i = 0; i < start && i < n; ++i) {
            if (_legs[orderId][i].carrier == holder) return uint8(i);
        }
        return NO_LEG;
    }

    /// @dev Adds `raw` (saturating) to the running claim of the party liable now and emits PenaltyApplied.
    function _claim(uint256 orderId, Order storage o, bytes32 verdictId, uint8 severity, uint256 raw)
        private
        returns (uint96 claimed)
    {
        claimed = raw > type(uint96).max ? type(uint96).max : uint96(raw);
        if (claimed != 0) o.pendingPenalty = _saturatingAdd(o.pendingPenalty, claimed);
        emit PenaltyApplied(orderId, verdictId, o.activeLeg, severity, claimed);
    }

    /// @dev Delivery: lateness claimed from whoever hands over, then the cap is spent in liability order (seller,
    ///      then legs by index), each party charged at most its share; every share becomes a credit.
    function _settle(uint256 orderId, Order storage o, uint64 deliveredAt) private {
        uint256 late = SlaMath.latenessPenalty(o.deliveryDeadline, deliveredAt, o.penaltyPerHourLate);
        if (late != 0) _claim(orderId, o, LATENESS, 0, late);
        o.status = OrderStatus.Settled;

        (uint96 sellerPayout, uint96 sellerCharge) = _settleSeller(orderId, o);
        (uint96 carriersPayout, uint96 buyerRefund) = _settleLegs(orderId, o, sellerCharge);
        if (sellerPayout != 0) _credit(o.seller, orderId, sellerPayout);
        if (buyerRefund != 0) _credit(o.buyer, orderId, buyerRefund);
        emit OrderSettled(orderId, deliveredAt, sellerPayout, carriersPayout, buyerRefund);
    }

    /// @dev The seller's charge comes first out of the cap: it was liable first (before pickup).
    function _settleSeller(uint256 orderId, Order storage o)
        private
        returns (uint96 payout, uint96 charge)
    {
        uint256 freightTotal = 0;
        uint256 n = o.legCount;
        for (uint256 i = 0; i < n; ++i) {
            freightTotal += _legs[orderId][i].freight;
        }
        // addLeg keeps freightTotal <= amount.
        uint96 share = uint96(o.amount - freightTotal);
        uint96 claim = o.claimRecords & SELLER_RECORD != 0 ? o.sellerPenalty : 0;
        if (o.activeLeg == NO_LEG) claim = _saturatingAdd(claim, o.pendingPenalty);
        charge = 0;
        if (claim != 0) {
            charge = SlaMath.clamp(claim, o.penaltyCap, 0, share);
            emit PenaltySettled(orderId, o.seller, NO_LEG, claim, charge);
        }
        payout = share - charge;
    }

    /// @dev Each carrier is charged at most its freight, legs in index order, from what the cap leaves after
    ///      `charged` (the seller's charge). Returns the carriers' payout and the order's total charge.
    function _settleLegs(uint256 orderId, Order storage o, uint96 charged)
        private
        returns (uint96 payout, uint96 totalCharged)
    {
        uint96 cap = o.penaltyCap;
        uint256 active = o.activeLeg;
        uint96 pending = o.pendingPenalty;
        uint256 records = o.claimRecords;
        uint256 n = o.legCount;
        payout = 0;
        totalCharged = charged;
        for (uint256 i = 0; i < n; ++i) {
            Leg storage l = _legs[orderId][i];
            uint96 pay = l.freight;
            uint96 claim = records & (1 << i) != 0 ? l.penalty : 0;
            if (i == active) claim = _saturatingAdd(claim, pending);
            if (claim != 0) {
                uint96 charge = SlaMath.clamp(claim, cap, totalCharged, pay);
                totalCharged += charge;
                pay -= charge;
                emit PenaltySettled(orderId, l.carrier, uint8(i), claim, charge);
            }
            if (pay != 0) {
                payout += pay;
                _credit(l.carrier, orderId, pay);
            }
        }
    }

    function _credit(address account, uint256 orderId, uint96 amount) private {
        _credits[account] += amount;
        emit Credited(account, orderId, amount);
    }

    function _saturatingAdd(uint96 a, uint96 b) private pure returns (uint96) {
        uint256 sum = uint256(a) + b;
        return sum > type(uint96).max ? type(uint96).max : uint96(sum);
    }
}
