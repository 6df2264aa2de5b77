// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

import {IParticipantRegistry} from "../interfaces/IParticipantRegistry.sol";
import {ParticipantRoles} from "./libraries/ParticipantRoles.sol";

/// @title ParticipantRegistry
/// @notice Self-service registry of ASC organisations. One storage slot per participant; service descriptions
///         live in events (indexers and agents discover partners from logs, contracts never read them).
contract ParticipantRegistry is IParticipantRegistry, AccessControl {
    // ------------------------------------------------------------------ CONSTANTS
    uint8 public constant SUPPLIER = ParticipantRoles.SUPPLIER;
    uint8 public constant WHOLESALER = ParticipantRoles.WHOLESALER;
    uint8 public constant RETAILER = ParticipantRoles.RETAILER;
    uint8 public constant LOGISTICS = ParticipantRoles.LOGISTICS;
    uint8 public constant CARRIER = ParticipantRoles.CARRIER;
    uint8 public constant ORACLE = ParticipantRoles.ORACLE;
    uint8 public constant AUDITOR = ParticipantRoles.AUDITOR;
    uint8 public constant ALL_ROLES = ParticipantRoles.ALL;

    // ------------------------------------------------------------------ STORAGE
    mapping(address account => Participant) private _participants;

    /// @param admin Receives DEFAULT_ADMIN_ROLE (suspensions).
    constructor(address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ------------------------------------------------------------------ SELF-SERVICE
    /// @inheritdoc IParticipantRegistry
    function register(uint8 roles, ServiceDescription calldata service) external {
        _checkRoles(roles);
        Participant storage p = _participants[msg.sender];
        if (p.roles != 0) revert ParticipantRegistryAlreadyRegistered(msg.sender);
        // A suspended account that left keeps its flag (unregister refuses it), so this is a fresh account.
        p.roles = roles;
        emit ParticipantRegistered(
            msg.sender, roles, service.productType, service.region, service.capacity, service.metadataURI
        );
    }

    /// @inheritdoc IParticipantRegistry
    function update(uint8 roles, ServiceDescription calldata service) external {
        _checkRoles(roles);
        Participant storage p = _activeParticipant(msg.sender);
        p.roles = roles;
        emit ParticipantUpdated(
            msg.sender, roles, service.productType, service.region, service.capacity, service.metadataURI
        );
    }

    /// @inheritdoc IParticipantRegistry
    function unregister() external {
        _activeParticipant(msg.sender);
        delete _participants[msg.sender];
        emit ParticipantUnregistered(msg.sender);
    }

    // ------------------------------------------------------------------ ADMIN
    /// @inheritdoc IParticipantRegistry
    function suspend(address account, bytes32 reason) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _activeParticipant(account).suspended = true;
        emit ParticipantSuspended(account, msg.sender, reason);
    }

    /// @inheritdoc IParticipantRegistry
    function unsuspend(address account) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Participant storage p = _participants[account];
        if (!p.suspended) revert ParticipantRegistryNotSuspended(account);
        p.suspended = false;
        emit ParticipantUnsuspended(account, msg.sender);
    }

    // ------------------------------------------------------------------ VIEWS
    /// @inheritdoc IParticipantRegistry
    function hasRoles(address account, uint256 roles) external view returns (bool) {
        Participant memory p = _participants[account];
        return p.roles != 0 && !p.suspended && (uint256(p.roles) & roles) == roles;
    }

    /// @inheritdoc IParticipantRegistry
    function participant(address account) external view returns (Participant memory) {
        return _participants[account];
    }

    // ------------------------------------------------------------------ INTERNAL
    function _checkRoles(uint8 roles) private pure {
        if (roles == 0 || roles & ~ALL_ROLES != 0) revert ParticipantRegistryInvalidRoles(roles);
    }

    function _activeParticipant(address account) private view returns (Participant storage p) {
        p = _participants[account];
        if (p.roles == 0) revert ParticipantRegistryNotRegistered(account);
        if (p.suspended) revert ParticipantRegistrySuspended(account);
    }
}
