// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {ICustodyTwin} from "../interfaces/ICustodyTwin.sol";
import {ICustodyHooks} from "../interfaces/hooks/ICustodyHooks.sol";
import {IEscrowHooks} from "../interfaces/hooks/IEscrowHooks.sol";

/// @title CustodyTwin
/// @notice ERC-721 digital twins of lots. Custody moves only by a two-step handoff (offer by the holder,
///         acceptance by the receiver), so the chain never shows goods moving without the receiver's consent.
/// @dev Twins are minted with `_mint`, not `_safeMint`: the holder accepts nothing by being minted to, and a
///      receiver callback would hand control to arbitrary code inside Procurement's award transaction.
///      Every state-changing entry point is `nonReentrant` (transient storage), so the Escrow callback at the end
///      of `acceptHandoff` cannot re-enter custody. See `ICustodyTwin` for the rules.
contract CustodyTwin is ERC721, AccessControl, ReentrancyGuardTransient, ICustodyTwin {
    // ---------------------------------------------------------------- CONSTANTS

    /// @notice Bound on the parts of one split or merge, so every loop and genealogy list stays small.
    uint256 public constant MAX_PARTS = 16;

    // ---------------------------------------------------------------- IMMUTABLES

    /// @dev The Escrow that receives handoff reports of bound twins.
    address private immutable _escrow;
    /// @notice The only account that may mint twins for awarded orders (Procurement).
    address public immutable MINTER;
    /// @notice The only account that may put twins on hold, and one of the two that may release them
    ///         (VerdictHub; the admin may release too).
    address public immutable HOLD_KEEPER;

    // ---------------------------------------------------------------- STORAGE

    /// @dev The id the next twin gets. Set to 1 by the constructor, so that no mint ever pays for writing a
    ///      fresh (zero) slot: the deployment does, once.
    uint256 private _nextTwinId;

    mapping(uint256 twinId => Twin) private _twins;
    mapping(uint256 twinId => Offer) private _offers;
    mapping(uint256 orderId => uint256 twinId) private _twinOfOrder;
    mapping(uint256 twinId => uint256[]) private _parents;
    mapping(uint256 twinId => uint256[]) private _children;

    // ---------------------------------------------------------------- CONSTRUCTOR

    /// @dev Callers are immutable (a cold role lookup per mint and per handoff report is gone): deploy_suite
    ///      predicts the addresses of contracts deployed later from the deployer's nonce and checks them.
    /// @param admin Receives DEFAULT_ADMIN_ROLE (releases holds).
    /// @param escrow_ The Escrow to report handoffs to.
    /// @param minter The only account allowed to mint (Procurement).
    /// @param holdKeeper The only account allowed to put twins on hold (VerdictHub).
    constructor(address admin, address escrow_, address minter, address holdKeeper)
        ERC721("ASC Custody Twin", "ASCT")
    {
        if (admin == address(0) || escrow_ == address(0) || minter == address(0) || holdKeeper == address(0)) {
            revert CustodyTwinZeroAddress();
        }
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _escrow = escrow_;
        _nextTwinId = 1;
        MINTER = minter;
        HOLD_KEEPER = holdKeeper;
        emit EscrowSet(escrow_);
    }

    // ---------------------------------------------------------------- HOOKS

    /// @inheritdoc ICustodyHooks
    function mintTwin(uint256 orderId, address holder, address consignee, uint64 quantity, bytes32 productType)
        external
        nonReentrant
        returns (uint256 twinId)
    {
        if (msg.sender != MINTER) revert CustodyTwinUnauthorizedMinter(msg.sender);
        if (holder == address(0) || consignee == address(0)) revert CustodyTwinZeroAddress();
        if (holder == consignee) revert CustodyTwinSameParty(holder);
        if (quantity == 0) revert CustodyTwinZeroQuantity();
        uint256 existing = _twinOfOrder[orderId];
        if (existing != 0) revert CustodyTwinOrderAlreadyMinted(orderId, existing);

        twinId = _nextTwinId++;
        _twinOfOrder[orderId] = twinId;
        _twins[twinId] = Twin({
            orderId: orderId,
            productType: productType,
            consignee: consignee,
            quantity: quantity,
            bound: true,
            delivered: false,
            held: false,
            retired: false
        });
        _mint(holder, twinId);
        emit TwinMinted(twinId, orderId, holder, consignee, quantity, productType, uint64(block.timestamp));
    }

    /// @inheritdoc ICustodyHooks
    /// @dev Idempotent on purpose: a second HOLD verdict for a held twin must still be accepted (its penalty
    ///      applies), so holding a held twin only records the new verdict in an event.
    function setHold(uint256 twinId, bool held, bytes32 verdictId) external nonReentrant {
        if (msg.sender != HOLD_KEEPER && (held || !hasRole(DEFAULT_ADMIN_ROLE, msg.sender))) {
            revert CustodyTwinUnauthorizedHold(msg.sender);
        }
        Twin storage t = _live(twinId);
        t.held = held;
        emit HoldSet(twinId, held, verdictId, msg.sender, uint64(block.timestamp));
    }

    // ---------------------------------------------------------------- CUSTODY

    /// @inheritdoc ICustodyTwin
    function offerHandoff(uint256 twinId, address to, bytes32 location, bytes32 conditionHash)
        external
        nonReentrant
    {
        Twin storage t = _live(twinId);
        address holder = _requireHolder(twinId);
        if (to == address(0)) revert CustodyTwinZeroAddress();
        if (to == holder) revert CustodyTwinSameParty(to);
        if (t.held) revert CustodyTwinOnHold(twinId);
        address pending = _offers[twinId].to;
        if (pending != address(0)) revert CustodyTwinOfferPending(twinId, pending);

        _offers[twinId] = Offer({to: to, offeredAt: uint64(block.timestamp)});
        emit HandoffOffered(twinId, holder, to, uint64(block.timestamp), location, conditionHash);
    }

    /// @inheritdoc ICustodyTwin
    function cancelOffer(uint256 twinId) external nonReentrant {
        _live(twinId);
        address holder = _requireHolder(twinId);
        address to = _offers[twinId].to;
        if (to == address(0)) revert CustodyTwinNoOffer(twinId);
        delete _offers[twinId];
        emit HandoffCancelled(twinId, holder, to, uint64(block.timestamp));
    }

    /// @inheritdoc ICustodyTwin
    function acceptHandoff(uint256 twinId, bytes32 location, bytes32 conditionHash) external nonReentrant {
        // Offers exist only for live twins (split/merge refuse twins with a pending offer).
        address to = _offers[twinId].to;
        if (to == address(0)) revert CustodyTwinNoOffer(twinId);
        if (to != msg.sender) revert CustodyTwinNotOfferee(twinId, msg.sender, to);
        Twin storage t = _twins[twinId];
        if (t.held) revert CustodyTwinOnHold(twinId);

        address from = _ownerOf(twinId);
        uint64 timestamp = uint64(block.timestamp);
        delete _offers[twinId];
        _transfer(from, to, twinId);
        emit HandoffAccepted(twinId, from, to, timestamp, location, conditionHash);

        if (t.bound && !t.delivered) {
            address escrow_ = _escrow;
            uint256 orderId = t.orderId;
            if (to == t.consignee) {
                t.delivered = true;
                emit TwinDelivered(twinId, orderId, to, timestamp);
            }
            IEscrowHooks(escrow_).onHandoff(orderId, from, to, timestamp);
        }
    }

    /// @inheritdoc ICustodyTwin
    function split(uint256 twinId, uint64[] calldata quantities)
        external
        nonReentrant
        returns (uint256[] memory childIds)
    {
        uint256 parts = quantities.length;
        if (parts < 2 || parts > MAX_PARTS) revert CustodyTwinInvalidPartCount(parts);
        Twin storage parent = _reshapeable(twinId);
        uint256 sum = 0;
        for (uint256 i; i < parts; ++i) {
            if (quantities[i] == 0) revert CustodyTwinZeroQuantity();
            sum += quantities[i];
        }
        if (sum != parent.quantity) revert CustodyTwinQuantityMismatch(twinId, parent.quantity, sum);

        _retire(twinId, parent);
        bytes32 productType = parent.productType;
        childIds = new uint256[](parts);
        uint256[] storage children = _children[twinId];
        uint256 lastId = _nextTwinId - 1;
        for (uint256 i; i < parts; ++i) {
            uint256 childId = ++lastId;
            _create(childId, msg.sender, quantities[i], productType);
            _parents[childId].push(twinId);
            children.push(childId);
            childIds[i] = childId;
        }
        _nextTwinId = lastId + 1;
        emit TwinSplit(twinId, msg.sender, childIds, quantities, uint64(block.timestamp));
    }

    /// @inheritdoc ICustodyTwin
    function merge(uint256[] calldata twinIds) external nonReentrant returns (uint256 childId) {
        uint256 parts = twinIds.length;
        if (parts < 2 || parts > MAX_PARTS) revert CustodyTwinInvalidPartCount(parts);
        bytes32 productType = _twins[twinIds[0]].productType;
        uint256 sum = 0;
        // Retiring inside the loop makes a repeated id fail as retired, so duplicates cannot inflate the sum.
        for (uint256 i; i < parts; ++i) {
            uint256 parentId = twinIds[i];
            Twin storage parent = _reshapeable(parentId);
            if (parent.productType != productType) {
                revert CustodyTwinProductMismatch(parentId, parent.productType, productType);
            }
            sum += parent.quantity;
            _retire(parentId, parent);
        }
        if (sum > type(uint64).max) revert CustodyTwinQuantityOverflow(sum);

        childId = _nextTwinId++;
        _create(childId, msg.sender, uint64(sum), productType);
        _parents[childId] = twinIds;
        for (uint256 i; i < parts; ++i) {
            _children[twinIds[i]].push(childId);
        }
        emit TwinsMerged(childId, msg.sender, twinIds, uint64(sum), uint64(block.timestamp));
    }

    // ---------------------------------------------------------------- DISABLED ERC-721 PATHS

    /// @notice Always reverts: custody moves only by `offerHandoff` + `acceptHandoff`.
    function transferFrom(address, address, uint256) public pure override {
        revert CustodyTwinTransferDisabled();
    }

    /// @notice Always reverts: custody moves only by `offerHandoff` + `acceptHandoff`.
    function safeTransferFrom(address, address, uint256, bytes memory) public pure override {
        revert CustodyTwinTransferDisabled();
    }

    /// @notice Always reverts: nobody but the holder may start a handoff.
    function approve(address, uint256) public pure override {
        revert CustodyTwinTransferDisabled();
    }

    /// @notice Always reverts: nobody but the holder may start a handoff.
    function setApprovalForAll(address, bool) public pure override {
        revert CustodyTwinTransferDisabled();
    }

    // ---------------------------------------------------------------- VIEWS

    /// @inheritdoc ICustodyHooks
    function twinOfOrder(uint256 orderId) external view returns (uint256) {
        return _twinOfOrder[orderId];
    }

    /// @inheritdoc ICustodyTwin
    function twin(uint256 twinId) external view returns (Twin memory) {
        _requireKnown(twinId);
        return _twins[twinId];
    }

    /// @inheritdoc ICustodyTwin
    function holderOf(uint256 twinId) external view returns (address) {
        _live(twinId);
        return _ownerOf(twinId);
    }

    /// @inheritdoc ICustodyTwin
    function offerOf(uint256 twinId) external view returns (Offer memory) {
        return _offers[twinId];
    }

    /// @inheritdoc ICustodyTwin
    function parentsOf(uint256 twinId) external view returns (uint256[] memory) {
        return _parents[twinId];
    }

    /// @inheritdoc ICustodyTwin
    function childrenOf(uint256 twinId) external view returns (uint256[] memory) {
        return _children[twinId];
    }

    /// @inheritdoc ICustodyTwin
    function escrow() external view returns (address) {
        return _escrow;
    }

    /// @inheritdoc ICustodyTwin
    function twinCount() external view returns (uint256) {
        return _nextTwinId - 1;
    }

    /// @inheritdoc ERC721
    function supportsInterface(bytes4 interfaceId) public view override(ERC721, AccessControl) returns (bool) {
        return super.supportsInterface(interfaceId);
    }

    // ---------------------------------------------------------------- INTERNALS

    /// @dev Every twin ever created has a non-zero quantity (mint, split and merge refuse zero) and keeps it when
    ///      retired, so a zero quantity means the id was never created. Reading the record (the slot `_live`
    ///      reads next anyway) instead of the id counter saves a cold read on every handoff.
    function _requireKnown(uint256 twinId) private view {
        if (_twins[twinId].quantity == 0) revert CustodyTwinUnknown(twinId);
    }

    function _live(uint256 twinId) private view returns (Twin storage t) {
        _requireKnown(twinId);
        t = _twins[twinId];
        if (t.retired) revert CustodyTwinRetired(twinId);
    }

    function _requireHolder(uint256 twinId) private view returns (address holder) {
        holder = _ownerOf(twinId);
        if (holder != msg.sender) revert CustodyTwinNotHolder(twinId, msg.sender, holder);
    }

    /// @dev A twin may be split or merged only by its holder, when nothing else can claim it: no hold, no
    ///      pending offer, and no undelivered order whose escrow still tracks this exact lot.
    function _reshapeable(uint256 twinId) private view returns (Twin storage t) {
        t = _live(twinId);
        _requireHolder(twinId);
        if (t.held) revert CustodyTwinOnHold(twinId);
        address pending = _offers[twinId].to;
        if (pending != address(0)) revert CustodyTwinOfferPending(twinId, pending);
        if (t.bound && !t.delivered) revert CustodyTwinInActiveOrder(twinId, t.orderId);
    }

    function _retire(uint256 twinId, Twin storage t) private {
        t.retired = true;
        _burn(twinId);
    }

    /// @dev Records and mints a split or merge result; the caller has reserved `twinId` in `_nextTwinId`.
    function _create(uint256 twinId, address holder, uint64 quantity, bytes32 productType) private {
        _twins[twinId] = Twin({
            orderId: 0,
            productType: productType,
            consignee: address(0),
            quantity: quantity,
            bound: false,
            delivered: false,
            held: false,
            retired: false
        });
        _mint(holder, twinId);
    }
}
