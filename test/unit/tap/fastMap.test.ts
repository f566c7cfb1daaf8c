import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { SERVICES } from "../../../lib/core/enums";
import { parsePlmn } from "../../../lib/core/plmn";
import { ber } from "../../../lib/tap/berEncode";
import { offsetMinutes } from "../../../lib/tap/fastMap";
import { writeTapFile } from "../../../lib/tap/fromUsage";
import { TapMapper, type TapMapOptions, type TapRecordCharges } from "../../../lib/tap/map";
import { tapRecordId } from "../../../lib/tap/recordIds";
import { encodeCallEvent } from "../../../lib/tap/tapEncode";
import { T } from "../../../lib/tap/tags";
import { RecordIdSet } from "../../../lib/usage/recordIdSet";
import { type ParsedRecord, RATS, type Reject } from "../../../lib/usage/types";
import type { Hex } from "../../../lib/util/hex";
import { sample } from "./samples";
import { buildTap, event, IMSI, PAIR, sampleWithTotal, tempFile, withoutImsi } from "./tapFiles";

/** Everything a mapping gives: records, rejects, charges, the summary or the error, the counts by service. */
interface Outcome {
  records: ParsedRecord[];
  rejects: Reject[];
  charges: TapRecordCharges[];
  chunks: number[];
  end: unknown;
  byService: unknown;
}

async function outcome(file: string, options: TapMapOptions): Promise<Outcome> {
  const out: Outcome = { records: [], rejects: [], charges: [], chunks: [], end: undefined, byService: undefined };
  try {
    const mapper = await TapMapper.open(file, options);
    for await (const c of mapper.chunks()) {
      out.records.push(...c.records);
      out.rejects.push(...c.rejects);
      out.charges.push(...c.charges);
      out.chunks.push(c.bytesRead);
    }
    out.end = mapper.summary();
    out.byService = [[...mapper.recordsByService], [...mapper.chargeByService], [...mapper.rejectsByCode]];
  } catch (error) {
    out.end = error instanceof Error ? `${error.name}: ${error.message}` : error;
  }
  return out;
}

/** Maps `file` the fast way and the full way; they must agree on every record, reject, charge and the audit. */
async function bothWays(file: string, options: TapMapOptions): Promise<Outcome> {
  // Each way claims the accepted ids in its own copy of the period's set.
  const ids = () => {
    if (options.seenIds === undefined) return undefined;
    const copy = new RecordIdSet({ withValues: true });
    copy.addAll(options.seenIds);
    return copy;
  };
  const fast = await outcome(file, { ...options, decoder: "fast", seenIds: ids() });
  const full = await outcome(file, { ...options, decoder: "full", seenIds: ids() });
  expect(fast.records.length).to.equal(full.records.length, `records of ${file}`);
  // Compared as JSON first (deep-equal on 100,000s of records is slow), then the first that differs, to show it.
  for (const key of ["records", "charges"] as const) {
    const i = full[key].findIndex((r, k) => JSON.stringify(r) !== JSON.stringify(fast[key][k]));
    if (i >= 0) expect(fast[key][i]).to.deep.equal(full[key][i], `${key} ${i + 1}`);
  }
  expect(fast.rejects).to.deep.equal(full.rejects);
  expect(fast.chunks).to.deep.equal(full.chunks);
  expect(fast.end).to.deep.equal(full.end);
  expect(fast.byService).to.deep.equal(full.byService);
  return full;
}

const NOV_2026 = 202611;
const pairOptions: TapMapOptions = { home: PAIR.home, visited: PAIR.visited, period: NOV_2026, chunkEvents: 5 };

/** A call event of `spec` with groups the generator does not write: taxes, a discount, a CAMEL fee, a second charge. */
function withAmounts(kind: "mobileOriginatedCall" | "gprsCall"): Buffer {
  const base = encodeCallEvent(event(kind === "gprsCall" ? { kind, volumeIncoming: 100, volumeOutgoing: 50 } : { exchangeRateCode: 1 }));
  const tag = kind === "gprsCall" ? T.GprsCall : T.MobileOriginatedCall;
  // The call event's content after its identifier and length (short or long form).
  const lengthAt = tag > 30 ? 2 : 1;
  const skip = base[lengthAt] < 0x80 ? 1 : 1 + (base[lengthAt] & 0x7f);
  const content = base.subarray(lengthAt + skip);
  return ber.seq(tag, [
    content,
    ber.seq(T.TaxInformation, [ber.int(T.TaxCode, 1), ber.int(T.TaxValue, 17), ber.int(T.TaxableAmount, 100)]),
    ber.seq(T.TaxInformation, [ber.int(T.TaxCode, 2), ber.int(T.TaxValue, 3)]),
    ber.seq(T.DiscountInformation, [ber.int(T.DiscountCode, 2), ber.int(T.Discount, 5)]),
    ber.int(T.CamelInvocationFee, 9),
    ber.seq(T.ChargeInformation, [
      ber.int(T.ExchangeRateCode, 2),
      ber.seq(T.ChargeDetail, [ber.str(T.ChargeType, "01"), ber.int(T.Charge, 40)]),
      ber.seq(T.ChargeDetail, [ber.str(T.ChargeType, "00"), ber.int(T.Charge, 7)]),
    ]),
  ]);
}

