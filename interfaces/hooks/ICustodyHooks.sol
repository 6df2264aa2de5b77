// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title CustodyTwin entry points used by the other ASC contracts
interface ICustodyHooks {
    /// @notice Mints the digital twin of the goods of order `orderId`, held by `holder` (the seller).
    /// @dev Caller: Procurement (CustodyTwin's immutable MINTER), when a GOODS call for proposals is awarded.
    /// @param consignee The buyer: the holder whose acceptance of custody confirms delivery.
    /// @return twinId The new token id.
    function mintTwin(uint256 orderId, address holder, address consignee, uint64 quantity, bytes32 productType)
        external
        returns (uint256 twinId);

    /// @notice Puts a twin on hold (no handoff possible) or releases it.
    /// @dev Caller: VerdictHub (CustodyTwin's immutable HOLD_KEEPER) for accepted HOLD verdicts, or the
    ///      custody admin to release.
    function setHold(uint256 twinId, bool held, bytes32 verdictId) external;

    /// @notice The twin minted for `orderId` (0 when none).
    function twinOfOrder(uint256 orderId) external view returns (uint256);
}
