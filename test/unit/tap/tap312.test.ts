import { expect } from "chai";
import fs from "node:fs";
import { type BerNode, parseTree } from "../../../lib/tap/ber";
import { END_OF_CONTENTS, encodeNodes, integerContent, openIndefinite, tlv } from "../../../lib/tap/berEncode";
import type { TapCallEvent } from "../../../lib/tap/callEvent";
import { TapFile } from "../../../lib/tap/tap312";
import { encodeAuditControl, encodeBatchHead, encodeCallEvent, type TapEventSpec } from "../../../lib/tap/tapEncode";
import { T } from "../../../lib/tap/tags";
import { chunks, collect, findAll, parseXml, sample, textOf, type XmlElement, failure } from "./samples";

const KINDS: Record<string, string> = {
  MobileOriginatedCall: "mobileOriginatedCall",
  MobileTerminatedCall: "mobileTerminatedCall",
  GprsCall: "gprsCall",
  SupplServiceEvent: "supplServiceEvent",
};

/** The test's own UTC conversion of the dump's local time and offset (+hhmm). */
function utcOf(local: string, offset: string): string {
  const [y, mo, d, h, mi, s] = [0, 4, 6, 8, 10, 12].map((i, k) => Number(local.slice(i, k === 0 ? 4 : i + 2)));
  const minutes = (offset[0] === "-" ? -1 : 1) * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(3, 5)));
  return new Date(Date.UTC(y, mo - 1, d, h, mi, s) - minutes * 60_000).toISOString().replace(".000Z", "Z");
}

/** What the XML dump says one call event holds, in the decoder's terms. */
function expectedEvent(el: XmlElement, position: number, offsets: Map<number, string>) {
  const num = (name: string) => (textOf(el, name) === undefined ? undefined : Number(textOf(el, name)));
  const stamp = findAll(el, "CallEventStartTimeStamp")[0] ?? findAll(el, "ChargingTimeStamp")[0];
  const local = textOf(stamp, "LocalTimeStamp") as string;
  const code = Number(textOf(stamp, "UtcTimeOffsetCode"));
  return {
    kind: KINDS[el.name],
    position,
    offset: Number(el.attrs.off),
    imsi: textOf(el, "Imsi"),
    start: { local, utcOffset: offsets.get(code), utcOffsetCode: code, utc: utcOf(local, offsets.get(code) as string) },
    duration: num("TotalCallEventDuration"),
    teleServiceCodes: findAll(el, "TeleServiceCode").map((t) => t.text),
    volumeIncoming: num("DataVolumeIncoming"),
    volumeOutgoing: num("DataVolumeOutgoing"),
    accessPointName: textOf(el, "AccessPointNameNI"),
    supplServiceCode: textOf(el, "SupplServiceCode"),
    charges: findAll(el, "ChargeInformation").flatMap((ci) =>
      findAll(ci, "ChargeDetail").map((cd) => ({
        chargedItem: textOf(ci, "ChargedItem"),
        chargeType: textOf(cd, "ChargeType"),
        charge: Number(textOf(cd, "Charge")),
      })),
    ),
  };
}

function comparable(ev: TapCallEvent) {
  return {
    kind: ev.kind,
    position: ev.position,
    offset: ev.offset,
    imsi: ev.imsi,
    start: ev.start,
    duration: ev.duration,
    teleServiceCodes: ev.teleServiceCodes,
    volumeIncoming: ev.volumeIncoming,
    volumeOutgoing: ev.volumeOutgoing,
    accessPointName: ev.accessPointName,
    supplServiceCode: ev.supplServiceCode,
    charges: ev.charges,
  };
}

async function readAll(source: Parameters<typeof TapFile.open>[0], options: Parameters<typeof TapFile.open>[1] = {}) {
  const tap = await TapFile.open(source, options);
  const events = await collect(tap.callEvents());
  return { tap, events, summary: tap.summary() };
}

/** The header of a generated batch. */
function batchHead(offsets: Map<number, string>) {
  return {
    sender: "DEUD1",
    recipient: "USAAT",
    fileSequenceNumber: "00042",
    created: "20260401000000",
    utcOffset: "+0000",
    currency: "SDR",
    tapDecimalPlaces: 5,
    offsets,
  };
}

/** The sample as a tree, to edit and re-encode with the encoder. */
function sampleTree(): BerNode[] {
  return parseTree(fs.readFileSync(sample("tap_3_12_valid.ber")), {});
}

