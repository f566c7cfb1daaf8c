// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title SettlementToken
/// @notice Development stand-in for the consortium's tokenized money (e.g. a bank-issued deposit
/// token): an ERC-20 with 6 decimals that its owner mints. Never deployed on a production network.
contract SettlementToken is ERC20, Ownable {
    /// @param owner_ The account allowed to mint.
    constructor(address owner_) ERC20("RoamLedger Settlement Token", "RLST") Ownable(owner_) {}

    /// @notice Mints `amount` to `to`. Caller: the owner.
    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }

    /// @inheritdoc ERC20
    function decimals() public pure override returns (uint8) {
        return 6;
    }
}
