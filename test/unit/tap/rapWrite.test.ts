/**
 * lib/tap/rapEncode: the RAP 1.5 ReturnBatch written for a TAP file's rejects, read back by lib/tap/rap's
 * readRap (the same decoder that reads partners' RAP files): every RapBatchControlInfo field, the returned
 * call events equal to the TAP file's bytes, the error details, the audit; fatal returns; rejects files
 * that do not belong to the TAP file.
 */
import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { InputError } from "../../../lib/core/errors";
import { ber, tlv } from "../../../lib/tap/berEncode";
import { readRap, type RapReturn, type RapReturnBatch } from "../../../lib/tap/rap";
import { rawElement, writeReturnBatch } from "../../../lib/tap/rapEncode";
import { readTapRejects, type TapRejects } from "../../../lib/tap/rapRejects";
import { T } from "../../../lib/tap/tags";
import { encodeAuditControl, encodeCallEvent, type TapEventSpec } from "../../../lib/tap/tapEncode";
import { BerReader } from "../../../lib/tap/ber";
import { chunks, sample } from "./samples";

const NOW = new Date("2026-12-05T03:00:00Z");

/** The items of a BatchControlInfo (or a Notification) from BRAVO to ALPHA. */
function controlItems(fsn: string, release = 12): Buffer[] {
  const time = (tag: number) => ber.seq(tag, [ber.str(T.LocalTimeStamp, "20261201080000"), ber.str(T.UtcTimeOffset, "+0100")]);
  return [
    ber.str(T.Sender, "BRAVO"),
    ber.str(T.Recipient, "ALPHA"),
    ber.str(T.FileSequenceNumber, fsn),
    time(T.FileCreationTimeStamp),
    time(T.TransferCutOffTimeStamp),
    time(T.FileAvailableTimeStamp),
    ber.int(T.SpecificationVersionNumber, 3),
    ber.int(T.ReleaseVersionNumber, release),
  ];
}

/** A TransferBatch like a visited network's billing system writes (test data: FileTypeIndicator "T"). */
function tapFile(events: Buffer[], options: { release?: number; totalCharge?: number } = {}) {
  const bci = ber.seq(T.BatchControlInfo, [...controlItems("00042", options.release), ber.str(T.FileTypeIndicator, "T")]);
  const acc = ber.seq(T.AccountingInfo, [ber.str(T.LocalCurrency, "EUR"), ber.str(T.TapCurrency, "EUR"), ber.int(T.TapDecimalPlaces, 3)]);
  const net = ber.seq(T.NetworkInfo, [
    ber.seq(234, [ber.seq(T.UtcTimeOffsetInfo, [ber.int(T.UtcTimeOffsetCode, 1), ber.str(T.UtcTimeOffset, "+0100")])]),
  ]);
  const list = ber.seq(T.CallEventDetailList, events);
  const aci = encodeAuditControl(events.length, options.totalCharge ?? 0);
  const bytes = ber.seq(T.TransferBatch, [bci, acc, net, list, aci]);
  const at = (part: Buffer) => bytes.indexOf(part);
  return { bytes, bci, aci, offsets: events.map(at) };
}

const EVENTS: TapEventSpec[] = [
  { kind: "mobileOriginatedCall", imsi: "262011234567890", local: "20261130233000", offsetCode: 1, duration: 120, charge: 1500 },
  {
    kind: "mobileTerminatedCall",
    imsi: "262011234567891",
    local: "20261201101010",
    offsetCode: 1,
    duration: 0,
    teleService: "21",
    charge: 100,
  },
  {
    kind: "gprsCall",
    imsi: "262011234567892",
    local: "20261202121212",
    offsetCode: 9,
    duration: 600,
    volumeIncoming: 5_000_000,
    volumeOutgoing: 200_000,
    charge: 42_000,
  },
];

let dir: string;
function write(name: string, content: string | Buffer): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}

async function rejectsOf(rows: string[]): Promise<TapRejects> {
  return readTapRejects(write(`r${Math.random().toString(16).slice(2)}.rejects.csv`, `line,code,reason,raw\n${rows.join("\n")}\n`));
}