function child(n: BerNode, tag: number): BerNode {
  const c = n.children?.find((x) => x.header.tag === tag);
  if (!c) throw new Error(`no tag ${tag}`);
  return c;
}

describe("lib/tap/tap312: TAP 3.12 decoder", () => {
  const xml = parseXml(fs.readFileSync(sample("tap_3_12_valid.xml"), "utf8"));

  it("decodes the sample's header exactly as its XML dump shows", async () => {
    const { tap } = await readAll(sample("tap_3_12_valid.ber"));
    const h = tap.header;
    expect(h.kind).to.equal("transferBatch");
    expect([h.sender, h.recipient, h.fileSequenceNumber]).to.deep.equal([
      textOf(xml, "Sender"),
      textOf(xml, "Recipient"),
      textOf(xml, "FileSequenceNumber"),
    ]);
    expect([h.specificationVersion, h.releaseVersion]).to.deep.equal([3, 12]);
    const created = findAll(xml, "FileCreationTimeStamp")[0];
    expect(h.fileCreation).to.deep.equal({
      local: textOf(created, "LocalTimeStamp"),
      utcOffset: textOf(created, "UtcTimeOffset"),
      utc: utcOf(textOf(created, "LocalTimeStamp") as string, textOf(created, "UtcTimeOffset") as string),
    });
    expect(h.accounting?.localCurrency).to.equal(textOf(xml, "LocalCurrency"));
    expect(h.accounting?.tapDecimalPlaces).to.equal(Number(textOf(xml, "TapDecimalPlaces")));
    const conversion = findAll(xml, "CurrencyConversion")[0];
    expect(h.accounting?.exchangeRates).to.deep.equal([
      {
        code: Number(textOf(conversion, "ExchangeRateCode")),
        numberOfDecimalPlaces: Number(textOf(conversion, "NumberOfDecimalPlaces")),
        rate: Number(textOf(conversion, "ExchangeRate")),
      },
    ]);
    const info = findAll(xml, "UtcTimeOffsetInfo").map((u) => [Number(textOf(u, "UtcTimeOffsetCode")), textOf(u, "UtcTimeOffset")]);
    expect([...h.utcOffsets]).to.deep.equal(info);
    expect(h.recEntities.map((r) => r.id)).to.deep.equal(findAll(xml, "RecEntityId").map((r) => r.text));
  });

  it("decodes every call event exactly as the XML dump shows (IMSI, UTC time, duration, volumes, charges)", async () => {
    const { events, summary } = await readAll(sample("tap_3_12_valid.ber"));
    const offsets = new Map(
      findAll(xml, "UtcTimeOffsetInfo").map((u) => [Number(textOf(u, "UtcTimeOffsetCode")), textOf(u, "UtcTimeOffset") as string]),
    );
    const list = findAll(xml, "CallEventDetailList")[0].children;
    expect(list.map((e) => e.name)).to.deep.equal(["MobileTerminatedCall", "MobileOriginatedCall", "GprsCall", "SupplServiceEvent"]);
    expect(JSON.parse(JSON.stringify(events.map(comparable)))).to.deep.equal(
      list.map((el, i) => JSON.parse(JSON.stringify(expectedEvent(el, i + 1, offsets)))),
    );
    expect(events[0].start?.utc).to.equal("2014-03-01T12:03:42Z");
    expect(events[2].volumeOutgoing).to.equal(2200000000);
    expect(events.every((e) => e.problems.length === 0)).to.equal(true);
    expect(summary.byKind).to.deep.equal({ mobileTerminatedCall: 1, mobileOriginatedCall: 1, gprsCall: 1, supplServiceEvent: 1 });
    expect(summary.unknownTags).to.equal(0);
  });

  it("checks AuditControlInfo: the sample's count matches, its TotalCharge does not (2300 declared, 71200 in the call events)", async () => {
    const { summary } = await readAll(sample("tap_3_12_valid.ber"));
    expect(summary.audit.declared?.callEventDetailsCount).to.equal(Number(textOf(xml, "CallEventDetailsCount")));
    expect(summary.audit.computed).to.deep.equal({
      callEvents: 4,
      totalCharge: 2300 + 2300 + 66600,
      totalTaxValue: 0,
      totalDiscountValue: 0,
    });
    expect(summary.audit.problems).to.deep.equal(["TotalCharge is 2300, the call events add up to 71200 (AuditControlInfo at byte 740)"]);
    expect(summary.audit.ok).to.equal(false);
  });

  it("passes the audit once TotalCharge is the call events' sum, and fails it for a copy with one call event removed", async () => {
    const tree = sampleTree();
    const aci = child(tree[0], T.AuditControlInfo);
    child(aci, T.TotalCharge).value = integerContent(71200);
    const fixed = await readAll(encodeNodes(tree));
    expect(fixed.summary.audit).to.include({ ok: true });
    expect(fixed.summary.audit.problems).to.deep.equal([]);

    child(tree[0], T.CallEventDetailList).children?.splice(1, 1); // the mobile-originated call
    const removed = await readAll(encodeNodes(tree));
    expect(removed.events.map((e) => e.kind)).to.deep.equal(["mobileTerminatedCall", "gprsCall", "supplServiceEvent"]);
    expect(removed.summary.audit.ok).to.equal(false);
    expect(removed.summary.audit.problems[0]).to.match(
      /^CallEventDetailsCount is 4, the file has 3 call events \(AuditControlInfo at byte \d+\)$/,
    );
    expect(removed.summary.audit.problems[1]).to.match(/^TotalCharge is 71200, the call events add up to 68900/);
  });

  it("decodes the same from chunks of 1 to 7 bytes as from the whole file", async () => {
    const bytes = fs.readFileSync(sample("tap_3_12_valid.ber"));
    const whole = await readAll(bytes);
    for (const size of [1, 2, 3, 4, 5, 6, 7]) {
      const part = await readAll(chunks(bytes, [size]));
      expect(part.events, `chunks of ${size}`).to.deep.equal(whole.events);
      expect(part.summary.audit).to.deep.equal(whole.summary.audit);
    }
  });

  it("skips and counts tags TAP 3.12 does not define, and resolves an unknown offset code to a call-level problem", async () => {
    const tree = sampleTree();
    const list = child(tree[0], T.CallEventDetailList);
    const mo = child(list, T.MobileOriginatedCall);
    mo.children?.push({
      header: { cls: 1, constructed: true, tag: 999, length: 0, offset: 0, headerLength: 0 },
      children: [{ header: { cls: 2, constructed: false, tag: 3, length: 1, offset: 0, headerLength: 0 }, value: Buffer.from([1]) }],
    });
    const code = findAllNodes(child(list, T.MobileTerminatedCall), T.UtcTimeOffsetCode)[0];
    code.value = integerContent(7);
    const { events, summary } = await readAll(encodeNodes(tree));
    expect(events[1].unknownTags).to.equal(1);
    expect(summary.unknownTags).to.equal(1);
    expect(events[0].problems).to.have.length(1);
    expect(events[0].problems[0].message).to.equal(
      "CallEventStartTimeStamp: UtcTimeOffsetCode 7 is not in the file's NetworkInfo (UtcTimeOffsetInfo)",
    );
    expect(events[0].start?.utc).to.equal(undefined);
    expect(summary.withProblems).to.equal(1);
  });

  it("keeps taxes, discounts and CAMEL fees and adds them to the audit totals; an unknown call event kind is counted, not dropped", async () => {
    const tree = sampleTree();
    const list = child(tree[0], T.CallEventDetailList);
    const info = findAllNodes(child(list, T.MobileTerminatedCall), T.ChargeInformation)[0];
    const node = (tag: number, value: number): BerNode => ({
      header: { cls: 1, constructed: false, tag, length: 0, offset: 0, headerLength: 0 },
      value: integerContent(value),
    });
    const group = (tag: number, children: BerNode[]): BerNode => ({
      header: { cls: 1, constructed: true, tag, length: 0, offset: 0, headerLength: 0 },
      children,
    });
    info.children?.push(group(214, [group(T.TaxInformation, [node(T.TaxCode, 1), node(T.TaxValue, 437)])]));
    info.children?.push(group(T.DiscountInformation, [node(T.DiscountCode, 2), node(T.Discount, 100)]));
    child(list, T.GprsCall).children?.push(group(57, [node(55, 7), node(T.CamelInvocationFee, 50)]));
    list.children?.push(group(999, [node(T.Imsi, 1)]));
    const { events, summary } = await readAll(encodeNodes(tree));
    expect(events[0].taxes).to.deep.equal([{ taxCode: 1, taxValue: 437, taxableAmount: undefined }]);
    expect(events[0].discounts).to.deep.equal([{ discountCode: 2, discount: 100 }]);
    expect(events[2].camelInvocationFee).to.equal(50);
    expect(events[4]).to.include({ kind: "unknown", tag: 999, position: 5, unknownTags: 1 });
    expect(summary.byKind.unknown).to.equal(1);
    expect(summary.audit.computed).to.deep.equal({ callEvents: 5, totalCharge: 71250, totalTaxValue: 437, totalDiscountValue: 100 });
    expect(summary.audit.problems).to.have.length(4);
  });

  it("round-trips generated call events through the encoder, with indefinite lengths for the batch and the list", async () => {
    const specs: TapEventSpec[] = [
      {
        kind: "mobileOriginatedCall",
        imsi: "262011234567890",
        local: "20260301235959",
        offsetCode: 0,
        duration: 61,
        teleService: "11",
        charge: 150,
      },
      {
        kind: "mobileTerminatedCall",
        imsi: "26201123456789",
        local: "20260302000000",
        offsetCode: 1,
        duration: 0,
        teleService: "21",
        charge: 10,
      },
      {
        kind: "gprsCall",
        imsi: "310410000000001",
        local: "20260315120000",
        offsetCode: 1,
        duration: 3600,
        volumeIncoming: 5 * 2 ** 30,
        volumeOutgoing: 123,
        charge: 99999,
      },
    ];
    const offsets = new Map([
      [0, "-0500"],
      [1, "+0100"],
    ]);
    const head = batchHead(offsets);
    const total = specs.reduce((s, e) => s + e.charge, 0);
    const bytes = Buffer.concat([
      openIndefinite(T.TransferBatch),
      encodeBatchHead(head),
      openIndefinite(T.CallEventDetailList),
      ...specs.map(encodeCallEvent),
      END_OF_CONTENTS,
      encodeAuditControl(specs.length, total),
      END_OF_CONTENTS,
    ]);
    for (const source of [bytes, chunks(bytes, [3, 7, 1])]) {
      const { tap, events, summary } = await readAll(source);
      expect(tap.header).to.include({ sender: "DEUD1", recipient: "USAAT", fileSequenceNumber: "00042" });
      expect(
        events.map((e) => [
          e.kind,
          e.imsi,
          e.start?.utc,
          e.duration,
          e.teleServiceCodes.join(),
          e.volumeIncoming,
          e.volumeOutgoing,
          e.charges[0].charge,
        ]),
      ).to.deep.equal([
        ["mobileOriginatedCall", "262011234567890", "2026-03-02T04:59:59Z", 61, "11", undefined, undefined, 150],
        ["mobileTerminatedCall", "26201123456789", "2026-03-01T23:00:00Z", 0, "21", undefined, undefined, 10],
        ["gprsCall", "310410000000001", "2026-03-15T11:00:00Z", 3600, "", 5 * 2 ** 30, 123, 99999],
      ]);
      expect(summary.audit).to.include({ ok: true });
    }
  });

  it("reads a Notification (a batch with no call events) and skips unknown batch-level groups in a stream", async () => {
    const long = (tag: number, local: string) =>
      tlv(tag, [tlv(T.LocalTimeStamp, Buffer.from(local)), tlv(T.UtcTimeOffset, Buffer.from("+0100"))]);
    const notification = tlv(T.Notification, [
      tlv(T.Sender, Buffer.from("DEUD1")),
      tlv(T.Recipient, Buffer.from("USAAT")),
      tlv(T.FileSequenceNumber, Buffer.from("00043")),
      long(T.FileAvailableTimeStamp, "20260401120000"),
      long(T.TransferCutOffTimeStamp, "20260401000000"),
      tlv(T.SpecificationVersionNumber, integerContent(3)),
      tlv(T.ReleaseVersionNumber, integerContent(12)),
    ]);
    const n = await readAll(notification);
    expect(n.tap.header).to.include({ kind: "notification", sender: "DEUD1", recipient: "USAAT", fileSequenceNumber: "00043" });
    expect(n.tap.header.fileAvailable?.utc).to.equal("2026-04-01T11:00:00Z");
    expect(n.events).to.deep.equal([]);
    expect(n.summary.audit).to.include({ ok: true });

    const tree = sampleTree();
    const big = { header: { cls: 1, constructed: false, tag: 4000, length: 0, offset: 0, headerLength: 0 }, value: Buffer.alloc(5000, 7) };
    tree[0].children?.splice(3, 0, {
      header: { cls: 1, constructed: true, tag: 998, length: 0, offset: 0, headerLength: 0 },
      children: [big],
    });
    const bytes = encodeNodes(tree);
    const { events, summary } = await readAll(chunks(bytes, [64]));
    expect(events).to.have.length(4);
    expect(summary.unknownTags).to.equal(1);
  });

  describe("bad input: a clear error with the byte offset", () => {
    it("a truncated file", async () => {
      const bytes = fs.readFileSync(sample("tap_3_12_valid.ber")).subarray(0, 600);
      const err = await failure(() => readAll(chunks(bytes, [100]), { file: "CDWERFDXLKJE31707" }));
      expect(err.message).to.match(
        /^CDWERFDXLKJE31707 \(byte 600\): the input ends at byte 600, inside GprsCall \(APPLICATION 14\) that starts at byte 508\n/,
      );
      expect(err.message).to.contain("ask the sender for the complete file");
    });

    it("a length that overflows the file", async () => {
      const bytes = fs.readFileSync(sample("tap_3_12_valid.ber"));
      bytes.writeUInt16BE(0x0400, 2);
      const err = await failure(() => readAll(bytes));
      expect(err.offset).to.equal(0);
      expect(err.message).to.contain(
        "TransferBatch (APPLICATION 1) is 1024 bytes long and runs to byte 1028, past the end of the input (819 bytes)",
      );
    });

    it("a length that overflows its call event", async () => {
      const bytes = fs.readFileSync(sample("tap_3_12_valid.ber"));
      bytes[275] = 0x20; // the first Imsi: 32 bytes instead of 8
      const err = await failure(() => readAll(bytes));
      expect(err.offset).to.equal(272);
      expect(err.message).to.contain(
        "Imsi (APPLICATION 129) is 32 bytes long and runs to byte 308, past the end of SimChargeableSubscriber (APPLICATION 199) at byte 284",
      );
    });

    it("nesting deeper than TAP allows", async () => {
      let deep = tlv(T.Imsi, Buffer.from("21f3", "hex"));
      for (let i = 0; i < 14; i++) deep = tlv(999, [deep]);
      const head = batchHead(new Map([[0, "+0000"]]));
      const bytes = tlv(T.TransferBatch, [encodeBatchHead(head), tlv(T.CallEventDetailList, [tlv(T.MobileOriginatedCall, [deep])])]);
      const err = await failure(() => readAll(bytes));
      expect(err.message).to.contain("is nested 17 deep, deeper than the 16 levels allowed");
      expect(err.offset).to.be.greaterThan(0);
    });

    it("a wrong root tag", async () => {
      const err = await failure(() => readAll(Buffer.from("3003020105", "hex"), { file: "x.ber" }));
      expect(err.message).to.match(/^x\.ber \(byte 0\): the file starts with UNIVERSAL 16, not a TAP DataInterChange/);
      expect(err.message).to.contain("What to do: check it is a TAP 3.12 file");
    });

    it("a TAP 3.11 file", async () => {
      const tree = sampleTree();
      child(child(tree[0], T.BatchControlInfo), T.ReleaseVersionNumber).value = integerContent(11);
      const err = await failure(() => readAll(encodeNodes(tree), { file: "old.tap" }));
      expect(err.offset).to.equal(122);
      expect(err.message).to.contain("old.tap (byte 122): a TAP 3.11 file: RoamLedger reads TAP 3.12 only");
    });

    it("a RAP file given as TAP", async () => {
      for (const [name, what] of [
        ["rap_mini.ber", "RAP ReturnBatch (APPLICATION 534)"],
        ["rap_ack.ber", "RAP Acknowledgement (APPLICATION 535)"],
      ]) {
        const err = await failure(() => readAll(sample(name)));
        expect(err.offset).to.equal(0);
        expect(err.message).to.contain(`(byte 0): this is a ${what}, not a TAP file`);
        expect(err.message).to.contain("What to do: read it as a RAP file");
      }
    });

    it("an NRTRDE file given as TAP", async () => {
      const nrtrde = tlv(T.TransferBatch, [
        tlv(T.SpecificationVersionNumber, integerContent(2)),
        tlv(T.ReleaseVersionNumber, integerContent(1)),
      ]);
      const err = await failure(() => readAll(nrtrde));
      expect(err.message).to.contain("this looks like an NRTRDE file");
    });

    it("an empty file and a batch without BatchControlInfo first", async () => {
      expect((await failure(() => readAll(Buffer.alloc(0)))).message).to.contain("the file is empty");
      const bytes = tlv(T.TransferBatch, [tlv(T.AccountingInfo, [])]);
      expect((await failure(() => readAll(bytes))).message).to.contain("(byte 2): TransferBatch does not start with BatchControlInfo");
    });
  });
});

function findAllNodes(n: BerNode, tag: number): BerNode[] {
  return (n.children ?? []).flatMap((c) => [...(c.header.tag === tag ? [c] : []), ...findAllNodes(c, tag)]);
}
