// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IProcurement} from "../interfaces/IProcurement.sol";
import {IParticipantRegistry} from "../interfaces/IParticipantRegistry.sol";
import {IEscrowHooks} from "../interfaces/hooks/IEscrowHooks.sol";
import {ICustodyHooks} from "../interfaces/hooks/ICustodyHooks.sol";
import {IProcurementHooks} from "../interfaces/hooks/IProcurementHooks.sol";
import {ParticipantRoles} from "./libraries/ParticipantRoles.sol";

/// @title Procurement
/// @notice Contract-net calls for proposals with commit/reveal sealed bids. The buyer's strategy is
///         off-chain; the rules (eligibility, phases, best-bid order, award effects) are here.
/// @dev No loop over bids: the best bid is tracked at reveal, losing bids are declined by CfpAwarded.
contract Procurement is IProcurement, AccessControl, ReentrancyGuardTransient {
    // ------------------------------------------------------------------ CONSTANTS
    bytes32 public constant REROUTE_ROLE = keccak256("REROUTE_ROLE");
    uint16 private constant MAX_HUMIDITY_BP = 10_000;

    // ------------------------------------------------------------------ IMMUTABLES
    IParticipantRegistry public immutable REGISTRY;
    IEscrowHooks public immutable ESCROW;
    ICustodyHooks public immutable CUSTODY;
    /// @notice Bid phases of a reroute CFP, in seconds from the verdict: commit, then reveal, then award.
    uint32 public immutable REROUTE_COMMIT_PERIOD;
    uint32 public immutable REROUTE_REVEAL_PERIOD;
    uint32 public immutable REROUTE_AWARD_PERIOD;

    // ------------------------------------------------------------------ STORAGE
    uint256 private _cfpCount;
    mapping(uint256 cfpId => Cfp) private _cfps;
    mapping(uint256 cfpId => mapping(address bidder => Bid)) private _bids;
    mapping(uint256 orderId => uint256 cfpId) private _slaCfpOf;
    mapping(uint256 orderId => address agent) private _logisticsAgentOf;

    /// @param registry ParticipantRegistry checked for buyers and bidders.
    /// @param escrow Escrow (built with this contract as its immutable PROCUREMENT caller).
    /// @param custody CustodyTwin (built with this contract as its immutable MINTER).
    /// @param admin Receives DEFAULT_ADMIN_ROLE (grants REROUTE_ROLE to VerdictHub).
    /// @param reroutePeriods Commit, reveal and award periods of reroute CFPs, seconds, each > 0.
    constructor(
        IParticipantRegistry registry,
        IEscrowHooks escrow,
        ICustodyHooks custody,
        address admin,
        uint32[3] memory reroutePeriods
    ) {
        if (address(registry) == address(0) || address(escrow) == address(0) || address(custody) == address(0)) {
            revert ProcurementZeroAddress();
        }
        if (reroutePeriods[0] == 0 || reroutePeriods[1] == 0 || reroutePeriods[2] == 0) {
            revert ProcurementInvalidTiming();
        }
        REGISTRY = registry;
        ESCROW = escrow;
        CUSTODY = custody;
        REROUTE_COMMIT_PERIOD = reroutePeriods[0];
        REROUTE_REVEAL_PERIOD = reroutePeriods[1];
        REROUTE_AWARD_PERIOD = reroutePeriods[2];
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ------------------------------------------------------------------ OPENING
    /// @inheritdoc IProcurement
    function openCfp(CfpParams calldata p) external returns (uint256 cfpId) {
        if (p.kind == CfpKind.Goods) {
            if (p.parentOrderId != 0) revert ProcurementUnexpectedParent(p.parentOrderId);
            if (p.eligibleRoles != ParticipantRoles.SUPPLIER && p.eligibleRoles != ParticipantRoles.WHOLESALER) {
                revert ProcurementInvalidRoles(p.kind, p.eligibleRoles);
            }
            if (p.money.deliveryDeadline != p.windowEnd) revert ProcurementInvalidMoneyTerms();
            _requireRoles(msg.sender, 0);
        } else {
            if (p.eligibleRoles != ParticipantRoles.CARRIER) revert ProcurementInvalidRoles(p.kind, p.eligibleRoles);
            if (
                p.money.deliveryDeadline != 0 || p.money.penaltyPerHourLate != 0 || p.money.penaltyPerExcursion != 0
                    || p.money.penaltyCap != 0
            ) revert ProcurementInvalidMoneyTerms();
            _requireDeliveryBuyer(p.parentOrderId, msg.sender);
        }
        if (
            p.commitDeadline <= block.timestamp || p.revealDeadline <= p.commitDeadline
                || p.awardDeadline <= p.revealDeadline || p.windowEnd < p.awardDeadline || p.windowEnd < p.windowStart
                || p.windowEnd > type(uint40).max
        ) revert ProcurementInvalidTiming();
        if (p.quantity == 0 || p.maxUnitPrice == 0 || uint256(p.maxUnitPrice) * p.quantity > type(uint96).max) {
            revert ProcurementInvalidAmounts(p.quantity, p.maxUnitPrice);
        }
        _checkSla(p.sla);

        cfpId = ++_cfpCount;
        Cfp storage c = _cfps[cfpId];
        c.buyer = msg.sender;
        c.kind = p.kind;
        c.status = CfpStatus.Open;
        c.eligibleRoles = p.eligibleRoles;
        c.commitDeadline = uint40(p.commitDeadline);
        c.revealDeadline = uint40(p.revealDeadline);
        c.awardDeadline = uint40(p.awardDeadline);
        c.windowStart = uint40(p.windowStart);
        c.windowEnd = uint40(p.windowEnd);
        c.quantity = p.quantity;
        c.parentOrderId = p.parentOrderId;
        c.maxUnitPrice = p.maxUnitPrice;
        c.productType = p.productType;
        c.sla = p.sla;
        if (p.kind == CfpKind.Goods) c.money = p.money;
        emit CfpOpened(cfpId, msg.sender, p.parentOrderId, p);
    }

    /// @inheritdoc IProcurement
    function setLogisticsAgent(uint256 orderId, address agent) external {
        if (_sellerOf(orderId) != msg.sender) revert ProcurementNotOrderSeller(orderId, msg.sender);
        if (agent != address(0)) _requireRoles(agent, ParticipantRoles.LOGISTICS);
        _logisticsAgentOf[orderId] = agent;
        emit LogisticsAgentSet(orderId, msg.sender, agent);
    }

    /// @inheritdoc IProcurementHooks
    function openReroute(uint256 orderId, bytes32 verdictId) external onlyRole(REROUTE_ROLE) returns (uint256 cfpId) {
        uint256 sourceId = _slaCfpOf[orderId];
        Cfp storage src = _cfps[sourceId];
        if (sourceId == 0 || src.kind != CfpKind.Delivery) revert ProcurementNothingToReroute(orderId);

        uint40 commitDeadline = uint40(block.timestamp) + REROUTE_COMMIT_PERIOD;
        uint40 revealDeadline = commitDeadline + REROUTE_REVEAL_PERIOD;
        uint40 awardDeadline = revealDeadline + REROUTE_AWARD_PERIOD;
        cfpId = ++_cfpCount;
        Cfp storage c = _cfps[cfpId];
        c.buyer = src.buyer;
        c.kind = CfpKind.Delivery;
        c.status = CfpStatus.Open;
        c.eligibleRoles = ParticipantRoles.CARRIER;
        c.commitDeadline = commitDeadline;
        c.revealDeadline = revealDeadline;
        c.awardDeadline = awardDeadline;
        c.windowStart = uint40(block.timestamp);
        // The SLA deadline stays; a reroute that cannot make it is priced by the lateness penalty.
        c.windowEnd = src.windowEnd > awardDeadline ? src.windowEnd : awardDeadline;
        c.quantity = src.quantity;
        c.parentOrderId = uint64(orderId);
        c.maxUnitPrice = src.maxUnitPrice;
        c.productType = src.productType;
        c.sla = src.sla;

        CfpParams memory p;
        p.kind = CfpKind.Delivery;
        p.parentOrderId = uint64(orderId);
        p.productType = c.productType;
        p.quantity = c.quantity;
        p.maxUnitPrice = c.maxUnitPrice;
        p.windowStart = c.windowStart;
        p.windowEnd = c.windowEnd;
        p.eligibleRoles = ParticipantRoles.CARRIER;
        p.commitDeadline = commitDeadline;
        p.revealDeadline = revealDeadline;
        p.awardDeadline = awardDeadline;
        p.sla = c.sla;
        emit CfpOpened(cfpId, c.buyer, orderId, p);
        emit RerouteOpened(cfpId, orderId, sourceId, verdictId);
    }

    // ------------------------------------------------------------------ BIDDING
    /// @inheritdoc IProcurement
    function commitBid(uint256 cfpId, bytes32 commitment) external {
        Cfp storage c = _openCfp(cfpId);
        if (block.timestamp > c.commitDeadline) revert ProcurementCommitClosed(cfpId, c.commitDeadline);
        if (commitment == bytes32(0)) revert ProcurementZeroCommitment(cfpId);
        _requireBidder(cfpId, c);
        Bid storage b = _bids[cfpId][msg.sender];
        // A revealed bid is final; replacing is only for pending commitments (and the commit phase is over
        // before any reveal, so this can only meet a pending one).
        b.commitment = commitment;
        emit BidCommitted(cfpId, msg.sender, commitment);
    }

    /// @inheritdoc IProcurement
    function revealBid(uint256 cfpId, uint96 unitPrice, uint64 etaTimestamp, bytes32 salt) external {
        Cfp storage c = _openCfp(cfpId);
        if (block.timestamp <= c.commitDeadline || block.timestamp > c.revealDeadline) {
            revert ProcurementRevealClosed(cfpId, c.commitDeadline, c.revealDeadline);
        }
        Bid storage b = _bids[cfpId][msg.sender];
        bytes32 commitment = b.commitment;
        if (commitment == bytes32(0)) revert ProcurementNoCommitment(cfpId, msg.sender);
        if (commitment != _commitment(cfpId, msg.sender, unitPrice, etaTimestamp, salt)) {
            revert ProcurementCommitmentMismatch(cfpId, msg.sender);
        }
        if (unitPrice == 0 || unitPrice > c.maxUnitPrice) {
            revert ProcurementInvalidBidPrice(cfpId, unitPrice, c.maxUnitPrice);
        }
        if (etaTimestamp > type(uint40).max) revert ProcurementInvalidTiming();
        // Suspended or de-registered since the commitment: the bid is void. The party rules of _requireBidder
        // held at commit and cannot have changed since (a commitment exists, and neither the CFP's buyer nor an
        // awarded order's buyer and seller ever change), so only the registry is asked again.
        _requireRoles(msg.sender, c.eligibleRoles);

        b.commitment = bytes32(0);
        b.unitPrice = unitPrice;
        b.etaTimestamp = uint40(etaTimestamp);
        b.revealed = true;

        // Strictly better only, so ties keep the earlier reveal.
        bool best = c.bestBidder == address(0) || unitPrice < c.bestUnitPrice
            || (unitPrice == c.bestUnitPrice && etaTimestamp < c.bestEta);
        if (best) {
            c.bestBidder = msg.sender;
            c.bestUnitPrice = unitPrice;
            c.bestEta = uint40(etaTimestamp);
        }
        emit BidRevealed(cfpId, msg.sender, unitPrice, etaTimestamp, best);
    }

    // ------------------------------------------------------------------ AWARD
    /// @inheritdoc IProcurement
    function awardBest(uint256 cfpId) external nonReentrant {
        Cfp storage c = _awardableCfp(cfpId);
        address winner = c.bestBidder;
        if (winner == address(0)) revert ProcurementBidNotRevealed(cfpId, address(0));
        _award(cfpId, c, winner, c.bestUnitPrice, c.bestEta, false);
    }

    /// @inheritdoc IProcurement
    function award(uint256 cfpId, address bidder) external nonReentrant {
        Cfp storage c = _awardableCfp(cfpId);
        if (msg.sender != c.buyer) revert ProcurementNotBuyer(cfpId, msg.sender);
        Bid storage b = _bids[cfpId][bidder];
        if (!b.revealed) revert ProcurementBidNotRevealed(cfpId, bidder);
        _award(cfpId, c, bidder, b.unitPrice, b.etaTimestamp, true);
    }

    /// @inheritdoc IProcurement
    function cancel(uint256 cfpId) external {
        Cfp storage c = _openCfp(cfpId);
        if (msg.sender != c.buyer) revert ProcurementNotBuyer(cfpId, msg.sender);
        c.status = CfpStatus.Cancelled;
        emit CfpCancelled(cfpId, msg.sender);
    }

    /// @inheritdoc IProcurement
    function expire(uint256 cfpId) external {
        Cfp storage c = _openCfp(cfpId);
        if (block.timestamp <= c.awardDeadline) revert ProcurementNotExpired(cfpId, c.awardDeadline);
        c.status = CfpStatus.Expired;
        emit CfpExpired(cfpId, msg.sender);
    }

    // ------------------------------------------------------------------ VIEWS
    /// @inheritdoc IProcurement
    function cfp(uint256 cfpId) external view returns (Cfp memory) {
        return _cfps[cfpId];
    }

    /// @inheritdoc IProcurement
    function slaTerms(uint256 orderId) external view returns (SlaTerms memory) {
        uint256 cfpId = _slaCfpOf[orderId];
        if (cfpId == 0) revert ProcurementUnknownOrder(orderId);
        return _cfps[cfpId].sla;
    }

    /// @inheritdoc IProcurement
    function slaCfpOf(uint256 orderId) external view returns (uint256) {
        return _slaCfpOf[orderId];
    }

    /// @inheritdoc IProcurement
    function logisticsAgentOf(uint256 orderId) external view returns (address) {
        return _logisticsAgentOf[orderId];
    }

    /// @inheritdoc IProcurement
    function bid(uint256 cfpId, address bidder) external view returns (Bid memory) {
        return _bids[cfpId][bidder];
    }

    /// @inheritdoc IProcurement
    function commitmentOf(uint256 cfpId, address bidder, uint96 unitPrice, uint64 etaTimestamp, bytes32 salt)
        external
        pure
        returns (bytes32)
    {
        return _commitment(cfpId, bidder, unitPrice, etaTimestamp, salt);
    }

    /// @inheritdoc IProcurement
    function cfpCount() external view returns (uint256) {
        return _cfpCount;
    }

    // ------------------------------------------------------------------ INTERNAL
    function _award(uint256 cfpId, Cfp storage c, address winner, uint96 unitPrice, uint40 eta, bool byBuyer)
        private
    {
        // Effects first: the CFP is closed and the winner recorded before Escrow pulls tokens.
        c.status = CfpStatus.Awarded;
        if (winner != c.bestBidder) c.bestBidder = winner;
        if (unitPrice != c.bestUnitPrice) c.bestUnitPrice = unitPrice;
        if (eta != c.bestEta) c.bestEta = eta;
        // maxUnitPrice x quantity was checked to fit 96 bits at opening and unitPrice <= maxUnitPrice.
        uint96 total = uint96(uint256(unitPrice) * c.quantity);
        uint256 ref;
        if (c.kind == CfpKind.Goods) {
            _slaCfpOf[cfpId] = cfpId;
            ESCROW.openOrder(cfpId, c.buyer, winner, total, c.money);
            ref = CUSTODY.mintTwin(cfpId, winner, c.buyer, c.quantity, c.productType);
        } else {
            uint256 orderId = c.parentOrderId;
            _slaCfpOf[orderId] = cfpId;
            ref = ESCROW.addLeg(orderId, winner, total);
        }
        // Emitted last because it carries the id the hooks return; the CFP was closed before the calls.
        emit CfpAwarded(cfpId, winner, unitPrice, eta, total, ref, byBuyer);
    }

    function _openCfp(uint256 cfpId) private view returns (Cfp storage c) {
        c = _cfps[cfpId];
        CfpStatus status = c.status;
        if (status != CfpStatus.Open) {
            if (status == CfpStatus.None) revert ProcurementUnknownCfp(cfpId);
            revert ProcurementCfpNotOpen(cfpId, status);
        }
    }

    function _awardableCfp(uint256 cfpId) private view returns (Cfp storage c) {
        c = _openCfp(cfpId);
        if (block.timestamp <= c.revealDeadline || block.timestamp > c.awardDeadline) {
            revert ProcurementAwardClosed(cfpId, c.revealDeadline, c.awardDeadline);
        }
    }

    function _requireBidder(uint256 cfpId, Cfp storage c) private view {
        if (msg.sender == c.buyer) revert ProcurementBuyerCannotBid(cfpId);
        if (c.kind == CfpKind.Delivery) {
            // A logistics agent may have opened it: the order's own parties still cannot carry it.
            Cfp storage order = _cfps[c.parentOrderId];
            if (msg.sender == order.buyer || msg.sender == order.bestBidder) {
                revert ProcurementPartyCannotBid(cfpId, msg.sender);
            }
        }
        _requireRoles(msg.sender, c.eligibleRoles);
    }

    function _requireRoles(address account, uint256 roles) private view {
        if (!REGISTRY.hasRoles(account, roles)) revert ProcurementNotEligible(account, roles);
    }

    /// @dev The seller of an awarded GOODS order, else zero.
    function _sellerOf(uint256 orderId) private view returns (address) {
        Cfp storage c = _cfps[orderId];
        if (c.kind != CfpKind.Goods || c.status != CfpStatus.Awarded) return address(0);
        return c.bestBidder;
    }

    function _requireDeliveryBuyer(uint256 orderId, address caller) private view {
        address seller = _sellerOf(orderId);
        if (seller == address(0)) revert ProcurementUnknownOrder(orderId);
        if (caller == seller) {
            _requireRoles(caller, 0);
        } else if (caller == _logisticsAgentOf[orderId] && caller != address(0)) {
            _requireRoles(caller, ParticipantRoles.LOGISTICS);
        } else {
            revert ProcurementNotOrderSeller(orderId, caller);
        }
    }

    function _checkSla(SlaTerms calldata s) private pure {
        if (
            s.tempMinCentiC > s.tempMaxCentiC || s.humidityMinBp > s.humidityMaxBp
                || s.humidityMaxBp > MAX_HUMIDITY_BP
        ) revert ProcurementInvalidSlaTerms();
    }

    function _commitment(uint256 cfpId, address bidder, uint96 unitPrice, uint64 etaTimestamp, bytes32 salt)
        private
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(cfpId, bidder, unitPrice, etaTimestamp, salt));
    }
}
