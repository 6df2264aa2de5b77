// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title BackdoorToken
/// @notice TEST ONLY. A 6-decimals ERC-20 whose owner may move anyone's balance: the audit tests use it as the
///         escrow token to drain Escrow outside its rules and check that the audit names the difference.
contract BackdoorToken is ERC20, Ownable {
    /// @param owner_ The account that mints and holds the backdoor.
    constructor(address owner_) ERC20("Backdoor USD", "bUSD") Ownable(owner_) {}

    /// @notice Mints `amount` to `to`. Caller: the owner.
    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }

    /// @notice Moves `amount` from `from` to `to` without `from`'s consent. Caller: the owner. Emits Transfer.
    function backdoorTransfer(address from, address to, uint256 amount) external onlyOwner {
        _transfer(from, to, amount);
    }

    /// @notice 6 decimals, like the stablecoins Escrow is meant for.
    function decimals() public pure override returns (uint8) {
        return 6;
    }
}
