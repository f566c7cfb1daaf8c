// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice An ERC-20 anyone mints, for escrow tests.
contract MintableToken__Mock is ERC20 {
    constructor(string memory symbol_) ERC20(symbol_, symbol_) {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}

/// @notice Calls `target` with `data` from inside every transfer (once armed), bubbling up its revert: a
/// token that tries to re-enter the escrow.
contract ReentrantToken__Mock is MintableToken__Mock {
    address private _target;
    bytes private _data;

    constructor() MintableToken__Mock("REENTER") {}

    /// @notice The next transfer (not a mint) calls `target` with `data`, once.
    function arm(address target, bytes calldata data) external {
        _target = target;
        _data = data;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        address t = _target;
        if (t == address(0) || from == address(0)) return;
        _target = address(0); // once
        (bool ok, bytes memory reason) = t.call(_data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(reason, 32), mload(reason))
            }
        }
    }
}

/// @notice Returns false from transfer and transferFrom (moving nothing) while `failing` is set.
contract FalseReturnToken__Mock is MintableToken__Mock {
    bool public failing;

    constructor() MintableToken__Mock("FALSE") {}

    function setFailing(bool failing_) external {
        failing = failing_;
    }

    function transfer(address to, uint256 value) public override returns (bool) {
        return failing ? false : super.transfer(to, value);
    }

    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        return failing ? false : super.transferFrom(from, to, value);
    }
}

/// @notice Burns 1 % of every transfer between accounts: the recipient gets 99 %.
contract FeeOnTransferToken__Mock is MintableToken__Mock {
    constructor() MintableToken__Mock("FEE") {}

    function _update(address from, address to, uint256 value) internal override {
        if (from == address(0) || to == address(0)) return super._update(from, to, value);
        uint256 fee = value / 100;
        super._update(from, address(0), fee);
        super._update(from, to, value - fee);
    }
}

/// @notice Reverts every transfer to or from a blacklisted account, as regulated stablecoins do.
contract BlacklistToken__Mock is MintableToken__Mock {
    mapping(address account => bool) public blacklisted;

    error BlacklistToken__MockBlacklisted(address account);

    constructor() MintableToken__Mock("BLOCK") {}

    function setBlacklisted(address account, bool value) external {
        blacklisted[account] = value;
    }

    function _update(address from, address to, uint256 value) internal override {
        require(!blacklisted[from], BlacklistToken__MockBlacklisted(from));
        require(!blacklisted[to], BlacklistToken__MockBlacklisted(to));
        super._update(from, to, value);
    }
}