/** The TAP element at `offset` (identifier, length, content), found with the decoder. */
function elementAt(bytes: Buffer, offset: number): Buffer {
  const r = BerReader.fromBuffer(bytes.subarray(offset), { base: offset });
  const e = r.nextSync();
  if (e === null || typeof e === "symbol" || e.type !== "start") throw new Error(`no constructed element at ${offset}`);
  const el = r.readElementSync(e.header);
  if (typeof el === "symbol") throw new Error("short");
  return rawElement(e.header, el.content);
}

/** The ReturnBatch for a refused file: its one rejects row, the TAP file, the RAP file sequence number. */
async function fatalFor(row: string, tap: string | Buffer, sequence: string) {
  return writeReturnBatch({ rejects: await rejectsOf([row]), tap, rapFileSequenceNumber: sequence, now: NOW });
}

const severe = (r: RapReturn) => {
  if (r.kind !== "severe") throw new Error(`expected a severe return, got ${r.kind}`);
  return r;
};
const path1 = (r: RapReturn) =>
  r.kind === "severe" || r.kind === "fatal" ? r.errors.map((e) => [e.errorCode, e.context.map((c) => c.name).join("/")]) : [];

describe("lib/tap/rapEncode: RAP 1.5 ReturnBatch for a TAP file's rejects", () => {
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "roamledger-rap-"));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("writes severe returns that readRap reads back field by field, the call events copied byte for byte", async () => {
    const events = EVENTS.map(encodeCallEvent);
    const tap = tapFile(events, { totalCharge: 43_600 });
    const file = write("CDBRAVOALPHA00042", tap.bytes);
    const [mo, mt, gprs] = tap.offsets;
    const rejects = await rejectsOf([
      `1,OUTSIDE_PERIOD,callEventStartTimeStamp 2026-11-30T22:30:00Z is before 2026-12,MobileOriginatedCall at byte ${mo}`,
      `2,NOT_BILLABLE,not billed here,MobileTerminatedCall at byte ${mt}`,
      `3,INVALID_TIMESTAMP,UtcTimeOffsetCode 9 is not in the file's NetworkInfo,GprsCall at byte ${gprs}`,
      `3,UNKNOWN_DEVICE,imsi 262011234567892 is not a registered device,GprsCall at byte ${gprs}`,
    ]);
    const result = await writeReturnBatch({ rejects, tap: file, rapFileSequenceNumber: "00007", now: NOW, utcOffset: "+0100" });
    expect(result).to.deep.include({ sender: "ALPHA", recipient: "BRAVO", rapFileSequenceNumber: "00007", tapFileSequenceNumber: "00042" });
    expect(result).to.deep.include({ kind: "severe", returnDetails: 2, totalSevereReturnValue: 1500 + 42_000, notBillable: 1 });

    const rap = (await readRap(result.bytes)) as RapReturnBatch;
    const stamp = { local: "20261205040000", utcOffset: "+0100", utc: "2026-12-05T03:00:00Z" };
    expect(rap).to.deep.include({
      kind: "returnBatch",
      sender: "ALPHA",
      recipient: "BRAVO",
      rapFileSequenceNumber: "00007",
      rapFileCreation: stamp,
      rapFileAvailable: stamp,
      specificationVersion: 3,
      releaseVersion: 12,
      rapSpecificationVersion: 1,
      rapReleaseVersion: 5,
      fileTypeIndicator: "T",
      tapCurrency: "EUR",
      tapDecimalPlaces: 3,
      otherGroups: [],
    });
    expect(rap.returns.map((r) => r.kind)).to.deep.equal(["severe", "severe"]);
    const [first, third] = rap.returns.map(severe);
    for (const [r, offset, spec] of [
      [first, mo, EVENTS[0]],
      [third, gprs, EVENTS[2]],
    ] as const) {
      expect(r.fileSequenceNumber).to.equal("00042");
      const copied = elementAt(result.bytes, r.callEvent?.offset as number);
      expect(copied.equals(elementAt(tap.bytes, offset))).to.equal(true, "the returned call event is the TAP file's bytes");
      expect(r.callEvent).to.deep.include({ imsi: spec.imsi, duration: spec.duration, problems: [] });
      expect(r.callEvent?.start).to.deep.include({ local: spec.local, utcOffsetCode: spec.offsetCode });
      expect(r.charge).to.equal(spec.charge);
    }
    expect(first.callEvent?.kind).to.equal("mobileOriginatedCall");
    expect(third.callEvent).to.deep.include({ kind: "gprsCall", volumeIncoming: 5_000_000, volumeOutgoing: 200_000 });
    expect(path1(first)).to.deep.equal([[100, "MobileOriginatedCall/MoBasicCallInformation/CallEventStartTimeStamp"]]);
    expect(path1(third)).to.deep.equal([
      [100, "GprsCall/GprsBasicCallInformation/CallEventStartTimeStamp/UtcTimeOffsetCode"],
      [100, "GprsCall/GprsBasicCallInformation/GprsChargeableSubscriber/ChargeableSubscriber/SimChargeableSubscriber/Imsi"],
    ]);
    expect(third.errors[0].context.map((c) => c.itemLevel)).to.deep.equal([1, 2, 3, 4]);
    expect(rap.audit).to.deep.equal({
      offset: rap.audit?.offset,
      totalSevereReturnValue: 43_500,
      returnDetailsCount: 2,
      totalSevereReturnTax: undefined,
      problems: [],
    });

    // The same file read in chunks of 1 to 7 bytes decodes the same.
    expect(await readRap(chunks(result.bytes, [1, 3, 7]))).to.deep.equal(rap);
  });

  it("returns call events of the public TAP sample (definite and long-form lengths) unchanged", async () => {
    const bytes = fs.readFileSync(sample("tap_3_12_valid.ber"));
    const rejects = await rejectsOf([
      "1,INVALID_IMSI,imsi missing,MobileTerminatedCall at byte 258",
      "2,MISSING_FIELD,no TotalCallEventDuration,MobileOriginatedCall at byte 383",
      "3,NEGATIVE_VOLUME,DataVolumeOutgoing is negative (-5),GprsCall at byte 508",
      "4,NOT_BILLABLE,supplementary service,SupplServiceEvent at byte 655",
    ]);
    const result = await writeReturnBatch({
      rejects,
      tap: sample("tap_3_12_valid.ber"),
      rapFileSequenceNumber: "00001",
      now: NOW,
      utcOffset: "-0200",
    });
    const rap = (await readRap(result.bytes)) as RapReturnBatch;
    expect([rap.sender, rap.recipient, rap.tapDecimalPlaces]).to.deep.equal(["XLKJE", "WERFD", 3]);
    const [mt, mo, gprs] = rap.returns.map(severe);
    expect(elementAt(result.bytes, mt.callEvent?.offset as number).equals(bytes.subarray(258, 258 + 2 + 123))).to.equal(true);
    expect(elementAt(result.bytes, gprs.callEvent?.offset as number).equals(bytes.subarray(508, 508 + 3 + 144))).to.equal(true);
    // The sample's call events carry an IMSI: "missing" cannot apply, the IMSI item itself is named.
    expect(path1(mt)[0][1]).to.match(/^MobileTerminatedCall\/MtBasicCallInformation\/.*Imsi$/);
    expect(path1(mo)).to.deep.equal([[30, "MobileOriginatedCall/MoBasicCallInformation"]]);
    expect(path1(gprs)).to.deep.equal([[20, "GprsCall/GprsServiceUsed/DataVolumeOutgoing"]]);
    expect(rap.audit?.totalSevereReturnValue).to.equal(mt.charge + mo.charge + gprs.charge);
    expect([mt.charge, mo.charge, gprs.charge]).to.deep.equal([2300, 2300, 66_600]);
    expect(rap.audit?.problems).to.deep.equal([]);
  });

  it("copies an indefinite-length call event and a non-minimal length exactly", async () => {
    const mo = encodeCallEvent(EVENTS[0]);
    const content = mo.subarray(mo[1] & 0x80 ? 2 + (mo[1] & 0x7f) : 2);
    const indefinite = tlv(T.MobileOriginatedCall, [content], { indefinite: true });
    const longForm = Buffer.concat([Buffer.from([0x6a, 0x82, 0x00, content.length]), content]); // MobileTerminatedCall, length in 2 octets
    const tap = tapFile([indefinite, longForm]);
    const file = write("CDBRAVOALPHA00043", tap.bytes);
    const rejects = await rejectsOf([
      `1,INCONSISTENT_RECORD,voice with volume,MobileOriginatedCall at byte ${tap.offsets[0]}`,
      `2,INCONSISTENT_RECORD,voice with volume,MobileTerminatedCall at byte ${tap.offsets[1]}`,
    ]);
    const result = await writeReturnBatch({ rejects, tap: file, rapFileSequenceNumber: "00002", now: NOW, utcOffset: "+0000" });
    expect(result.bytes.indexOf(indefinite)).to.be.greaterThan(0);
    expect(result.bytes.indexOf(longForm)).to.be.greaterThan(0);
    const rap = (await readRap(result.bytes)) as RapReturnBatch;
    expect(rap.returns.map((r) => path1(r))).to.deep.equal([[[100, "MobileOriginatedCall"]], [[100, "MobileTerminatedCall"]]]);
  });

  it("writes a fatal return with the failed group copied from the TAP file", async () => {
    const events = EVENTS.map(encodeCallEvent);
    const bad = tapFile(events, { totalCharge: 99 });
    const file = write("CDBRAVOALPHA00044", bad.bytes);
    const audit = await fatalFor("0,TAP_AUDIT,TotalCharge is 99 the call events add up to 43600,file", file, "00003");
    const rap = (await readRap(audit.bytes)) as RapReturnBatch;
    expect(rap.returns).to.have.length(1);
    const fatal = rap.returns[0];
    expect(fatal).to.deep.include({ kind: "fatal", fileSequenceNumber: "00042", group: "AuditControlInfoError" });
    expect(path1(fatal)).to.deep.equal([[100, "TransferBatch/AuditControlInfo/TotalCharge"]]);
    expect(audit.bytes.indexOf(bad.aci)).to.be.greaterThan(0);
    expect(rap.audit).to.deep.include({ totalSevereReturnValue: 0, returnDetailsCount: 1, problems: [] });

    const sender = await fatalFor("0,TAP_SENDER,sender BRAVO is not a member,file", file, "00004");
    const bci = ((await readRap(sender.bytes)) as RapReturnBatch).returns[0];
    expect(bci).to.deep.include({ kind: "fatal", group: "BatchControlError" });
    expect(path1(bci)).to.deep.equal([[20, "TransferBatch/BatchControlInfo/Sender"]]);
    expect(sender.bytes.indexOf(bad.bci)).to.be.greaterThan(0);
  });

  it("returns a refused Notification with the Notification copied", async () => {
    const notification = ber.seq(T.Notification, controlItems("00046"));
    const result = await fatalFor("0,TAP_RECIPIENT,recipient ALPHA is not the home member,file", notification, "00008");
    const rap = (await readRap(result.bytes)) as RapReturnBatch;
    expect(rap.returns[0]).to.deep.include({ kind: "fatal", fileSequenceNumber: "00046", group: "NotificationError" });
    expect(path1(rap.returns[0])).to.deep.equal([[20, "Notification/Recipient"]]);
    expect(result.bytes.indexOf(notification)).to.be.greaterThan(0);
    expect(rap.tapDecimalPlaces).to.equal(undefined);
  });

  it("reads a rejects file strictly: one row for a refused file, known codes, TAP call events only", async () => {
    const refused = async (rows: string[]) => {
      try {
        await rejectsOf(rows);
      } catch (err) {
        expect(err).to.be.instanceOf(InputError);
        return (err as Error).message;
      }
      throw new Error("expected a refusal");
    };
    expect(await refused(["0,TAP_AUDIT,x,file", "3,INVALID_IMSI,x,GprsCall at byte 508"])).to.contain(
      "has a TAP_AUDIT row (the whole TAP file refused) and 1 other row(s)",
    );
    expect(await refused(["3,NO_SUCH_CODE,x,GprsCall at byte 508"])).to.contain('unknown reject code "NO_SUCH_CODE"');
    expect(await refused(["2,TAP_SENDER,x,file"])).to.contain("a TAP_SENDER reject must have line 0");
    expect(await refused(["3,INVALID_IMSI,x,GprsCall at byte 508", "3,OUTSIDE_PERIOD,x,GprsCall at byte 600"])).to.contain(
      'call event 3 is "GprsCall at byte 600" here and "GprsCall at byte 508" in an earlier row',
    );
    const merged = await rejectsOf([
      '3,INVALID_IMSI,"Imsi 0x12, not TBCD",GprsCall at byte 508',
      "3,OUTSIDE_PERIOD,before,GprsCall at byte 508",
    ]);
    expect(merged.kind === "severe" && merged.events.map((e) => e.rejects.map((r) => r.code))).to.deep.equal([
      ["INVALID_IMSI", "OUTSIDE_PERIOD"],
    ]);
  });

  it("returns a TAP 3.11 file (which the TAP reader refuses) and a truncated one as fatal", async () => {
    const old = tapFile(EVENTS.map(encodeCallEvent), { release: 11 });
    const version = await fatalFor("0,TAP_VERSION,a TAP 3.11 file: RoamLedger reads TAP 3.12 only,file", old.bytes, "00005");
    const v = (await readRap(version.bytes)) as RapReturnBatch;
    expect(v.releaseVersion).to.equal(11);
    expect(path1(v.returns[0])).to.deep.equal([[20, "TransferBatch/BatchControlInfo/ReleaseVersionNumber"]]);

    const good = tapFile(EVENTS.map(encodeCallEvent));
    const cut = good.bytes.subarray(0, good.offsets[2] + 10);
    const structure = await fatalFor("0,TAP_STRUCTURE,the input ends at byte 400,file", cut, "00006");
    const s = (await readRap(structure.bytes)) as RapReturnBatch;
    expect(s.returns[0]).to.deep.include({ kind: "fatal", group: "TransferBatchError" });
    expect(path1(s.returns[0])).to.deep.equal([[10, "TransferBatch"]]);
  });

  it("refuses rejects that do not belong to the TAP file, and a rejects file with nothing to return", async () => {
    const tap = tapFile(EVENTS.map(encodeCallEvent), { totalCharge: 43_600 });
    const file = write("CDBRAVOALPHA00045", tap.bytes);
    const refuse = async (rows: string[]) => {
      try {
        await writeReturnBatch({ rejects: await rejectsOf(rows), tap: file, rapFileSequenceNumber: "00001" });
      } catch (err) {
        expect(err).to.be.instanceOf(InputError);
        return (err as Error).message;
      }
      throw new Error("expected a refusal");
    };
    expect(await refuse([`2,INVALID_IMSI,x,GprsCall at byte ${tap.offsets[1]}`])).to.contain(
      `the rejects name call event 2 as GprsCall at byte ${tap.offsets[1]}, but the TAP file's call event 2 is MobileTerminatedCall`,
    );
    expect(await refuse([`1,INVALID_IMSI,x,MobileOriginatedCall at byte ${tap.offsets[0] + 1}`])).to.contain(
      "does not belong to this TAP file",
    );
    expect(await refuse(["9,INVALID_IMSI,x,GprsCall at byte 9000"])).to.contain("the TAP file has 3 call events");
    expect(await refuse(["0,TAP_AUDIT,TotalCharge,file"])).to.contain("this TAP file's audit matches its call events");
    expect(await refuse([`2,NOT_BILLABLE,x,MobileTerminatedCall at byte ${tap.offsets[1]}`])).to.contain("there is nothing to return");
    try {
      await rejectsOf(['3,INVALID_IMSI,imsi has 3 digits,"r1,262-01,724-05,1"']);
      throw new Error("expected a refusal");
    } catch (err) {
      expect((err as Error).message).to.contain("does not name a TAP call event");
    }
  });
});
