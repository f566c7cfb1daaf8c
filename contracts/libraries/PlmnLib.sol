// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.28;

import {PlmnId} from "../types/PlmnId.sol";

/// @notice Validation of TBCD-encoded PLMN ids (see `PlmnId`).
library PlmnLib {
    /// @notice True when every nibble is a decimal digit, except MNC3 which may be the 0xF filler,
    /// and the MCC is not 000.
    function isValid(PlmnId plmn) internal pure returns (bool) {
        uint24 v = uint24(PlmnId.unwrap(plmn));
        uint24 mcc2 = (v >> 20) & 0xF;
        uint24 mcc1 = (v >> 16) & 0xF;
        uint24 mnc3 = (v >> 12) & 0xF;
        uint24 mcc3 = (v >> 8) & 0xF;
        uint24 mnc2 = (v >> 4) & 0xF;
        uint24 mnc1 = v & 0xF;
        if (mcc1 > 9 || mcc2 > 9 || mcc3 > 9 || mnc1 > 9 || mnc2 > 9) return false;
        if (mnc3 > 9 && mnc3 != 0xF) return false;
        return mcc1 != 0 || mcc2 != 0 || mcc3 != 0;
    }

    /// @notice True for the zero value, which stands for "no member".
    function isZero(PlmnId plmn) internal pure returns (bool) {
        return PlmnId.unwrap(plmn) == bytes3(0);
    }

    /// @notice Equality of two ids.
    function eq(PlmnId a, PlmnId b) internal pure returns (bool) {
        return PlmnId.unwrap(a) == PlmnId.unwrap(b);
    }
}
