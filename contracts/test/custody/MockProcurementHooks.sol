// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IProcurementHooks} from "../../../interfaces/hooks/IProcurementHooks.sol";

/// @title MockProcurementHooks (tests only)
/// @notice Stands in for Procurement in verdict unit tests: records reroute requests, hands out cfp ids.
contract MockProcurementHooks is IProcurementHooks {
    /// @notice Emitted for every `openReroute` call.
    /// @param orderId The order.
    /// @param verdictId The verdict.
    /// @param cfpId The cfp id handed out.
    /// @param caller The caller.
    event RerouteOpened(uint256 indexed orderId, bytes32 indexed verdictId, uint256 cfpId, address caller);

    uint256 public lastCfpId = 1000;

    /// @inheritdoc IProcurementHooks
    function openReroute(uint256 orderId, bytes32 verdictId) external returns (uint256 cfpId) {
        cfpId = ++lastCfpId;
        emit RerouteOpened(orderId, verdictId, cfpId, msg.sender);
    }
}
