// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title TestStablecoin
/// @notice A 6-decimals ERC-20 that its owner mints at will. For development networks only: never deploy it
///         where real money is meant.
contract TestStablecoin is ERC20, Ownable {
    /// @param owner_ The only account that may mint.
    constructor(address owner_) ERC20("ASC Test USD", "tUSD") Ownable(owner_) {}

    /// @notice Mints `amount` base units to `to`. Caller: the owner. Emits ERC20 Transfer from address(0).
    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }

    /// @notice 6 decimals, like the common USD stablecoins.
    function decimals() public pure override returns (uint8) {
        return 6;
    }
}
