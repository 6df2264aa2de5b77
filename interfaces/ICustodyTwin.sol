// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ICustodyHooks} from "./hooks/ICustodyHooks.sol";

/// @title Custody twins: ERC-721 digital twins of lots, moved only by two-step handoffs
/// @notice Pitfalls, stated up front:
///         - Plain ERC-721 transfers and approvals always revert; custody moves only by
///           `offerHandoff` (holder) then `acceptHandoff` (receiver).
///         - A twin minted for an order is "bound" to it until the consignee accepts custody ("delivered").
///           Only handoffs of a bound, undelivered twin are reported to Escrow (`onHandoff`); the delivering
///           handoff is the last one reported.
///         - Split and merge need live twins that are not held, have no pending offer and are not bound to an
///           undelivered order. Their parents are retired: burned as ERC-721 tokens (`ownerOf` reverts) while
///           their record, parents and children stay readable for recalls.
interface ICustodyTwin is ICustodyHooks {
    // ---------------------------------------------------------------- TYPES

    /// @notice Everything stored about a twin.
    /// @param orderId Order the twin was minted for (meaningful only when `bound`).
    /// @param productType Product identifier (e.g. keccak of a GTIN); children and merges inherit it.
    /// @param consignee Buyer of the order; their acceptance of custody marks the twin delivered.
    /// @param quantity Units in the lot (product-specific unit, e.g. cases).
    /// @param bound True when minted for an order (`mintTwin`), false for split/merge results.
    /// @param delivered True once the consignee of a bound twin accepted custody.
    /// @param held True while a HOLD verdict blocks handoffs, splits and merges.
    /// @param retired True once split or merged away (token burned).
    struct Twin {
        uint256 orderId;
        bytes32 productType;
        address consignee;
        uint64 quantity;
        bool bound;
        bool delivered;
        bool held;
        bool retired;
    }

    /// @notice A pending handoff offer.
    /// @param to The only account that may accept it.
    /// @param offeredAt Time of the offer (unix seconds).
    struct Offer {
        address to;
        uint64 offeredAt;
    }

    // ---------------------------------------------------------------- ERRORS

    /// @notice Thrown when a plain ERC-721 transfer or approval is attempted.
    error CustodyTwinTransferDisabled();
    /// @notice Thrown when an address argument that must be set is zero.
    error CustodyTwinZeroAddress();
    /// @notice Thrown when the holder and the consignee of a new twin, or the two sides of a handoff, coincide.
    /// @param account The account given twice.
    error CustodyTwinSameParty(address account);
    /// @notice Thrown when a quantity is zero.
    error CustodyTwinZeroQuantity();
    /// @notice Thrown when a twin was already minted for `orderId`.
    /// @param orderId The order.
    /// @param twinId Its existing twin.
    error CustodyTwinOrderAlreadyMinted(uint256 orderId, uint256 twinId);
    /// @notice Thrown when `twinId` was never minted.
    /// @param twinId The twin.
    error CustodyTwinUnknown(uint256 twinId);
    /// @notice Thrown when `twinId` was split or merged away.
    /// @param twinId The twin.
    error CustodyTwinRetired(uint256 twinId);
    /// @notice Thrown when the caller does not hold `twinId`.
    /// @param twinId The twin.
    /// @param caller The caller.
    /// @param holder The holder.
    error CustodyTwinNotHolder(uint256 twinId, address caller, address holder);
    /// @notice Thrown when `twinId` is on hold.
    /// @param twinId The twin.
    error CustodyTwinOnHold(uint256 twinId);
    /// @notice Thrown when `twinId` already has a pending offer.
    /// @param twinId The twin.
    /// @param to Receiver of the pending offer.
    error CustodyTwinOfferPending(uint256 twinId, address to);
    /// @notice Thrown when `twinId` has no pending offer.
    /// @param twinId The twin.
    error CustodyTwinNoOffer(uint256 twinId);
    /// @notice Thrown when the caller is not the receiver named in the offer.
    /// @param twinId The twin.
    /// @param caller The caller.
    /// @param to The receiver named in the offer.
    error CustodyTwinNotOfferee(uint256 twinId, address caller, address to);
    /// @notice Thrown when a split or merge touches a twin bound to an undelivered order.
    /// @param twinId The twin.
    /// @param orderId Its order.
    error CustodyTwinInActiveOrder(uint256 twinId, uint256 orderId);
    /// @notice Thrown when a split or merge has fewer than 2 or more than `MAX_PARTS` parts.
    /// @param parts The number of parts given.
    error CustodyTwinInvalidPartCount(uint256 parts);
    /// @notice Thrown when the quantities of a split do not add up to the parent's quantity.
    /// @param twinId The parent.
    /// @param quantity The parent's quantity.
    /// @param sum The sum of the requested parts.
    error CustodyTwinQuantityMismatch(uint256 twinId, uint64 quantity, uint256 sum);
    /// @notice Thrown when merged quantities would exceed the uint64 range.
    /// @param sum The sum of the merged quantities.
    error CustodyTwinQuantityOverflow(uint256 sum);
    /// @notice Thrown when twins of different product types are merged.
    /// @param twinId The twin that differs from the first one.
    /// @param productType Its product type.
    /// @param expected The first twin's product type.
    error CustodyTwinProductMismatch(uint256 twinId, bytes32 productType, bytes32 expected);
    /// @notice Thrown when anyone but the MINTER (Procurement) mints a twin.
    /// @param caller The caller.
    error CustodyTwinUnauthorizedMinter(address caller);
    /// @notice Thrown when anyone but the HOLD_KEEPER (VerdictHub) puts a twin on hold, or anyone but the
    ///         HOLD_KEEPER or the admin releases it.
    /// @param caller The caller.
    error CustodyTwinUnauthorizedHold(address caller);

