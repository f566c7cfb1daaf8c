import { expect } from "chai";
import fs from "node:fs";
import { tlv } from "../../../lib/tap/berEncode";
import { readRap } from "../../../lib/tap/rap";
import { T } from "../../../lib/tap/tags";
import { chunks, failure, findAll, parseXml, sample, textOf } from "./samples";

/** A DateTimeLong of the dump, as the decoder gives it (UTC worked out here independently). */
function stamp(xmlText: string, name: string) {
  const el = findAll(parseXml(xmlText), name)[0];
  const local = textOf(el, "LocalTimeStamp") as string;
  const offset = textOf(el, "UtcTimeOffset") as string;
  const [y, mo, d, h, mi, s] = [0, 4, 6, 8, 10, 12].map((i, k) => Number(local.slice(i, k === 0 ? 4 : i + 2)));
  const minutes = (offset[0] === "-" ? -1 : 1) * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(3, 5)));
  return {
    local,
    utcOffset: offset,
    utc: new Date(Date.UTC(y, mo - 1, d, h, mi, s) - minutes * 60_000).toISOString().replace(".000Z", "Z"),
  };
}

describe("lib/tap/rap: RAP 1.5 reader", () => {
  it("decodes the ReturnBatch sample to its dump", async () => {
    const text = fs.readFileSync(sample("rap_mini.xml"), "utf8");
    const xml = parseXml(text);
    for (const source of [sample("rap_mini.ber"), chunks(fs.readFileSync(sample("rap_mini.ber")), [1, 4, 7])]) {
      const rap = await readRap(source);
      expect(rap).to.deep.equal({
        kind: "returnBatch",
        sender: textOf(xml, "Sender"),
        recipient: textOf(xml, "Recipient"),
        rapFileSequenceNumber: textOf(xml, "RapFileSequenceNumber"),
        rapFileCreation: stamp(text, "RapFileCreationTimeStamp"),
        rapFileAvailable: stamp(text, "RapFileAvailableTimeStamp"),
        specificationVersion: Number(textOf(xml, "SpecificationVersionNumber")),
        releaseVersion: Number(textOf(xml, "ReleaseVersionNumber")),
        rapSpecificationVersion: Number(textOf(xml, "RapSpecificationVersionNumber")),
        rapReleaseVersion: Number(textOf(xml, "RapReleaseVersionNumber")),
        fileTypeIndicator: undefined,
        tapCurrency: textOf(xml, "TapCurrency"),
        tapDecimalPlaces: undefined,
        // The sample has only its control info: no return details, no RapAuditControlInfo.
        returns: [],
        audit: undefined,
        otherGroups: [],
      });
    }
    expect(await readRap(sample("rap_mini.ber"))).to.deep.include({
      sender: "ABC08",
      rapFileSequenceNumber: "00023",
      rapReleaseVersion: 5,
    });
  });

  it("decodes the Acknowledgement sample to its dump", async () => {
    const text = fs.readFileSync(sample("rap_ack.xml"), "utf8");
    const xml = parseXml(text);
    expect(await readRap(sample("rap_ack.ber"))).to.deep.equal({
      kind: "acknowledgement",
      sender: textOf(xml, "Sender"),
      recipient: textOf(xml, "Recipient"),
      rapFileSequenceNumber: textOf(xml, "RapFileSequenceNumber"),
      ackFileCreation: stamp(text, "AckFileCreationTimeStamp"),
      ackFileAvailable: stamp(text, "AckFileAvailableTimeStamp"),
      fileTypeIndicator: undefined,
    });
  });

  it("decodes missing and unknown return details, checks the audit, and skips unknown groups", async () => {
    const bytes = fs.readFileSync(sample("rap_mini.ber"));
    const control = bytes.subarray(4); // after the root's 4 header bytes
    const missing = tlv(T.MissingReturn, [
      tlv(T.StartMissingSeqNumber, Buffer.from("00010")),
      tlv(T.EndMissingSeqNumber, Buffer.from("00012")),
    ]);
    const strange = tlv(999, [tlv(998, Buffer.alloc(200, 1))]);
    const list = tlv(T.ReturnDetailList, [missing, strange]);
    const audit = tlv(T.RapAuditControlInfo, [
      tlv(T.TotalSevereReturnValue, Buffer.from([0])),
      tlv(T.ReturnDetailsCount, Buffer.from([3])),
    ]);
    const extra = tlv(600, [tlv(601, Buffer.alloc(10, 1))]);
    const batch = tlv(T.ReturnBatch, [control, list, audit, extra]);
    const rap = await readRap(batch);
    if (rap.kind !== "returnBatch") throw new Error("not a ReturnBatch");
    const listAt = 4 + control.length;
    expect(rap.returns).to.deep.equal([
      { kind: "missing", offset: batch.indexOf(missing), startMissingSeqNumber: "00010", endMissingSeqNumber: "00012" },
      { kind: "unknown", offset: batch.indexOf(strange), tag: 999, name: undefined },
    ]);
    expect(batch.indexOf(missing)).to.be.greaterThan(listAt);
    expect(rap.audit).to.deep.equal({
      offset: batch.indexOf(audit),
      totalSevereReturnValue: 0,
      returnDetailsCount: 3,
      totalSevereReturnTax: undefined,
      problems: [`ReturnDetailsCount is 3, the file has 2 return details (RapAuditControlInfo at byte ${batch.indexOf(audit)})`],
    });
    expect(rap.otherGroups).to.deep.equal([{ tag: 600, name: undefined, offset: batch.length - extra.length }]);
  });

  it("refuses a TAP file, a RAP of another release, and a truncated file, naming the byte offset", async () => {
    const tap = await failure(() => readRap(sample("tap_3_12_valid.ber")));
    expect(tap.message).to.contain(
      "(byte 0): the file starts with TransferBatch (APPLICATION 1), not a RAP ReturnBatch (APPLICATION 534) or Acknowledgement (APPLICATION 535) (it is a TAP file)",
    );

    const bytes = fs.readFileSync(sample("rap_mini.ber"));
    const at = bytes.indexOf(Buffer.from("5f841f0105", "hex"));
    bytes[at + 4] = 4;
    const old = await failure(() => readRap(bytes));
    expect(old.message).to.contain(`(byte ${at}): a RAP 1.4 file: RoamLedger reads RAP 1.5`);

    const cut = await failure(() => readRap(chunks(fs.readFileSync(sample("rap_ack.ber")).subarray(0, 60), [8])));
    expect(cut.message).to.match(/the input ends at byte 60.*Acknowledgement \(APPLICATION 535\) that starts at byte 0/);
  });
});
