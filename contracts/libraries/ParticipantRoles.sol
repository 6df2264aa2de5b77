// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title ParticipantRoles
/// @notice Role bits of the ParticipantRegistry bitmask, shared by the contracts that check them.
library ParticipantRoles {
    uint8 internal constant SUPPLIER = 1;
    uint8 internal constant WHOLESALER = 2;
    uint8 internal constant RETAILER = 4;
    uint8 internal constant LOGISTICS = 8;
    uint8 internal constant CARRIER = 16;
    uint8 internal constant ORACLE = 32;
    uint8 internal constant AUDITOR = 64;
    uint8 internal constant ALL = 127;
}
