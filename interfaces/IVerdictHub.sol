// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title VerdictHub: k-of-n EIP-712 oracle verdicts and their on-chain actions
/// @notice Pitfalls, stated up front:
///         - A verdict needs exactly `threshold` signatures, each 64 bytes in EIP-2098 compact form (r, vs),
///           concatenated in any order (in oracle-set order they are cheapest to check). Extra signatures are
///           refused rather than ignored.
///         - `epoch` in the verdict must be the current epoch: rotating the oracle set retires every
///           signature made for the previous epoch, even by members who stay.
///         - One verdict per (orderId, kind, windowStart) ever, whatever its other fields.
///         - The schema for signers is published in interfaces/eip712/_Verdict.json.
interface IVerdictHub {
    // ---------------------------------------------------------------- TYPES

    /// @notice An oracle verdict, signed as the EIP-712 struct
    ///         `Verdict(uint256 orderId,uint256 twinId,uint8 kind,uint8 severity,uint8 action,uint64 windowStart,uint64 windowEnd,bytes32 evidenceHash,uint32 epoch)`.
    /// @param orderId The order (Escrow id) the verdict is about.
    /// @param twinId The custody twin affected (used by HOLD; informative otherwise).
    /// @param kind 1 temperature, 2 humidity, 3 shock, 4 route deviation, 5 delay.
    /// @param severity Penalty multiplier (0 = no penalty; PENALTY verdicts need >= 1).
    /// @param action 1 penalty, 2 hold, 3 reroute (hold and reroute also apply the penalty when severity > 0).
    /// @param windowStart Start of the observed window (unix seconds).
    /// @param windowEnd End of the observed window (unix seconds), not after the submission block.
    /// @param evidenceHash Digest of the evidence object (e.g. the sha2-256 of its CID's content).
    /// @param epoch Oracle-set epoch the signers belong to.
    struct Verdict {
        uint256 orderId;
        uint256 twinId;
        uint8 kind;
        uint8 severity;
        uint8 action;
        uint64 windowStart;
        uint64 windowEnd;
        bytes32 evidenceHash;
        uint32 epoch;
    }

    /// @notice The current oracle configuration, packed in one slot.
    /// @param epoch Current epoch (0 before the first oracle set).
    /// @param threshold Signatures needed (k).
    /// @param signerCount Members of the set (n).
    struct OracleConfig {
        uint32 epoch;
        uint8 threshold;
        uint8 signerCount;
    }

    // ---------------------------------------------------------------- ERRORS

    /// @notice Thrown when a constructor address is zero.
    error VerdictHubZeroAddress();
    /// @notice Thrown when an oracle set has no members or more than `MAX_SIGNERS`.
    /// @param count The number of signers given.
    error VerdictHubInvalidSignerCount(uint256 count);
    /// @notice Thrown when the threshold is not a strict majority of the set (n/2 < k <= n).
    /// @param threshold The threshold given.
    /// @param signerCount The size of the set.
    error VerdictHubInvalidThreshold(uint8 threshold, uint256 signerCount);
    /// @notice Thrown when an oracle set contains the zero address.
    error VerdictHubZeroSigner();
    /// @notice Thrown when an oracle set contains `signer` twice.
    /// @param signer The repeated signer.
    error VerdictHubDuplicateSigner(address signer);
    /// @notice Thrown when the epoch's member table (a data-only contract) could not be deployed.
    error VerdictHubMemberTableNotCreated();
    /// @notice Thrown when a verdict is submitted before any oracle set exists.
    error VerdictHubNoOracleSet();
    /// @notice Thrown when a verdict names another epoch than the current one.
    /// @param epoch The verdict's epoch.
    /// @param currentEpoch The current epoch.
    error VerdictHubWrongEpoch(uint32 epoch, uint32 currentEpoch);
    /// @notice Thrown when the signatures are not exactly `threshold` 64-byte compact signatures.
    /// @param length The byte length given.
    /// @param expected The byte length expected (64 * threshold).
    error VerdictHubWrongSignaturesLength(uint256 length, uint256 expected);
    /// @notice Thrown when a signature recovers to an address outside the current oracle set.
    /// @param signer The recovered address.
    error VerdictHubUnknownSigner(address signer);
    /// @notice Thrown when two signatures recover to the same member.
    /// @param signer The member.
    error VerdictHubDuplicateSignature(address signer);
    /// @notice Thrown unless windowStart <= windowEnd <= block.timestamp.
    /// @param windowStart The window start.
    /// @param windowEnd The window end.
    /// @param timestamp The block time.
    error VerdictHubInvalidWindow(uint64 windowStart, uint64 windowEnd, uint256 timestamp);
    /// @notice Thrown when `kind` is not 1..5.
    /// @param kind The kind given.
    error VerdictHubInvalidKind(uint8 kind);
    /// @notice Thrown when `action` is not 1..3.
    /// @param action The action given.
    error VerdictHubInvalidAction(uint8 action);
    /// @notice Thrown when a PENALTY verdict has severity 0.
    error VerdictHubZeroSeverityPenalty();
    /// @notice Thrown when a verdict for (orderId, kind, windowStart) was already accepted.
    /// @param orderId The order.
    /// @param kind The kind.
    /// @param windowStart The window start.
    /// @param verdictId The verdict accepted earlier for this window.
    error VerdictHubWindowConsumed(uint256 orderId, uint8 kind, uint64 windowStart, bytes32 verdictId);

