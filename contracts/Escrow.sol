// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IEscrow} from "../interfaces/IEscrow.sol";
import {IEscrowHooks} from "../interfaces/hooks/IEscrowHooks.sol";
import {SlaMath} from "./libraries/SlaMath.sol";

/// @title Escrow
/// @notice Holds the buyer's payment of each order until delivery, charges SLA penalties to whoever holds the
///         goods, then splits the payment into credits that each party withdraws (pull payments).
/// @dev Money never leaves except through `withdraw`; every other function only moves credits, so the
///      conservation invariant `token.balanceOf(this) == outstanding()` holds after each transaction.
contract Escrow is IEscrow, AccessControl, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    // ------------------------------------------------------------------ CONSTANTS
    bytes32 public constant PROCUREMENT_ROLE = keccak256("PROCUREMENT_ROLE");
    bytes32 public constant CUSTODY_ROLE = keccak256("CUSTODY_ROLE");
    bytes32 public constant VERDICT_ROLE = keccak256("VERDICT_ROLE");
    /// @notice Legs per order: bounds every loop over legs.
    uint8 public constant MAX_LEGS = 4;
    /// @notice `activeLeg` value when no carrier holds the goods (the seller is liable).
    uint8 public constant NO_LEG = type(uint8).max;
    /// @notice `verdictId` of the lateness penalty computed at delivery.
    bytes32 public constant LATENESS = "lateness";

    // ------------------------------------------------------------------ IMMUTABLES
    IERC20 private immutable _token;
    /// @notice After `deliveryDeadline + DELIVERY_GRACE` an undelivered order may be cancelled by its buyer.
    uint64 public immutable DELIVERY_GRACE;

    // ------------------------------------------------------------------ STORAGE
    mapping(uint256 orderId => Order) private _orders;
    mapping(uint256 orderId => Leg[MAX_LEGS]) private _legs;
    mapping(address account => uint256) private _credits;
    uint256 private _outstanding;

    /// @param token_ The ERC-20 every order of this Escrow is paid in (a plain token: no fee, no rebase).
    /// @param admin Receives DEFAULT_ADMIN_ROLE (grants the hook roles).
    /// @param deliveryGrace Seconds after the delivery deadline before a picked-up order counts as failed.
    constructor(address token_, address admin, uint64 deliveryGrace) {
        if (token_ == address(0)) revert EscrowZeroToken();
        _token = IERC20(token_);
        DELIVERY_GRACE = deliveryGrace;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ------------------------------------------------------------------ HOOKS
    /// @inheritdoc IEscrowHooks
    function openOrder(uint256 orderId, address buyer, address seller, uint96 amount, SlaMoneyTerms calldata terms)
        external
        onlyRole(PROCUREMENT_ROLE)
        nonReentrant
    {
        Order storage o = _orders[orderId];
        if (o.status != OrderStatus.None) revert EscrowOrderExists(orderId);
        if (amount == 0) revert EscrowZeroAmount(orderId);
        if (buyer == address(0)) revert EscrowInvalidParty(orderId, buyer);
        if (seller == address(0) || seller == buyer) revert EscrowInvalidParty(orderId, seller);

        o.buyer = buyer;
        o.deliveryDeadline = terms.deliveryDeadline;
        o.status = OrderStatus.Active;
        o.activeLeg = NO_LEG;
        o.seller = seller;
        o.amount = amount;
        o.penaltyPerHourLate = terms.penaltyPerHourLate;
        o.penaltyPerExcursion = terms.penaltyPerExcursion;
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
        onlyRole(PROCUREMENT_ROLE)
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
        uint96 available = _sellerShare(orderId, o);
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
        onlyRole(CUSTODY_ROLE)
        nonReentrant
    {
        Order storage o = _orders[orderId];
        OrderStatus status = o.status;
        if (status == OrderStatus.None) revert EscrowUnknownOrder(orderId);
        // Twins outlive their order: later handoffs (the buyer moving its own goods) are not Escrow's business.
        if (status != OrderStatus.Active) return;

        if (to == o.buyer) {
            _settle(orderId, o, handedAt);
            return;
        }
        uint8 active = _legOf(orderId, o, to);
        o.activeLeg = active;
        o.pickedUp = true;
        emit LiabilityMoved(orderId, from, to, handedAt, active);
    }

    /// @inheritdoc IEscrowHooks
    function applyPenalty(uint256 orderId, bytes32 verdictId, uint8 severity)
        external
        onlyRole(VERDICT_ROLE)
        returns (uint96 penalty)
    {
        Order storage o = _activeOrder(orderId);
        penalty = _charge(orderId, o, verdictId, severity, SlaMath.excursionPenalty(o.penaltyPerExcursion, severity));
    }

    // ------------------------------------------------------------------ PARTIES
    /// @inheritdoc IEscrow
    function cancelOrder(uint256 orderId) external nonReentrant {
        Order storage o = _activeOrder(orderId);
        bool allowed;
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

    /// @dev What is left for the seller: amount - all freight - penalties charged to the seller.
    ///      Seller penalties = penaltyTotal - leg penalties (bounded loop, MAX_LEGS).
    function _sellerShare(uint256 orderId, Order storage o) private view returns (uint96) {
        uint256 committed = o.penaltyTotal;
        uint256 n = o.legCount;
        for (uint256 i; i < n; ++i) {
            Leg storage l = _legs[orderId][i];
            committed = committed + l.freight - l.penalty;
        }
        return uint96(o.amount - committed);
    }

    /// @dev The leg `holder` carries: the first leg after the active one with that carrier, else the first
    ///      leg with that carrier, else NO_LEG (a warehouse or the seller's agent: the seller stays liable).
    function _legOf(uint256 orderId, Order storage o, address holder) private view returns (uint8) {
        uint256 n = o.legCount;
        uint256 start = o.activeLeg == NO_LEG ? 0 : uint256(o.activeLeg) + 1;
        for (uint256 i = start; i < n; ++i) {
            if (_legs[orderId][i].carrier == holder) return uint8(i);
        }
        for (uint256 i; i < start && i < n; ++i) {
            if (_legs[orderId][i].carrier == holder) return uint8(i);
        }
        return NO_LEG;
    }

    /// @dev Charges `raw` (clamped) to the liable party and emits PenaltyApplied.
    function _charge(uint256 orderId, Order storage o, bytes32 verdictId, uint8 severity, uint256 raw)
        private
        returns (uint96 penalty)
    {
        uint8 active = o.activeLeg;
        address liable;
        uint96 total = o.penaltyTotal;
        if (active == NO_LEG) {
            liable = o.seller;
            penalty = SlaMath.clamp(raw, o.penaltyCap, total, _sellerShare(orderId, o));
        } else {
            Leg storage l = _legs[orderId][active];
            liable = l.carrier;
            uint96 charged = l.penalty;
            penalty = SlaMath.clamp(raw, o.penaltyCap, total, l.freight - charged);
            if (penalty != 0) l.penalty = charged + penalty;
        }
        if (penalty != 0) o.penaltyTotal = total + penalty;
        emit PenaltyApplied(orderId, verdictId, liable, active, severity, penalty);
    }

    /// @dev Delivery: lateness penalty on whoever hands over, then every share becomes a credit.
    function _settle(uint256 orderId, Order storage o, uint64 deliveredAt) private {
        uint256 late = SlaMath.latenessPenalty(o.deliveryDeadline, deliveredAt, o.penaltyPerHourLate);
        if (late != 0) _charge(orderId, o, LATENESS, 0, late);

        o.status = OrderStatus.Settled;
        uint96 carriersPayout;
        uint256 n = o.legCount;
        for (uint256 i; i < n; ++i) {
            Leg storage l = _legs[orderId][i];
            uint96 pay = l.freight - l.penalty;
            if (pay != 0) {
                carriersPayout += pay;
                _credit(l.carrier, orderId, pay);
            }
        }
        uint96 buyerRefund = o.penaltyTotal;
        uint96 sellerPayout = o.amount - carriersPayout - buyerRefund;
        if (sellerPayout != 0) _credit(o.seller, orderId, sellerPayout);
        if (buyerRefund != 0) _credit(o.buyer, orderId, buyerRefund);
        emit OrderSettled(orderId, deliveredAt, sellerPayout, carriersPayout, buyerRefund);
    }

    function _credit(address account, uint256 orderId, uint96 amount) private {
        _credits[account] += amount;
        emit Credited(account, orderId, amount);
    }
}
