// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.28;

/// @notice Billing periods written as yyyymm (202611 for November 2026) and their bounds in UTC.
library PeriodLib {
    uint32 internal constant MIN_YEAR = 2000;
    uint32 internal constant MAX_YEAR = 2399;

    /// @notice True for yyyymm with a year from 2000 to 2399 and a month from 1 to 12.
    function isValid(uint32 period) internal pure returns (bool) {
        uint32 year = period / 100;
        uint32 month = period % 100;
        return year >= MIN_YEAR && year <= MAX_YEAR && month >= 1 && month <= 12;
    }

    /// @notice First second of the month and first second of the next month (unix time, UTC).
    /// @dev Assumes `isValid(period)`.
    function bounds(uint32 period) internal pure returns (uint40, uint40) {
        uint256 year = period / 100;
        uint256 month = period % 100;
        (uint256 nextYear, uint256 nextMonth) = month == 12 ? (year + 1, uint256(1)) : (year, month + 1);
        return (start(period), uint40(daysFromCivil(nextYear, nextMonth) * 1 days));
    }

    /// @notice First second of the month (unix time, UTC).
    /// @dev Assumes `isValid(period)`.
    function start(uint32 period) internal pure returns (uint40) {
        return uint40(daysFromCivil(period / 100, period % 100) * 1 days);
    }

    /// @notice Days from 1970-01-01 to the first day of `month` (1..12) of `year` (proleptic Gregorian), for
    /// years from 1970 to 2400. H. Hinnant's `days_from_civil` with day = 1, in unsigned arithmetic.
    function daysFromCivil(uint256 year, uint256 month) internal pure returns (uint256) {
        unchecked {
            // No overflow or underflow for those inputs: y >= 1969, yoe <= 399, the result >= 0.
            uint256 y = month <= 2 ? year - 1 : year;
            uint256 era = y / 400;
            uint256 yoe = y - era * 400; // [0, 399]
            uint256 doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5; // [0, 365], day 1 of the month
            uint256 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
            return era * 146_097 + doe - 719_468;
        }
    }
}
