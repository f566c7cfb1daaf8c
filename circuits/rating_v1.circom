pragma circom 2.1.0;

// rating-v1: proves net = rating(committed totals, committed terms) for one invoice, exactly as
// lib/settlement/rating.ts rateInvoice (== contracts/libraries/RatingLib.sol) computes it, for up to
// N = 8 priced tariff classes with up to T = 4 volume tiers each. The encoding is lib/zk/encoding.ts.
//
// Public (in this order): termsCommitment, totalsCommitment, net. Everything else is private.
//
// Trusted (committed by termsCommitment; the counterparty validated the terms and checked the commitment
// before accepting the agreement, so the circuit does not re-check them): rates and the surcharge < 2^128,
// fromMb < 2^64 and non-decreasing, discounts <= 10000, SLA targets u32, SLA credits u16, priced in {0,1}.
//
// Range-checked (the payee's, i.e. the prover's, statement): every totals value to its width (u32/u64;
// the unpriced QoS sums to 40/72/72 bits), so the packing into field elements is injective and no product
// wraps the field. Every division is a witnessed quotient and remainder with the remainder below its
// divisor and the quotient below the bound its dividend allows.
//
// Field F is the bn128 scalar field (p ~ 2^253.6): the largest value formed is subtotal * bps < 2^211.

include "circomlib/circuits/poseidon.circom";
include "circomlib/circuits/comparators.circom";
include "circomlib/circuits/bitify.circom";

// uint(keccak256("RoamLedger.ZkTermsCommitment.v1")) mod p
function ZK_TERMS_TAG() {
    return 7450840142031526574563832247472733809979063893188415646507301966381853646103;
}

// uint(keccak256("RoamLedger.ZkTotalsCommitment.v1")) mod p
function ZK_TOTALS_TAG() {
    return 3725421436484643477559163519866737275797838642909104099051077533997798709374;
}

// Slot layout: [priced, tariffClass, perMb, perSignallingEvent, perSms, perVoiceMinute,
//               monthlyFeePerDevice, fromMb_0, discountBps_0, ..., fromMb_3, discountBps_3]
// Totals layout: [activeDevices, roamerDays, dataBytes, signallingEvents, smsCount, voiceSeconds,
//                 qosSamples, latencyMsSum, throughputKbpsSum]
// Header layout: [surchargePerDay, maxLatencyMs, minThroughputKbps, latencyCreditBps, throughputCreditBps]

// in < 2^n.
template RangeCheck(n) {
    signal input in;
    component bits = Num2Bits(n);
    bits.in <== in;
}

// q = floor(x / divisor), r = x mod divisor, with r < divisor (rBits: bits of divisor) and q < 2^qBits.
// Sound when divisor * 2^qBits < p.
template DivMod(divisor, rBits, qBits) {
    signal input x;
    signal output q;
    signal output r;
    q <-- x \ divisor;
    r <-- x % divisor;
    x === q * divisor + r;
    component qRange = RangeCheck(qBits);
    qRange.in <== q;
    component rRange = RangeCheck(rBits);
    rRange.in <== r;
    component rBelow = LessThan(rBits);
    rBelow.in[0] <== r;
    rBelow.in[1] <== divisor;
    rBelow.out === 1;
}

// min(a, b) for a, b < 2^n.
template Min(n) {
    signal input a;
    signal input b;
    signal output out;
    component lt = LessThan(n);
    lt.in[0] <== a;
    lt.in[1] <== b;
    out <== lt.out * (a - b) + b;
}

