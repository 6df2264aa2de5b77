// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Procurement entry points used by the other ASC contracts
interface IProcurementHooks {
    /// @notice Opens a DELIVERY call for proposals for the remaining leg of `orderId`, cloning the buyer and
    ///         SLA terms of the order's last delivery call for proposals, with fresh bid deadlines.
    /// @dev Caller: VerdictHub (REROUTE_ROLE), for accepted REROUTE verdicts.
    /// @return cfpId The new call for proposals.
    function openReroute(uint256 orderId, bytes32 verdictId) external returns (uint256 cfpId);
}
