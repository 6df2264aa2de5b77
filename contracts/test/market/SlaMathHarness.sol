// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {SlaMath} from "../../libraries/SlaMath.sol";

/// @title SlaMathHarness
/// @notice Exposes the internal SlaMath functions to the tests.
contract SlaMathHarness {
    /// @notice SlaMath.hoursLate.
    function hoursLate(uint64 deadline, uint64 deliveredAt) external pure returns (uint256) {
        return SlaMath.hoursLate(deadline, deliveredAt);
    }

    /// @notice SlaMath.latenessPenalty.
    function latenessPenalty(uint64 deadline, uint64 deliveredAt, uint96 perHour) external pure returns (uint256) {
        return SlaMath.latenessPenalty(deadline, deliveredAt, perHour);
    }

    /// @notice SlaMath.excursionPenalty.
    function excursionPenalty(uint96 perExcursion, uint8 severity) external pure returns (uint256) {
        return SlaMath.excursionPenalty(perExcursion, severity);
    }

    /// @notice SlaMath.clamp.
    function clamp(uint256 penalty, uint96 cap, uint96 chargedSoFar, uint96 share) external pure returns (uint96) {
        return SlaMath.clamp(penalty, cap, chargedSoFar, share);
    }
}
