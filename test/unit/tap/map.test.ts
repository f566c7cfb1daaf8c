import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { TapMapper, type TapChunk, type TapMapOptions, tadigPartyCheck, tapRaw, looksLikeBer } from "../../../lib/tap/map";
import { TapFileRefused } from "../../../lib/tap/refusal";
import { TapSequenceLog } from "../../../lib/tap/sequenceLog";
import { ber, integerContent, tlv } from "../../../lib/tap/berEncode";
import { T } from "../../../lib/tap/tags";
import { RecordIdSet } from "../../../lib/usage/recordIdSet";
import { parseUsageFile } from "../../../lib/usage/parse";
import { SERVICE_DATA, SERVICE_SMS, SERVICE_VOICE, type ParsedRecord, type Reject } from "../../../lib/usage/types";
import type { Hex } from "../../../lib/util/hex";
import { sample } from "./samples";
import { buildTap, event, IMSI, PAIR, sampleWithTotal, tempFile, withoutImsi } from "./tapFiles";

const NOV_2026 = 202611;
const utc = (iso: string) => Date.parse(iso) / 1000;
const registry = new Map<string, Hex>([
  [PAIR.visitedTadig, PAIR.visited],
  [PAIR.homeTadig, PAIR.home],
  ["ITAXX", "0x22f210"],
]);
const parties = (file?: string) => tadigPartyCheck(async (code) => registry.get(code), { ...PAIR, file });

interface Mapped {
  records: ParsedRecord[];
  rejects: Reject[];
  charges: TapChunk["charges"];
  chunks: number;
  mapper: TapMapper;
}

/** Opens `file` for the test pair and November 2026, with the party check (options override). */
function open(file: string, options: Partial<TapMapOptions>): Promise<TapMapper> {
  return TapMapper.open(file, { home: PAIR.home, visited: PAIR.visited, period: NOV_2026, checkParties: parties(file), ...options });
}

async function mapFile(file: string, options: Partial<TapMapOptions> = {}): Promise<Mapped> {
  const mapper = await open(file, options);
  const out: Mapped = { records: [], rejects: [], charges: [], chunks: 0, mapper };
  for await (const c of mapper.chunks()) {
    out.records.push(...c.records);
    out.rejects.push(...c.rejects);
    out.charges.push(...c.charges);
    out.chunks++;
  }
  return out;
}

/** The TapFileRefused `run` fails with, and how many chunks it yielded before. */
async function refused(file: string, options: Partial<TapMapOptions> = {}): Promise<{ error: TapFileRefused; chunks: number }> {
  let chunks = 0;
  try {
    const mapper = await open(file, options);
    for await (const _ of mapper.chunks()) chunks++;
  } catch (error) {
    expect(error).to.be.instanceOf(TapFileRefused);
    return { error: error as TapFileRefused, chunks };
  }
  throw new Error("expected TapFileRefused");
}