    // ---------------------------------------------------------------- EVENTS

    /// @notice A twin was minted for an order.
    /// @param twinId The new twin.
    /// @param orderId Its order.
    /// @param holder First holder (the seller).
    /// @param consignee The buyer.
    /// @param quantity Units in the lot.
    /// @param productType Product identifier.
    /// @param timestamp Block time (unix seconds).
    event TwinMinted(
        uint256 indexed twinId,
        uint256 indexed orderId,
        address indexed holder,
        address consignee,
        uint64 quantity,
        bytes32 productType,
        uint64 timestamp
    );

    /// @notice The holder offered custody of a twin.
    /// @param twinId The twin.
    /// @param from The holder.
    /// @param to The receiver who may accept.
    /// @param timestamp Block time (unix seconds).
    /// @param location Where the holder hands over (e.g. a geohash).
    /// @param conditionHash Hash of the holder's condition report (e.g. evidence CID digest).
    event HandoffOffered(
        uint256 indexed twinId, address indexed from, address indexed to, uint64 timestamp, bytes32 location, bytes32 conditionHash
    );

    /// @notice The holder withdrew a pending offer.
    /// @param twinId The twin.
    /// @param from The holder.
    /// @param to The receiver of the withdrawn offer.
    /// @param timestamp Block time (unix seconds).
    event HandoffCancelled(uint256 indexed twinId, address indexed from, address indexed to, uint64 timestamp);

    /// @notice The receiver accepted custody; `to` is now the holder.
    /// @param twinId The twin.
    /// @param from The previous holder.
    /// @param to The new holder.
    /// @param timestamp Block time (unix seconds).
    /// @param location Where the receiver took over.
    /// @param conditionHash Hash of the receiver's condition report.
    event HandoffAccepted(
        uint256 indexed twinId, address indexed from, address indexed to, uint64 timestamp, bytes32 location, bytes32 conditionHash
    );

    /// @notice The consignee accepted custody of a bound twin: the order is delivered.
    /// @param twinId The twin.
    /// @param orderId Its order.
    /// @param consignee The buyer.
    /// @param timestamp Block time (unix seconds).
    event TwinDelivered(uint256 indexed twinId, uint256 indexed orderId, address indexed consignee, uint64 timestamp);

