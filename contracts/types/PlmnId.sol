// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.28;

/// @notice A mobile network's PLMN id (MCC + MNC), encoded as 3GPP TS 24.008 TBCD in three bytes:
/// `MCC2 MCC1 | MNC3 MCC3 | MNC2 MNC1`, one digit per nibble, MNC3 = 0xF for a two-digit MNC.
/// 262-01 is 0x62F210 and 310-410 is 0x130014: a 2-digit and a 3-digit MNC are different ids.
/// Members without a PLMN of their own (device makers) get one from MCC 999, which ITU-T E.212
/// reserves for internal use.
type PlmnId is bytes3;
