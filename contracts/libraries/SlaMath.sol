// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title SlaMath
/// @notice Pure penalty arithmetic of the ASC service-level agreements. All amounts are token base units.
/// @dev Intermediate products are uint256: uint96 x uint8 and uint96 x hours cannot overflow before clamping.
library SlaMath {
    uint256 internal constant HOUR = 3600;

    /// @notice Started hours between `deadline` and `deliveredAt` (0 when on time); one second late is one hour.
    function hoursLate(uint64 deadline, uint64 deliveredAt) internal pure returns (uint256) {
        if (deliveredAt <= deadline) return 0;
        unchecked {
            return (uint256(deliveredAt - deadline) + HOUR - 1) / HOUR;
        }
    }

    /// @notice Unclamped lateness penalty: started hours late x `perHour`.
    function latenessPenalty(uint64 deadline, uint64 deliveredAt, uint96 perHour) internal pure returns (uint256) {
        return hoursLate(deadline, deliveredAt) * perHour;
    }

    /// @notice Unclamped verdict penalty: `perExcursion` scaled linearly by `severity` (0 charges nothing).
    function excursionPenalty(uint96 perExcursion, uint8 severity) internal pure returns (uint256) {
        return uint256(perExcursion) * severity;
    }

    /// @notice Clamps `penalty` to what the cap still allows and to what the liable party still has.
    /// @param penalty Unclamped penalty.
    /// @param cap The order's penalty cap.
    /// @param chargedSoFar Penalties already charged on the order (never above `cap`).
    /// @param share What is left of the liable party's share.
    function clamp(uint256 penalty, uint96 cap, uint96 chargedSoFar, uint96 share) internal pure returns (uint96) {
        uint256 room = chargedSoFar >= cap ? 0 : cap - chargedSoFar;
        if (penalty > room) penalty = room;
        if (penalty > share) penalty = share;
        // Both bounds are uint96, so the narrowing below is exact.
        return uint96(penalty);
    }
}
