// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.28;

import {IRoamingAgreements} from "../interfaces/IRoamingAgreements.sol";
import {ISettlementEscrow} from "../interfaces/ISettlementEscrow.sol";
import {IUsageLedger} from "../interfaces/IUsageLedger.sol";
import {CommitmentLib} from "./CommitmentLib.sol";
import {RatingLib} from "./RatingLib.sol";
import {ClassTotals, UsageRecord} from "../types/UsageTypes.sol";
import {DeviceId} from "../types/DeviceId.sol";
import {PlmnId} from "../types/PlmnId.sol";
import {Service} from "../types/DeviceTypes.sol";

/// @notice The arithmetic of a reveal: period totals summed per tariff class in storage from batch openings,
/// less the measured usage of disputed records, read back ascending for rating. Every sum saturates at its
/// type's maximum and every difference at zero, so that a reveal always completes whatever was committed.
library RevealLib {
    /// @notice Most rate plans in revealed terms (as the agreements allow).
    uint256 internal constant MAX_RATE_PLANS = 64;
    /// @notice Most tiers in a revealed plan.
    uint256 internal constant MAX_TIERS = 8;
    /// @notice 100 % in basis points.
    uint256 internal constant BPS = 10_000;

    /// @notice The running sums of one class: `ClassTotals` without its class, packed in two slots.
    struct Sums {
        uint32 records;
        uint32 activeDevices;
        uint32 roamerDays;
        uint32 qosSamples;
        uint64 dataBytes;
        uint64 signallingEvents;
        uint64 smsCount;
        uint64 voiceSeconds;
        uint64 latencyMsSum;
        uint64 throughputKbpsSum;
    }

    /// @notice A reveal under way: batches opened, disputed records of the next batch opened, the classes
    /// seen (bit c for class c) and their sums.
    struct Reveal {
        uint32 cursor;
        uint32 disputeCursor;
        uint256 classMask;
        mapping(uint8 tariffClass => Sums) sums;
    }

    /// @notice Error of a revealed plan with more than `MAX_TIERS` tiers or a discount above 100 %.
    error RevealLibInvalidTiers(uint256 planIndex);
    /// @notice Error of revealed terms with no plan or more than `MAX_RATE_PLANS`.
    error RevealLibInvalidPlanCount(uint256 count);

    /// @notice Checks `openings` of the counted batches of (`home`, `visited`, `period`) in the ledger's
    /// order, from where the reveal `r` stopped (see `openBatch`). Returns the batches opened and counted.
    /// @dev External (linked), with `rate`, to keep the escrow under the contract size limit.
    function openBatches(
        Reveal storage r,
        IUsageLedger ledger,
        PlmnId home,
        PlmnId visited,
        uint32 period,
        ISettlementEscrow.BatchOpening[] calldata openings
    ) external returns (uint32 cursor, uint32 counted) {
        counted = ledger.getPeriod(home, visited, period).counted;
        cursor = r.cursor;
        uint256 count = openings.length;
        for (uint256 i = 0; i < count; ++i) {
            require(cursor < counted, ISettlementEscrow.SettlementEscrowWrongOpeningCount(bytes32(0), count, 0));
            bytes32 batchId = ledger.countedBatch(home, visited, period, cursor);
            if (openBatch(r, ledger, batchId, openings[i], i + 1 == count)) ++cursor;
        }
        r.cursor = cursor;
    }

    /// @notice Checks one opening of counted batch `batchId` for the reveal `r`: its totals against the
    /// batch's commitment (at the batch's first opening, then added), then its disputed records from where the
    /// previous call stopped, each against the ledger's disputed leaf and, when billable, taken off. Returns
    /// true when the batch is complete; only the last opening of a call (`last`) may leave it incomplete.
    function openBatch(
        Reveal storage r,
        IUsageLedger ledger,
        bytes32 batchId,
        ISettlementEscrow.BatchOpening calldata opening,
        bool last
    ) internal returns (bool complete) {
        uint32[] memory indexes = ledger.disputedIndexes(batchId);
        uint256 from = r.disputeCursor;
        if (from == 0) {
            ClassTotals[] memory batch = opening.totals;
            require(
                CommitmentLib.batchTotals(opening.recordCount, batch, opening.salt) ==
                    ledger.getBatch(batchId).totalsCommitment,
                ISettlementEscrow.SettlementEscrowWrongOpening(batchId)
            );
            addTotals(r, batch);
        }
        uint256 given = opening.disputed.length;
        uint256 to = from + given;
        require(
            to <= indexes.length,
            ISettlementEscrow.SettlementEscrowWrongOpeningCount(batchId, to, indexes.length)
        );
        for (uint256 k = 0; k < given; ++k) {
            UsageRecord memory rec = opening.disputed[k];
            uint32 leafIndex = indexes[from + k];
            require(
                leaf(rec, opening.salt) == ledger.disputedLeaf(batchId, leafIndex),
                ISettlementEscrow.SettlementEscrowWrongDisputedRecord(batchId, leafIndex)
            );
            subtractRecord(r, rec);
        }
        complete = to == indexes.length;
        require(complete || last, ISettlementEscrow.SettlementEscrowWrongOpeningCount(batchId, to, indexes.length));
        r.disputeCursor = complete ? 0 : uint32(to);
    }

    /// @notice A claim whose reveal is being finished.
    /// @param claimed The payee's claimed net.
    /// @param penaltyBps The escrow's stall penalty.
    struct Claim {
        PlmnId payer;
        PlmnId payee;
        uint32 period;
        bytes32 termsCommitment;
        uint256 claimed;
        uint256 penaltyBps;
    }

    /// @notice Finishes the reveal `r` of claim `c` once every counted batch is opened: `terms` must open the
    /// terms commitment under `salt` and keep within the bounds rating needs (`checkTerms`); the totals are
    /// rated with the plans of the payee. Upheld when the rating is at least the claimed net: the amount is
    /// the rating plus the stall penalty; else the rating. Emits `ISettlementEscrow.ClaimRevealed` (from the
    /// escrow, which delegates here).
    /// @dev External (linked), with `openBatches`, to keep the escrow under the contract size limit.
    function finish(
        Reveal storage r,
        IUsageLedger ledger,
        Claim memory c,
        IRoamingAgreements.Terms calldata terms,
        bytes32 salt
    ) external returns (uint256 amount, bool upheld) {
        uint32 counted = ledger.getPeriod(c.payer, c.payee, c.period).counted;
        require(r.cursor == counted, ISettlementEscrow.SettlementEscrowRevealIncomplete(r.cursor, counted));
        require(
            CommitmentLib.terms(terms, salt) == c.termsCommitment,
            ISettlementEscrow.SettlementEscrowWrongTermsOpening(c.termsCommitment)
        );
        checkTerms(terms);
        ISettlementEscrow.Rating memory rating = RatingLib.rate(totals(r), terms, c.payee);
        upheld = rating.net >= c.claimed;
        uint256 penalty = upheld ? (rating.net * c.penaltyBps) / BPS : 0;
        amount = rating.net + penalty;
        emit ISettlementEscrow.ClaimRevealed(c.payer, c.payee, c.period, c.claimed, upheld, penalty, amount, rating);
    }

    /// @notice Adds one batch's totals to the sums.
    function addTotals(Reveal storage r, ClassTotals[] memory batch) internal {
        uint256 mask = r.classMask;
        for (uint256 i = 0; i < batch.length; ++i) {
            ClassTotals memory t = batch[i];
            mask |= 1 << t.tariffClass;
            Sums storage s = r.sums[t.tariffClass];
            Sums memory m = s;
            m.records = _add32(m.records, t.records);
            m.activeDevices = _add32(m.activeDevices, t.activeDevices);
            m.roamerDays = _add32(m.roamerDays, t.roamerDays);
            m.qosSamples = _add32(m.qosSamples, t.qosSamples);
            m.dataBytes = _add64(m.dataBytes, t.dataBytes);
            m.signallingEvents = _add64(m.signallingEvents, t.signallingEvents);
            m.smsCount = _add64(m.smsCount, t.smsCount);
            m.voiceSeconds = _add64(m.voiceSeconds, t.voiceSeconds);
            m.latencyMsSum = _add64(m.latencyMsSum, t.latencyMsSum);
            m.throughputKbpsSum = _add64(m.throughputKbpsSum, t.throughputKbpsSum);
            _store(s, m);
        }
        r.classMask = mask;
    }

    /// @notice Takes a billable disputed record's measured contribution off its class: 1 record, its own
    /// service's measure (data: bytes up + down; SMS and signalling: events; voice: duration) and its QoS
    /// sample when it carries both a latency and a throughput (as lib/usage sums them). Device-month and
    /// roamer days stay (see `ISettlementEscrow.openBatches`). A record that is not billable counts nothing.
    function subtractRecord(Reveal storage r, UsageRecord memory rec) internal {
        if (rec.billing != 0) return;
        Sums storage s = r.sums[rec.tariffClass];
        Sums memory m = s;
        m.records = uint32(_sub(m.records, 1));
        uint8 service = rec.service;
        if (service == uint8(Service.Data)) {
            m.dataBytes = uint64(_sub(m.dataBytes, uint256(rec.bytesUp) + rec.bytesDown));
        } else if (service == uint8(Service.Sms)) {
            m.smsCount = uint64(_sub(m.smsCount, rec.events));
        } else if (service == uint8(Service.Voice)) {
            m.voiceSeconds = uint64(_sub(m.voiceSeconds, rec.duration));
        } else if (service == uint8(Service.Signalling)) {
            m.signallingEvents = uint64(_sub(m.signallingEvents, rec.events));
        }
        if (rec.latencyMs > 0 && rec.throughputKbps > 0) {
            m.qosSamples = uint32(_sub(m.qosSamples, 1));
            m.latencyMsSum = uint64(_sub(m.latencyMsSum, rec.latencyMs));
            m.throughputKbpsSum = uint64(_sub(m.throughputKbpsSum, rec.throughputKbps));
        }
        _store(s, m);
    }

    /// @notice The revealed period totals, one entry per class seen, ascending.
    function totals(Reveal storage r) internal view returns (ClassTotals[] memory out) {
        uint256 mask = r.classMask;
        uint256 count;
        for (uint256 m = mask; m != 0; m &= m - 1) ++count;
        out = new ClassTotals[](count);
        uint256 k;
        for (uint256 c = 0; k < count; ++c) {
            if (mask & (1 << c) == 0) continue;
            Sums memory s = r.sums[uint8(c)];
            out[k++] = ClassTotals({
                tariffClass: uint8(c),
                records: s.records,
                activeDevices: s.activeDevices,
                roamerDays: s.roamerDays,
                dataBytes: s.dataBytes,
                signallingEvents: s.signallingEvents,
                smsCount: s.smsCount,
                voiceSeconds: s.voiceSeconds,
                qosSamples: s.qosSamples,
                latencyMsSum: s.latencyMsSum,
                throughputKbpsSum: s.throughputKbpsSum
            });
        }
    }

    /// @notice The Merkle leaf of a record under its batch's totals salt: keccak256 of its 15 fields packed
    /// in order (111 bytes) and the salt, as the ledger's `leafOf`.
    function leaf(UsageRecord memory r, bytes32 salt) internal pure returns (bytes32) {
        bytes memory head = abi.encodePacked(
            r.recordId,
            DeviceId.unwrap(r.deviceId),
            PlmnId.unwrap(r.home),
            PlmnId.unwrap(r.visited),
            r.service,
            r.rat,
            r.startTime,
            r.duration
        );
        bytes memory tail = abi.encodePacked(
            r.bytesUp,
            r.bytesDown,
            r.events,
            r.latencyMs,
            r.throughputKbps,
            r.tariffClass,
            r.billing
        );
        return keccak256(bytes.concat(head, tail, salt));
    }

    /// @notice Reverts unless `terms` keep `RatingLib` within its bounds: 1 to `MAX_RATE_PLANS` plans, at
    /// most `MAX_TIERS` tiers each, no discount above 100 % (which would underflow the rating).
    function checkTerms(IRoamingAgreements.Terms calldata terms) internal pure {
        uint256 count = terms.ratePlans.length;
        require(count > 0 && count <= MAX_RATE_PLANS, RevealLibInvalidPlanCount(count));
        for (uint256 i = 0; i < count; ++i) {
            IRoamingAgreements.Tier[] calldata tiers = terms.ratePlans[i].tiers;
            bool ok = tiers.length <= MAX_TIERS;
            for (uint256 j = 0; ok && j < tiers.length; ++j) ok = tiers[j].discountBps <= BPS;
            require(ok, RevealLibInvalidTiers(i));
        }
    }

    function _store(Sums storage s, Sums memory m) private {
        s.records = m.records;
        s.activeDevices = m.activeDevices;
        s.roamerDays = m.roamerDays;
        s.qosSamples = m.qosSamples;
        s.dataBytes = m.dataBytes;
        s.signallingEvents = m.signallingEvents;
        s.smsCount = m.smsCount;
        s.voiceSeconds = m.voiceSeconds;
        s.latencyMsSum = m.latencyMsSum;
        s.throughputKbpsSum = m.throughputKbpsSum;
    }

    function _add32(uint32 a, uint256 b) private pure returns (uint32) {
        uint256 sum = uint256(a) + b;
        return sum > type(uint32).max ? type(uint32).max : uint32(sum);
    }

    function _add64(uint64 a, uint256 b) private pure returns (uint64) {
        uint256 sum = uint256(a) + b;
        return sum > type(uint64).max ? type(uint64).max : uint64(sum);
    }

    function _sub(uint256 a, uint256 b) private pure returns (uint256) {
        return a > b ? a - b : 0;
    }
}