// floor(sum_b c_b * perMb * (10000 - d_b) / 10^10): the volume V cut at u_b = fromMb_b * 10^6 bytes;
// band 0 pays perMb, band b > 0 pays perMb less discountBps_{b-1}. V < 2^64 (checked), u_b < 2^84
// (trusted), perMb < 2^128 (trusted): the sum is < 2^206, the quotient < 2^173.
template DataCharge() {
    signal input volume;
    signal input perMb;
    signal input fromMb[4];
    signal input discountBps[4];
    signal output charge;

    component m[4];
    for (var b = 0; b < 4; b++) {
        m[b] = Min(84);
        m[b].a <== volume;
        m[b].b <== fromMb[b] * 1000000;
    }
    signal bytes[5];
    bytes[0] <== m[0].out;
    for (var b = 1; b < 4; b++) {
        bytes[b] <== m[b].out - m[b - 1].out;
    }
    bytes[4] <== volume - m[3].out;

    signal atRate[5];
    signal scaled[5];
    atRate[0] <== bytes[0] * perMb;
    scaled[0] <== atRate[0] * 10000;
    for (var b = 1; b < 5; b++) {
        atRate[b] <== bytes[b] * perMb;
        scaled[b] <== atRate[b] * (10000 - discountBps[b - 1]);
    }
    var sum = 0;
    for (var b = 0; b < 5; b++) {
        sum += scaled[b];
    }
    component div = DivMod(10000000000, 34, 173);
    div.x <== sum;
    charge <== div.q;
}

// The totals of one slot, each to its width.
template TotalsRange() {
    signal input t[9];
    var widths[9] = [32, 32, 64, 64, 64, 64, 32, 64, 64];
    component r[9];
    for (var i = 0; i < 9; i++) {
        r[i] = RangeCheck(widths[i]);
        r[i].in <== t[i];
    }
}

// Every charge of one slot: data + signalling + sms + voice + monthly + surcharge (< 2^193.1).
template SlotCharges() {
    signal input slot[15];
    signal input t[9];
    signal input surchargePerDay;
    signal output total;

    component data = DataCharge();
    data.volume <== t[2];
    data.perMb <== slot[2];
    for (var b = 0; b < 4; b++) {
        data.fromMb[b] <== slot[7 + 2 * b];
        data.discountBps[b] <== slot[8 + 2 * b];
    }
    signal signalling <== t[3] * slot[3];
    signal sms <== t[4] * slot[4];
    signal voiceScaled <== t[5] * slot[5];
    component voice = DivMod(60, 6, 187);
    voice.x <== voiceScaled;
    signal monthly <== t[0] * slot[6];
    signal pricedDays <== slot[0] * t[1];
    signal surcharge <== pricedDays * surchargePerDay;
    total <== data.charge + signalling + sms + voice.q + monthly + surcharge;
}

// The SLA credit in basis points, without division: latency missed <=> L >= (maxLatencyMs + 1) * S,
// throughput missed <=> Th < minThroughputKbps * S; none without samples or for a zero target; capped
// at 10000. S < 2^41, L and Th < 2^73 (checked), targets < 2^32 and credits < 2^16 (trusted).
template SlaCreditBps() {
    signal input samples;
    signal input latencySum;
    signal input throughputSum;
    signal input header[5];
    signal output bps;

    component noSamples = IsZero();
    noSamples.in <== samples;
    component noLatencyTarget = IsZero();
    noLatencyTarget.in <== header[1];
    component noThroughputTarget = IsZero();
    noThroughputTarget.in <== header[2];

    component latencyBelow = LessThan(75);
    latencyBelow.in[0] <== latencySum;
    latencyBelow.in[1] <== (header[1] + 1) * samples;
    component throughputBelow = LessThan(75);
    throughputBelow.in[0] <== throughputSum;
    throughputBelow.in[1] <== header[2] * samples;

    signal measured <== 1 - noSamples.out;
    signal latencyMissed <== measured * (1 - latencyBelow.out);
    signal latencyHit <== latencyMissed * (1 - noLatencyTarget.out);
    signal throughputMissed <== measured * throughputBelow.out;
    signal throughputHit <== throughputMissed * (1 - noThroughputTarget.out);
    signal latencyCredit <== latencyHit * header[3];
    signal throughputCredit <== throughputHit * header[4];

    component cap = Min(18);
    cap.a <== latencyCredit + throughputCredit;
    cap.b <== 10000;
    bps <== cap.out;
}

