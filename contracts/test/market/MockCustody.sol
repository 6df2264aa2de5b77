// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ICustodyHooks} from "../../../interfaces/hooks/ICustodyHooks.sol";

/// @title MockCustody
/// @notice Test double of CustodyTwin's hooks for the market unit tests: records every call in events.
contract MockCustody is ICustodyHooks {
    /// @notice Emitted for every mintTwin call.
    /// @param twinId The id handed back.
    /// @param orderId The order.
    /// @param holder The first holder.
    /// @param consignee The buyer.
    /// @param quantity Units.
    /// @param productType Product family.
    /// @param caller msg.sender.
    event TwinMinted(
        uint256 twinId,
        uint256 orderId,
        address holder,
        address consignee,
        uint64 quantity,
        bytes32 productType,
        address caller
    );
    /// @notice Emitted for every setHold call.
    /// @param twinId The twin.
    /// @param held Hold flag.
    /// @param verdictId The verdict.
    event HoldSet(uint256 twinId, bool held, bytes32 verdictId);

    uint256 public twinCount;
    mapping(uint256 orderId => uint256 twinId) public twinOfOrder;

    /// @notice Records the mint and returns sequential ids starting at 1.
    function mintTwin(uint256 orderId, address holder, address consignee, uint64 quantity, bytes32 productType)
        external
        returns (uint256 twinId)
    {
        twinId = ++twinCount;
        twinOfOrder[orderId] = twinId;
        emit TwinMinted(twinId, orderId, holder, consignee, quantity, productType, msg.sender);
    }

    /// @notice Records the hold.
    function setHold(uint256 twinId, bool held, bytes32 verdictId) external {
        emit HoldSet(twinId, held, verdictId);
    }
}