    // ---------------------------------------------------------------- EVENTS

    /// @notice A new oracle set took office; every earlier epoch is retired.
    /// @param epoch The new epoch.
    /// @param signers The members, in index order (bit i of a signers bitmap is `signers[i]`).
    /// @param threshold Signatures needed per verdict.
    event OracleSetChanged(uint32 indexed epoch, address[] signers, uint8 threshold);

    /// @notice A verdict was accepted and its actions applied.
    /// @param verdictId The verdict's EIP-712 digest.
    /// @param orderId The order.
    /// @param twinId The twin.
    /// @param kind The kind (1..5).
    /// @param severity The severity.
    /// @param action The action (1..3).
    /// @param windowStart Window start (unix seconds).
    /// @param windowEnd Window end (unix seconds).
    /// @param evidenceHash Evidence digest.
    /// @param epoch The signers' epoch.
    /// @param signersBitmap Bit i set when member i of the epoch's set signed.
    /// @param penalty Amount Escrow claimed from the liable party (0 when no penalty applied); the charge is
    ///        clamped at settlement (Escrow PenaltySettled).
    event VerdictAccepted(
        bytes32 indexed verdictId,
        uint256 indexed orderId,
        uint256 twinId,
        uint8 kind,
        uint8 severity,
        uint8 action,
        uint64 windowStart,
        uint64 windowEnd,
        bytes32 evidenceHash,
        uint32 epoch,
        uint32 signersBitmap,
        uint96 penalty
    );

    /// @notice A REROUTE verdict opened a new delivery call for proposals.
    /// @param verdictId The verdict.
    /// @param orderId The order.
    /// @param cfpId The call for proposals Procurement opened.
    event VerdictRerouted(bytes32 indexed verdictId, uint256 indexed orderId, uint256 cfpId);

    // ---------------------------------------------------------------- FUNCTIONS

    /// @notice Starts a new epoch with oracle set `members` and threshold `threshold`.
    /// @dev Caller: DEFAULT_ADMIN_ROLE. 1 <= n <= MAX_SIGNERS, no zero or repeated signer, n/2 < k <= n.
    function setOracleSet(address[] calldata members, uint8 threshold) external;

    /// @notice Accepts `verdict` if signed by `threshold` distinct members of the current oracle set, then
    ///         applies its action (penalty, hold, reroute).
    /// @dev Anyone may submit. `signatures` is the concatenation of `threshold` EIP-2098 compact signatures
    ///      (64 bytes each: r, then vs = s | (v - 27) << 255) over the verdict's EIP-712 digest.
    /// @return verdictId The EIP-712 digest of the verdict.
    function submitVerdict(Verdict calldata verdict, bytes calldata signatures) external returns (bytes32 verdictId);

    /// @notice The EIP-712 digest (= verdictId) of `verdict` under this hub's domain.
    function hashVerdict(Verdict calldata verdict) external view returns (bytes32);

    /// @notice The EIP-712 domain separator of this hub.
    function domainSeparator() external view returns (bytes32);

    /// @notice The current epoch, threshold and set size.
    function oracleConfig() external view returns (OracleConfig memory);

    /// @notice The members of the current oracle set, in index order.
    function signers() external view returns (address[] memory);

    /// @notice The verdict accepted for (orderId, kind, windowStart), or zero.
    function verdictOfWindow(uint256 orderId, uint8 kind, uint64 windowStart) external view returns (bytes32);
}
