// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice Implemented by contracts that want a callback when MaliciousToken pays them.
interface ITokenReceiverHook {
    /// @notice Called by MaliciousToken after it transferred `amount` to this contract.
    function onTokenReceived(address from, uint256 amount) external;
}

/// @title MaliciousToken
/// @notice Attack token for the Escrow tests: during `transferFrom` it calls an armed target with armed
///         calldata (re-entering Escrow), and on `transfer` to a contract it calls the recipient's hook
///         (ERC-777 style), so a recipient can re-enter `withdraw`. Reverts of the re-entered call bubble up.
contract MaliciousToken is ERC20 {
    address public target;
    bytes public payload;

    /// @notice A token with no supply; tests mint what they need.
    constructor() ERC20("Malicious", "EVIL") {}

    /// @notice Mints freely (test token).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Arms the re-entrant call made from the next transferFrom (target 0 disarms).
    function arm(address target_, bytes calldata payload_) external {
        target = target_;
        payload = payload_;
    }

    /// @inheritdoc ERC20
    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        address t = target;
        if (t != address(0)) {
            target = address(0);
            _call(t, payload);
        }
        return super.transferFrom(from, to, value);
    }

    /// @inheritdoc ERC20
    function transfer(address to, uint256 value) public override returns (bool) {
        bool ok = super.transfer(to, value);
        if (to.code.length != 0) ITokenReceiverHook(to).onTokenReceived(msg.sender, value);
        return ok;
    }

    function _call(address t, bytes memory data) private {
        (bool ok, bytes memory ret) = t.call(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 32), mload(ret))
            }
        }
    }
}
