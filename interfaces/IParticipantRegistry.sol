// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Registry of the organisations taking part in the ASC supply chain
/// @notice Organisations register themselves with a roles bitmask and a service description. Discovery is by
///         events only: the registry keeps on-chain just what other contracts check (roles, suspension).
interface IParticipantRegistry {
    // ------------------------------------------------------------------ TYPES
    /// @notice What an organisation offers. Stored in events only.
    /// @param productType Product family served (e.g. keccak256 of a product code).
    /// @param region Service region (e.g. a geohash prefix or place id).
    /// @param capacity Units per delivery window the organisation can take on.
    /// @param metadataURI Off-chain description (e.g. an ipfs:// URI).
    struct ServiceDescription {
        bytes32 productType;
        bytes32 region;
        uint64 capacity;
        string metadataURI;
    }

    /// @notice On-chain state of a participant.
    /// @param roles Roles bitmask; 0 when not registered.
    /// @param suspended True while the admin suspends the participant.
    struct Participant {
        uint8 roles;
        bool suspended;
    }

    // ------------------------------------------------------------------ CUSTOM ERRORS
    /// @notice Thrown when `account` registers while already registered.
    error ParticipantRegistryAlreadyRegistered(address account);
    /// @notice Thrown when `account` must be registered and is not.
    error ParticipantRegistryNotRegistered(address account);
    /// @notice Thrown when `roles` is empty or has bits outside the known roles.
    error ParticipantRegistryInvalidRoles(uint256 roles);
    /// @notice Thrown when suspended `account` tries to change its registration, or is suspended twice.
    error ParticipantRegistrySuspended(address account);
    /// @notice Thrown when the admin unsuspends `account` that is not suspended.
    error ParticipantRegistryNotSuspended(address account);

    // ------------------------------------------------------------------ EVENTS
    /// @notice Emitted when an organisation registers.
    /// @param account The organisation's address.
    /// @param roles Roles bitmask.
    /// @param productType Product family served.
    /// @param region Service region.
    /// @param capacity Units per delivery window.
    /// @param metadataURI Off-chain description.
    event ParticipantRegistered(
        address indexed account,
        uint8 roles,
        bytes32 indexed productType,
        bytes32 indexed region,
        uint64 capacity,
        string metadataURI
    );
    /// @notice Emitted when an organisation replaces its roles and service description.
    /// @param account The organisation's address.
    /// @param roles New roles bitmask.
    /// @param productType Product family served.
    /// @param region Service region.
    /// @param capacity Units per delivery window.
    /// @param metadataURI Off-chain description.
    event ParticipantUpdated(
        address indexed account,
        uint8 roles,
        bytes32 indexed productType,
        bytes32 indexed region,
        uint64 capacity,
        string metadataURI
    );
    /// @notice Emitted when an organisation leaves the registry.
    /// @param account The organisation's address.
    event ParticipantUnregistered(address indexed account);
    /// @notice Emitted when the admin suspends a participant.
    /// @param account The suspended participant.
    /// @param admin The admin who suspended it.
    /// @param reason Short reason code (e.g. a hash of an off-chain report).
    event ParticipantSuspended(address indexed account, address indexed admin, bytes32 reason);
    /// @notice Emitted when the admin lifts a suspension.
    /// @param account The participant.
    /// @param admin The admin who lifted the suspension.
    event ParticipantUnsuspended(address indexed account, address indexed admin);

    // ------------------------------------------------------------------ FUNCTIONS
    /// @notice Registers the caller with `roles` and `service`.
    /// @param roles Roles bitmask (SUPPLIER=1 ... AUDITOR=64), not empty.
    /// @param service Service description, emitted only.
    function register(uint8 roles, ServiceDescription calldata service) external;

    /// @notice Replaces the caller's roles and service description.
    /// @param roles New roles bitmask, not empty.
    /// @param service New service description, emitted only.
    function update(uint8 roles, ServiceDescription calldata service) external;

    /// @notice Removes the caller from the registry. A suspended participant cannot leave (it would shed the
    ///         suspension by registering again).
    function unregister() external;

    /// @notice Suspends `account`: `hasRoles` is false for it until unsuspended. Caller: DEFAULT_ADMIN_ROLE.
    /// @param account A registered participant.
    /// @param reason Short reason code, emitted.
    function suspend(address account, bytes32 reason) external;

    /// @notice Lifts the suspension of `account`. Caller: DEFAULT_ADMIN_ROLE.
    /// @param account A suspended participant.
    function unsuspend(address account) external;

    /// @notice True when `account` is registered, not suspended and holds every role bit in `roles`
    ///         (`roles == 0` asks only "registered and active").
    function hasRoles(address account, uint256 roles) external view returns (bool);

    /// @notice The stored state of `account`.
    function participant(address account) external view returns (Participant memory);
}