/** Call events of every outcome: accepted, rejected for each reason, not billable, with problems. */
function variedFile(): Buffer {
  const specs = [
    event(),
    event({ kind: "mobileTerminatedCall", teleService: "12", offsetCode: 1 }),
    event({ teleService: "21", duration: 0 }),
    event({ teleService: "22", duration: 5 }),
    event({ kind: "gprsCall", teleService: undefined, volumeIncoming: 10, volumeOutgoing: 20, recEntityCode: 1 }),
    event({ offsetCode: 7 }),
    event({ local: "20261031235959", offsetCode: 1 }),
    event({ local: "20261130235959" }),
    event({ local: "20261201003000" }),
    event({ local: "20261131100000" }),
    event({ local: "2026110410000" }),
    event({ imsi: "208011234567890" }),
    event({ imsi: "26201123456789" }),
    event({ duration: -5 }),
    event({ kind: "gprsCall", volumeIncoming: -1, volumeOutgoing: 0 }),
    event({ kind: "gprsCall", volumeIncoming: 2 ** 45, volumeOutgoing: 0 }),
    event({ teleService: "11", duration: 10 ** 7 }),
    event({ teleService: "61" }),
    event({ teleService: "" }),
    event({ chargedItem: "D", chargeableUnits: 60, exchangeRateCode: 1 }),
  ];
  const extra = [withAmounts("mobileOriginatedCall"), withAmounts("gprsCall"), withoutImsi(event())];
  return buildTap(specs, { extra, auditCount: specs.length + extra.length });
}

