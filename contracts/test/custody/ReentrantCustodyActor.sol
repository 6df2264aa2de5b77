// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC721Receiver} from "@openzeppelin/contracts/token/ERC721/IERC721Receiver.sol";

import {ICustodyTwin} from "../../../interfaces/ICustodyTwin.sol";

/// @title ReentrantCustodyActor (tests only)
/// @notice A hostile participant that is at once an ERC-721 receiver, a custody party and the Escrow of a
///         CustodyTwin. From the Escrow callback (`onHandoff`) and from `onERC721Received` it tries to re-enter
///         CustodyTwin (offer the twin it just received onwards); the tests expect the re-entry to be refused.
contract ReentrantCustodyActor is IERC721Receiver {
    ICustodyTwin public custody;
    address public onwardReceiver;
    uint256 public receiverCalls;

    /// @notice Sets the CustodyTwin to attack and the account it tries to offer twins to when re-entering.
    function configure(ICustodyTwin custody_, address onwardReceiver_) external {
        custody = custody_;
        onwardReceiver = onwardReceiver_;
    }

    /// @notice Accepts a pending handoff as a custody party.
    function accept(uint256 twinId) external {
        custody.acceptHandoff(twinId, bytes32("reentrant"), bytes32(0));
    }

    /// @notice Offers a held twin as a custody party.
    function offer(uint256 twinId, address to) external {
        custody.offerHandoff(twinId, to, bytes32("reentrant"), bytes32(0));
    }

    /// @notice Escrow callback: re-enters CustodyTwin while the handoff is still executing.
    function onHandoff(uint256 orderId, address, address, uint64) external {
        uint256 twinId = custody.twinOfOrder(orderId);
        custody.offerHandoff(twinId, onwardReceiver, bytes32("reentered"), bytes32(0));
    }

    /// @notice ERC-721 receiver hook: re-enters too (CustodyTwin never calls it; the tests check that).
    function onERC721Received(address, address, uint256 tokenId, bytes calldata) external returns (bytes4) {
        ++receiverCalls;
        custody.offerHandoff(tokenId, onwardReceiver, bytes32("reentered"), bytes32(0));
        return IERC721Receiver.onERC721Received.selector;
    }
}
