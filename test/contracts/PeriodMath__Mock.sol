// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

/// @notice yyyymm periods as UTC time bounds, for the test ledger (the real ledger has its own PeriodLib).
library PeriodMath__Mock {
    /// @notice True for a yyyymm from 197001 on with a month 01-12.
    function isValid(uint32 period) internal pure returns (bool) {
        uint32 month = period % 100;
        return period / 100 >= 1970 && month >= 1 && month <= 12;
    }

    /// @notice First second of `period` (yyyymm) and first second after it, UTC.
    function bounds(uint32 period) internal pure returns (uint40 start, uint40 end) {
        uint256 year = period / 100;
        uint256 month = period % 100;
        start = uint40(daysFromCivil(year, month) * 1 days);
        (uint256 nextYear, uint256 nextMonth) = month == 12 ? (year + 1, uint256(1)) : (year, month + 1);
        end = uint40(daysFromCivil(nextYear, nextMonth) * 1 days);
    }

    /// @notice Days from 1970-01-01 to the first of `month` of `year` (Howard Hinnant's days_from_civil,
    /// proleptic Gregorian), for years from 1970.
    function daysFromCivil(uint256 year, uint256 month) internal pure returns (uint256) {
        uint256 y = month <= 2 ? year - 1 : year;
        uint256 era = y / 400;
        uint256 yoe = y - era * 400; // [0, 399]
        uint256 mp = month > 2 ? month - 3 : month + 9; // March = 0
        uint256 doy = (153 * mp + 2) / 5; // day 1 of the month
        uint256 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
        return era * 146097 + doe - 719468;
    }
}
