// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IEscrow} from "../../../interfaces/IEscrow.sol";
import {ITokenReceiverHook} from "./MaliciousToken.sol";

/// @title ReentrantReceiver
/// @notice An Escrow party that, when paid by MaliciousToken, calls `withdraw` again (double-withdraw attack).
contract ReentrantReceiver is ITokenReceiverHook {
    IEscrow public immutable escrow;
    uint256 public reentries;

    /// @param escrow_ The Escrow to attack.
    constructor(IEscrow escrow_) {
        escrow = escrow_;
    }

    /// @notice Withdraws this contract's credit from Escrow.
    function withdraw() external {
        escrow.withdraw();
    }

    /// @notice Re-enters Escrow.withdraw once; its revert bubbles up.
    function onTokenReceived(address, uint256) external {
        if (reentries == 0) {
            ++reentries;
            escrow.withdraw();
        }
    }
}