// termsCommitment = Poseidon(ZK_TERMS_TAG, termsSalt, Poseidon(hSlot_0..7, header_0..4)).
template TermsCommitment() {
    signal input slots[8][15];
    signal input header[5];
    signal input salt;
    signal output out;

    component hSlot[8];
    component hTerms = Poseidon(13);
    for (var j = 0; j < 8; j++) {
        hSlot[j] = Poseidon(15);
        hSlot[j].inputs <== slots[j];
        hTerms.inputs[j] <== hSlot[j].out;
    }
    for (var i = 0; i < 5; i++) {
        hTerms.inputs[8 + i] <== header[i];
    }
    component c = Poseidon(3);
    c.inputs[0] <== ZK_TERMS_TAG();
    c.inputs[1] <== salt;
    c.inputs[2] <== hTerms.out;
    out <== c.out;
}

// totalsCommitment = Poseidon(ZK_TOTALS_TAG, ctx, totalsSalt, h1, h2), over the packed totals.
template TotalsCommitment() {
    signal input totals[8][9];
    signal input other[3];
    signal input ctx;
    signal input salt;
    signal output out;

    component h1 = Poseidon(16);
    component h2 = Poseidon(9);
    for (var j = 0; j < 8; j++) {
        h1.inputs[2 * j] <== totals[j][0] + totals[j][1] * (1 << 32) + totals[j][2] * (1 << 64) + totals[j][3] * (1 << 128);
        h1.inputs[2 * j + 1] <== totals[j][4] + totals[j][5] * (1 << 64) + totals[j][6] * (1 << 128) + totals[j][7] * (1 << 160);
        h2.inputs[j] <== totals[j][8];
    }
    h2.inputs[8] <== other[0] + other[1] * (1 << 40) + other[2] * (1 << 112);
    component c = Poseidon(5);
    c.inputs[0] <== ZK_TOTALS_TAG();
    c.inputs[1] <== ctx;
    c.inputs[2] <== salt;
    c.inputs[3] <== h1.out;
    c.inputs[4] <== h2.out;
    out <== c.out;
}

template RatingV1() {
    signal input termsCommitment;
    signal input totalsCommitment;
    signal input net;

    signal input slots[8][15];
    signal input header[5];
    signal input termsSalt;
    signal input totals[8][9];
    signal input other[3];
    signal input ctx;
    signal input totalsSalt;

    // The prover's totals, each to its width.
    component range[8];
    for (var j = 0; j < 8; j++) {
        range[j] = TotalsRange();
        range[j].t <== totals[j];
    }
    component otherRange[3];
    var otherWidths[3] = [40, 72, 72];
    for (var i = 0; i < 3; i++) {
        otherRange[i] = RangeCheck(otherWidths[i]);
        otherRange[i].in <== other[i];
    }

    // Both commitments open.
    component terms = TermsCommitment();
    terms.slots <== slots;
    terms.header <== header;
    terms.salt <== termsSalt;
    terms.out === termsCommitment;
    component committed = TotalsCommitment();
    committed.totals <== totals;
    committed.other <== other;
    committed.ctx <== ctx;
    committed.salt <== totalsSalt;
    committed.out === totalsCommitment;

    // The rating.
    component charges[8];
    var subtotal = 0;
    var samples = other[0];
    var latencySum = other[1];
    var throughputSum = other[2];
    for (var j = 0; j < 8; j++) {
        charges[j] = SlotCharges();
        charges[j].slot <== slots[j];
        charges[j].t <== totals[j];
        charges[j].surchargePerDay <== header[0];
        subtotal += charges[j].total;
        samples += totals[j][6];
        latencySum += totals[j][7];
        throughputSum += totals[j][8];
    }
    component sla = SlaCreditBps();
    sla.samples <== samples;
    sla.latencySum <== latencySum;
    sla.throughputSum <== throughputSum;
    sla.header <== header;

    signal creditScaled <== subtotal * sla.bps;
    component credit = DivMod(10000, 14, 197);
    credit.x <== creditScaled;
    net === subtotal - credit.q;
}

component main {public [termsCommitment, totalsCommitment, net]} = RatingV1();