describe("lib/tap/map: TAP call events to usage records", () => {
  describe("the public sample (TotalCharge corrected to 71200)", () => {
    const file = tempFile(sampleWithTotal(), "CDWERFDXLKJE31707");
    // The sample's sender WERFD and recipient XLKJE; its subscribers are 133-71's and 232-32's.
    const sampleOptions = (home: Hex): Partial<TapMapOptions> => ({ home, visited: PAIR.visited, period: 201403, checkParties: undefined });

    it("maps the MT call of 133-71's subscriber to voice, the others are of another home; the supplementary-service event is NOT_BILLABLE", async () => {
      const m = await mapFile(file, sampleOptions("0x31f317"));
      expect(m.records).to.deep.equal([
        {
          line: 1,
          recordId: "TAP-WERFD-31707-1",
          imsi: "133713371337133",
          home: "0x31f317",
          visited: PAIR.visited,
          service: SERVICE_VOICE,
          rat: 2,
          startTime: utc("2014-03-01T12:03:42Z"),
          duration: 153,
          bytesUp: 0,
          bytesDown: 0,
          events: 0,
          latencyMs: 0,
          throughputKbps: 0,
        },
      ]);
      expect(m.rejects.map((r) => [r.line, r.code, r.raw])).to.deep.equal([
        [2, "WRONG_HOME_PLMN", "MobileOriginatedCall at byte 383"],
        [3, "WRONG_HOME_PLMN", "GprsCall at byte 508"],
        [4, "NOT_BILLABLE", "SupplServiceEvent at byte 655"],
      ]);
      expect(m.charges).to.deep.equal([
        {
          recordId: "TAP-WERFD-31707-1",
          kind: "mobileTerminatedCall",
          tag: 10,
          offset: 258,
          service: SERVICE_VOICE,
          charge: 2300,
          tax: 0,
          discount: 0,
          // The sample's ChargeInformation names no ExchangeRateCode (its AccountingInfo defines code 1).
          exchangeRateCode: undefined,
          exchangeRate: undefined,
          exchangeRateDecimalPlaces: undefined,
        },
      ]);
      expect(m.mapper.summary().audit.ok).to.equal(true);
      expect(m.mapper.header).to.include({ sender: "WERFD", recipient: "XLKJE", fileSequenceNumber: "31707" });
    });

    it("maps the MO call to voice and the GPRS call to data (up = outgoing, down = incoming) in UTC", async () => {
      const m = await mapFile(file, sampleOptions("0x32f223"));
      const base = { home: "0x32f223", visited: PAIR.visited, rat: 2, latencyMs: 0, throughputKbps: 0, imsi: "232323232323232" };
      expect(m.records).to.deep.equal([
        {
          ...base,
          line: 2,
          recordId: "TAP-WERFD-31707-2",
          service: SERVICE_VOICE,
          startTime: utc("2014-03-01T13:02:00Z"),
          duration: 213,
          bytesUp: 0,
          bytesDown: 0,
          events: 0,
        },
        {
          ...base,
          line: 3,
          recordId: "TAP-WERFD-31707-3",
          service: SERVICE_DATA,
          startTime: utc("2014-03-01T13:08:00Z"),
          duration: 500,
          bytesUp: 2_200_000_000,
          bytesDown: 1_200_000_000,
          events: 0,
        },
      ]);
      expect(m.charges.map((c) => c.charge)).to.deep.equal([2300, 66600]);
      expect(m.rejects.map((r) => [r.line, r.code])).to.deep.equal([
        [1, "WRONG_HOME_PLMN"],
        [4, "NOT_BILLABLE"],
      ]);
    });

    it("the sample as published (TotalCharge 2300) yields its records, then is refused with TAP_AUDIT naming the AuditControlInfo's byte", async () => {
      const { error, chunks } = await refused(sample("tap_3_12_valid.ber"), sampleOptions("0x31f317"));
      expect(error.code).to.equal("TAP_AUDIT");
      expect(error.offset).to.equal(740);
      expect(error.message).to.contain("TotalCharge is 2300, the call events add up to 71200");
      expect(chunks).to.equal(0);
    });
  });

  describe("call events of the pair's files", () => {
    it("voice by teleservice 11, SMS by 21/22 (one message each), data by GprsCall, other teleservices NOT_BILLABLE", async () => {
      const file = tempFile(
        buildTap([
          event(),
          event({ kind: "mobileTerminatedCall", teleService: "21", duration: 0 }),
          event({ teleService: "22", duration: 3 }),
          event({ kind: "gprsCall", volumeIncoming: 5000, volumeOutgoing: 700, duration: 30 }),
          event({ teleService: "62" }),
        ]),
      );
      const m = await mapFile(file, { rat: 3 });
      expect(m.records.map((r) => [r.recordId, r.service, r.duration, r.events, r.bytesUp, r.bytesDown, r.rat, r.startTime])).to.deep.equal(
        [
          ["TAP-FRAF1-00001-1", SERVICE_VOICE, 60, 0, 0, 0, 3, utc("2026-11-04T09:00:00Z")],
          ["TAP-FRAF1-00001-2", SERVICE_SMS, 0, 1, 0, 0, 3, utc("2026-11-04T09:00:00Z")],
          ["TAP-FRAF1-00001-3", SERVICE_SMS, 0, 1, 0, 0, 3, utc("2026-11-04T09:00:00Z")],
          ["TAP-FRAF1-00001-4", SERVICE_DATA, 30, 0, 700, 5000, 3, utc("2026-11-04T09:00:00Z")],
        ],
      );
      expect(m.rejects).to.have.length(1);
      expect(m.rejects[0]).to.deep.include({ line: 5, code: "NOT_BILLABLE", raw: m.rejects[0].raw });
      expect(m.rejects[0].reason).to.match(/TeleServiceCode 62/);
    });

    it("each severe check rejects that call event alone, with its position and `<kind> at byte <offset>`", async () => {
      const specs = [
        event({ offsetCode: 7 }), // 1: unknown UtcTimeOffsetCode
        event({ local: "20261031235959", offsetCode: 1 }), // 2: -0500 -> 2026-11-01T04:59:59Z, inside
        event({ local: "20261031175959" }), // 3: +0100 -> October, outside
        event({ kind: "gprsCall", volumeIncoming: -5, volumeOutgoing: 10 }), // 4: negative volume
        event({ imsi: "208011234567890" }), // 5: another home's subscriber
        event({ local: "20261131100000" }), // 6: no 31 November
        event({ duration: 0 }), // 7: voice of 0 seconds (rules.ts: inconsistent)
        event({ kind: "gprsCall", volumeIncoming: 900_000_000_000, volumeOutgoing: 200_000_000_000 }), // 8: absurd
        event(), // 9: fine
      ];
      const auditCharge = 100 * (specs.length + 1);
      const file = tempFile(buildTap(specs, { extra: [withoutImsi(event())], auditCharge })); // 10: no IMSI
      const m = await mapFile(file);
      expect(m.records.map((r) => r.line)).to.deep.equal([2, 9]);
      const codes = m.rejects.map((r) => [r.line, r.code]);
      expect(codes).to.deep.equal([
        [1, "INVALID_TIMESTAMP"],
        [3, "OUTSIDE_PERIOD"],
        [4, "NEGATIVE_VOLUME"],
        [5, "WRONG_HOME_PLMN"],
        [6, "INVALID_TIMESTAMP"],
        [7, "INCONSISTENT_RECORD"],
        [8, "ABSURD_VOLUME"],
        [10, "INVALID_IMSI"],
      ]);
      for (const r of m.rejects) expect(r.raw).to.match(/^(MobileOriginatedCall|GprsCall) at byte \d+$/);
      expect(m.rejects[0].reason).to.contain("UtcTimeOffsetCode 7");
      expect(m.mapper.summary().callEvents).to.equal(10);
    });

    it("yields chunks of `chunkEvents` call events, and a record id claimed by an earlier file is a DUPLICATE_RECORD_ID", async () => {
      const file = tempFile(buildTap(Array.from({ length: 10 }, () => event())));
      const m = await mapFile(file, { chunkEvents: 3 });
      expect(m.chunks).to.equal(4);
      expect(m.records).to.have.length(10);
      const seen = new RecordIdSet({ withValues: true });
      seen.add("TAP-FRAF1-00001-4");
      const again = await mapFile(file, { seenIds: seen });
      expect(again.rejects.map((r) => [r.line, r.code])).to.deep.equal([[4, "DUPLICATE_RECORD_ID"]]);
    });
  });

  describe("file-level checks refuse the whole file before a record (the audit after the last)", () => {
    const ok = [event(), event({ kind: "gprsCall", volumeIncoming: 10, volumeOutgoing: 10 })];

    it("sender or recipient not registered, or not this pair's members", async () => {
      const cases: [Partial<Parameters<typeof buildTap>[1]>, string, RegExp][] = [
        [{ sender: "ZZZZ1" }, "TAP_SENDER", /sender TADIG code ZZZZ1 is not registered/],
        [{ sender: "ITAXX" }, "TAP_SENDER", /ITAXX is 222-01's, not the visited/],
        [{ recipient: "ZZZZ2" }, "TAP_RECIPIENT", /recipient TADIG code ZZZZ2 is not registered/],
        [{ recipient: PAIR.visitedTadig }, "TAP_RECIPIENT", /FRAF1 is 208-01's, not the home/],
      ];
      for (const [build, code, message] of cases) {
        const { error, chunks } = await refused(tempFile(buildTap(ok, build)));
        expect(error.code, code).to.equal(code);
        expect(error.message).to.match(message);
        expect(chunks).to.equal(0);
      }
    });

    it("a TAP 3.11 file is TAP_VERSION, a truncated file or a RAP file TAP_STRUCTURE, with the byte offset", async () => {
      const v311 = await refused(tempFile(buildTap(ok, { release: 11 })));
      expect(v311.error.code).to.equal("TAP_VERSION");
      expect(v311.error.message)
        .to.match(/a TAP 3\.11 file/)
        .and.match(/byte \d+/);
      const whole = buildTap(ok);
      const cut = await refused(tempFile(whole.subarray(0, whole.length - 20)));
      expect(cut.error.code).to.equal("TAP_STRUCTURE");
      const rap = await refused(sample("rap_mini.ber"));
      expect(rap.error.code).to.equal("TAP_STRUCTURE");
      expect(rap.error.message).to.match(/RAP ReturnBatch/);
      expect(looksLikeBer(fs.readFileSync(sample("rap_mini.ber")))).to.equal(true);
      expect(looksLikeBer(Buffer.from("recordId,imsi\n"))).to.equal(false);
      // 0x61 and 0x62 are "a" and "b": text starting with them is not BER unless the short length gives the size.
      for (const text of ["abc,def\n", "b,c\n", "a\u00e9\n"])
        expect(looksLikeBer(Buffer.from(text), Buffer.byteLength(text)), text).to.equal(false);
      expect(looksLikeBer(Buffer.from([0x61, 0x03, 0x64, 0x01, 0x00]), 5)).to.equal(true);
    });

    it("AuditControlInfo count or total charge not matching: TAP_AUDIT after the records", async () => {
      for (const build of [{ auditCount: 3 }, { auditCharge: 199 }]) {
        const { error } = await refused(tempFile(buildTap(ok, build)));
        expect(error.code).to.equal("TAP_AUDIT");
        expect(error.message).to.match(
          build.auditCount ? /CallEventDetailsCount is 3, the file has 2/ : /TotalCharge is 199, the call events add up to 200/,
        );
      }
    });

    it("a duplicate, a lower and a gapped file sequence number (TAP_SEQUENCE_*), the wrap from 99999 to 00001", async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "roamledger-tapseq-"));
      const log = () => TapSequenceLog.open(dir, PAIR.visitedTadig, PAIR.homeTadig);
      const file = (fsn: string) => tempFile(buildTap(ok, { fsn }));
      // The first file from a sender may have any number; it is recorded only when the caller says the import completed.
      await mapFile(file("99998"), { sequenceDir: dir });
      expect(log().last).to.equal(undefined);
      log().record("99998");
      expect((await refused(file("99998"), { sequenceDir: dir })).error.code).to.equal("TAP_SEQUENCE_DUPLICATE");
      expect((await refused(file("00005"), { sequenceDir: dir })).error.code).to.equal("TAP_SEQUENCE_ORDER");
      log().record("99999");
      const gap = await refused(file("00002"), { sequenceDir: dir });
      expect(gap.error.code).to.equal("TAP_SEQUENCE_ORDER");
      expect(gap.error.message).to.match(/00001 is expected next/);
      await mapFile(file("00001"), { sequenceDir: dir });
      log().record("00001");
      expect(log().imports.map((i) => i.fsn)).to.deep.equal(["00001"]);
      const lower = await refused(file("99999"), { sequenceDir: dir });
      expect(lower.error.code).to.equal("TAP_SEQUENCE_ORDER");
      expect((await refused(file("00001"), { sequenceDir: dir })).error.code).to.equal("TAP_SEQUENCE_DUPLICATE");
      expect(JSON.parse(fs.readFileSync(path.join(dir, "FRAF1-DEUD1.json"), "utf8")).wraps).to.equal(1);
    });
  });

  it("a Notification (a file with no call events) maps to nothing, after the same party and sequence checks", async () => {
    const long = (tag: number, local: string) =>
      tlv(tag, [tlv(T.LocalTimeStamp, Buffer.from(local)), tlv(T.UtcTimeOffset, Buffer.from("+0100"))]);
    const notification = (sender: string) =>
      tlv(T.Notification, [
        tlv(T.Sender, Buffer.from(sender)),
        tlv(T.Recipient, Buffer.from(PAIR.homeTadig)),
        tlv(T.FileSequenceNumber, Buffer.from("00043")),
        long(T.FileAvailableTimeStamp, "20261201120000"),
        long(T.TransferCutOffTimeStamp, "20261201000000"),
        tlv(T.SpecificationVersionNumber, integerContent(3)),
        tlv(T.ReleaseVersionNumber, integerContent(12)),
      ]);
    const m = await mapFile(tempFile(notification(PAIR.visitedTadig)));
    expect([m.records, m.rejects, m.chunks]).to.deep.equal([[], [], 1]);
    expect(m.mapper.header).to.include({ kind: "notification", fileSequenceNumber: "00043" });
    expect(m.mapper.summary().audit.ok).to.equal(true);
    expect((await refused(tempFile(notification("ITAXX")))).error.code).to.equal("TAP_SENDER");
  });

  it("the CSV reader refuses a TAP file given as text, pointing to usage:ingest and usage:tap", async () => {
    const file = tempFile(buildTap([event()]), "usage.csv");
    let message = "";
    try {
      for await (const _ of parseUsageFile(file, { home: PAIR.home, visited: PAIR.visited, period: NOV_2026 })) {
      }
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).to.match(/usage\.csv:1: the file is BER \(a TAP, RAP or NRTRDE file\)[\s\S]*usage:tap/);
  });

  it("tapRaw names the call event by kind, or its tag when unknown", () => {
    expect(tapRaw({ kind: "gprsCall", tag: T.GprsCall, offset: 508 })).to.equal("GprsCall at byte 508");
    expect(tapRaw({ kind: "unknown", tag: 999, offset: 12 })).to.equal("APPLICATION 999 at byte 12");
    expect(ber.int(T.Charge, 1)).to.be.instanceOf(Buffer);
    expect(IMSI).to.have.length(15);
  });
});