    /// @notice A twin was put on hold or released.
    /// @param twinId The twin.
    /// @param held True for hold, false for release.
    /// @param verdictId The verdict behind the change (0 for a manual release).
    /// @param by The caller (VerdictHub or an admin).
    /// @param timestamp Block time (unix seconds).
    event HoldSet(uint256 indexed twinId, bool held, bytes32 indexed verdictId, address indexed by, uint64 timestamp);

    /// @notice A twin was split; the parent is retired.
    /// @param parentId The retired parent.
    /// @param holder Holder of the parent and of every child.
    /// @param childIds The new twins, in the order of `quantities`.
    /// @param quantities Quantity of each child (they sum to the parent's quantity).
    /// @param timestamp Block time (unix seconds).
    event TwinSplit(
        uint256 indexed parentId, address indexed holder, uint256[] childIds, uint64[] quantities, uint64 timestamp
    );

    /// @notice Twins were merged into a new one; the parents are retired.
    /// @param childId The new twin.
    /// @param holder Holder of every parent and of the child.
    /// @param parentIds The retired parents.
    /// @param quantity The child's quantity (the sum of the parents').
    /// @param timestamp Block time (unix seconds).
    event TwinsMerged(uint256 indexed childId, address indexed holder, uint256[] parentIds, uint64 quantity, uint64 timestamp);

    /// @notice The Escrow that receives handoff reports was configured (once, at construction).
    /// @param escrow Its address.
    event EscrowSet(address indexed escrow);

    // ---------------------------------------------------------------- CUSTODY

    /// @notice Offers custody of `twinId` to `to`.
    /// @dev Caller: the holder. The twin must be live, not held and without a pending offer.
    /// @param location Where the holder hands over (e.g. a geohash, bytes32).
    /// @param conditionHash Hash of the holder's condition report.
    function offerHandoff(uint256 twinId, address to, bytes32 location, bytes32 conditionHash) external;

    /// @notice Accepts the pending offer of `twinId`; the caller becomes the holder.
    /// @dev Caller: the receiver named in the offer. Reports bound, undelivered twins to Escrow.
    /// @param location Where the receiver takes over.
    /// @param conditionHash Hash of the receiver's condition report.
    function acceptHandoff(uint256 twinId, bytes32 location, bytes32 conditionHash) external;

    /// @notice Withdraws the pending offer of `twinId`.
    /// @dev Caller: the holder.
    function cancelOffer(uint256 twinId) external;

    /// @notice Splits `twinId` into new twins of the given quantities (summing to its quantity).
    /// @dev Caller: the holder. Retires (burns) the parent.
    /// @return childIds The new twins, in the order of `quantities`.
    function split(uint256 twinId, uint64[] calldata quantities) external returns (uint256[] memory childIds);

    /// @notice Merges twins of one product type, all held by the caller, into a new twin.
    /// @dev Caller: the holder of every twin. Retires (burns) the parents.
    /// @return childId The new twin.
    function merge(uint256[] calldata twinIds) external returns (uint256 childId);

    // ---------------------------------------------------------------- VIEWS

    /// @notice The record of `twinId` (reverts for unknown twins).
    function twin(uint256 twinId) external view returns (Twin memory);

    /// @notice The current holder of a live twin (reverts for unknown or retired twins).
    function holderOf(uint256 twinId) external view returns (address);

    /// @notice The pending offer of `twinId` (`to == address(0)` when none).
    function offerOf(uint256 twinId) external view returns (Offer memory);

    /// @notice Twins `twinId` came from: one for a split child, several for a merge, none for a minted twin.
    function parentsOf(uint256 twinId) external view returns (uint256[] memory);

    /// @notice Twins made from `twinId`: the split children, or the merge result.
    function childrenOf(uint256 twinId) external view returns (uint256[] memory);

    /// @notice The Escrow that receives handoff reports (zero until configured).
    function escrow() external view returns (address);

    /// @notice Number of twins minted so far, including split and merge results; ids run from 1 to this.
    function twinCount() external view returns (uint256);
}