describe("the TAP mapping's fast path agrees with the full decoder (lib/tap/fastMap.ts, fastWalk.ts)", function () {
  this.timeout(300_000);

  it("offsetMinutes reads +hhmm / -hhmm as toUtc does", () => {
    expect([offsetMinutes("+0100"), offsetMinutes("-0530"), offsetMinutes("+1400"), offsetMinutes("+0000")]).to.deep.equal([
      60, -330, 840, 0,
    ]);
    for (const bad of ["+1500", "0100", "+01:00", "+0160", "", "+100"]) expect(offsetMinutes(bad)).to.be.NaN;
  });

  it("the public sample, for each home network in it, and the sample with its audit corrected", async () => {
    for (const home of ["0x31f317", "0x32f223", PAIR.home] as Hex[]) {
      const options = { home, visited: PAIR.visited, period: 201403 };
      await bothWays(sample("tap_3_12_valid.ber"), options);
      const m = await bothWays(tempFile(sampleWithTotal()), options);
      expect(m.end).to.have.property("callEvents").that.is.above(0);
    }
  });

  it("call events of every outcome: records, each reject, taxes, discounts, CAMEL fees, exchange rates; and earlier ids", async () => {
    const file = tempFile(variedFile());
    // One call event a chunk: the file is refused at its end (its audit), after every chunk but the last, empty one.
    const m = await bothWays(file, { ...pairOptions, chunkEvents: 1 });
    expect(m.records.length).to.be.within(5, 12);
    expect(new Set(m.rejects.map((r) => r.code)).size).to.be.at.least(6);
    // The audit adds taxes and discounts the AuditControlInfo does not declare: refused the same way, with the same sums.
    expect(m.end).to.match(/TAP_AUDIT|AuditControlInfo/);
    expect(m.charges.some((c) => c.tax === 20 && c.discount === 5)).to.equal(true);
    const seen = new RecordIdSet({ withValues: true });
    seen.add("TAP-FRAF1-00001-1");
    seen.add("TAP-FRAF1-00001-5");
    const again = await bothWays(file, { ...pairOptions, chunkEvents: 1, seenIds: seen });
    expect(again.rejects.filter((r) => r.code === "DUPLICATE_RECORD_ID").map((r) => r.line)).to.deep.equal([1, 5]);
    // The accepted ids join the period's set (saved after an ingest): the CSV usage:tap makes of the file is then refused.
    for (const decoder of ["fast", "full"] as const) {
      const period = new RecordIdSet({ withValues: true });
      period.addAll(seen);
      const taken = await outcome(file, { ...pairOptions, chunkEvents: 1, seenIds: period, decoder });
      expect(period.size).to.equal(2 + taken.records.length, decoder);
      for (const r of taken.records) expect(period.has(r.recordId), r.recordId).to.equal(true);
    }
  });

  it("400 copies of a file with one byte changed each: the same records, rejects, charges, or the same refusal", async () => {
    const bytes = buildTap(
      Array.from({ length: 12 }, (_, i) =>
        i % 4 === 3
          ? event({ kind: "gprsCall", volumeIncoming: 100 * i, volumeOutgoing: 7 * i, exchangeRateCode: 1 })
          : event({ duration: 10 + i, teleService: i % 3 === 0 ? "21" : "11", charge: 100 + i }),
      ),
    );
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "roamledger-fastmap-"));
    let seed = 17;
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const from = bytes.indexOf(Buffer.from(IMSI.slice(0, 6), "hex")) - 40;
    const outcomes = new Set<string>();
    for (let k = 0; k < 400; k++) {
      const copy = Buffer.from(bytes);
      copy[from + random(copy.length - from)] = random(256);
      const file = path.join(dir, `CDFRAF1DEUD1${String(k).padStart(5, "0")}`);
      fs.writeFileSync(file, copy);
      const m = await bothWays(file, pairOptions);
      outcomes.add(typeof m.end === "string" ? m.end.slice(0, 60) : `${m.records.length} records, ${m.rejects.length} rejects`);
      fs.rmSync(file);
    }
    expect(outcomes.size).to.be.at.least(3, [...outcomes].join("; "));
    expect([...outcomes].some((o) => o.startsWith("12 records"))).to.equal(true);
    expect([...outcomes].some((o) => /^1\d? records, [1-9]/.test(o))).to.equal(true, "some changes make a call event rejected");
  });

  it("2 x 150,000 generated call events (usage:generate --format tap's writer), some of another home, some outside the period", async () => {
    const home = parsePlmn("262-01") as Hex;
    const visited = parsePlmn("724-05") as Hex;
    const count = 150_000;
    function* records(): Generator<ParsedRecord> {
      const base = Date.UTC(2026, 10, 1) / 1000;
      for (let i = 1; i <= count; i++) {
        const kind = i % 3;
        yield {
          line: i,
          recordId: tapRecordId("BRA05", "00001", i),
          imsi: `${i % 101 === 0 ? "20801" : "26201"}${String(1_000_000_000 + (i % 200_000))}`,
          home,
          visited,
          service: SERVICES.indexOf(kind === 0 ? "data" : kind === 1 ? "voice" : "sms"),
          rat: RATS.indexOf("lte"),
          // From an hour before the period to an hour after it: the first and last call events are outside.
          startTime: base - 3600 + Math.floor((i / count) * (2_592_000 + 7200)),
          duration: kind === 2 ? 0 : 1 + (i % 3600),
          bytesUp: kind === 0 ? 500 + ((i * 7) % 1_000_000) : 0,
          bytesDown: kind === 0 ? 2000 + ((i * 13) % 50_000_000) : 0,
          events: kind === 2 ? 1 : 0,
          latencyMs: 0,
          throughputKbps: 0,
        };
      }
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "roamledger-fastmap-"));
    try {
      for (const utcOffset of ["+0530", "-0300"]) {
        const file = path.join(dir, `CDBRA05DEU0100001${utcOffset}`);
        await writeTapFile(file, records(), { sender: "BRA05", recipient: "DEU01", fileSequenceNumber: 1, utcOffset });
        const m = await bothWays(file, { home, visited, period: NOV_2026 });
        expect(m.records.length + m.rejects.length).to.equal(count);
        expect(m.rejects.filter((r) => r.code === "WRONG_HOME_PLMN")).to.have.length(Math.floor(count / 101));
        expect(m.rejects.filter((r) => r.code === "OUTSIDE_PERIOD").length).to.be.above(10);
        expect(m.end).to.have.nested.property("audit.ok", true);
        fs.rmSync(file);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
