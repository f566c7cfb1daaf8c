/**
 * TAP 3.12 (GSMA TD.57) files: `DataInterChange` = TransferBatch or Notification, decoded in a stream.
 *
 *   const tap = await TapFile.open("CDWERFDXLKJE31707");
 *   tap.header;                                   // sender, recipient, file sequence number, currency...
 *   for await (const ev of tap.callEvents()) ...  // one call event at a time, flat memory
 *   tap.summary();                                // counts, unknown tags, the AuditControlInfo check
 *
 * File-level problems (not BER, wrong root, not TAP 3.12, a missing mandatory header item) throw a BerError
 * naming the byte offset: the whole file is refused (RAP severity "fatal"). Call-level problems are listed on
 * the call event (`problems`) and leave the rest of the file readable.
 */
import { BerError, type BerHeader, BerReader, type BerReaderOptions, type BerSource, berReader, NEED_MORE, parseTree, Token } from "./ber";
import { type CallEventKind, decodeCallEvent, type TapCallEvent } from "./callEvent";
import { Group } from "./group";
import { T, TAP_TAG_NAMES } from "./tags";
import type { TapTimestamp } from "./tapTime";

export interface TapExchangeRate {
  code: number;
  numberOfDecimalPlaces: number;
  /** The rate to the TAP currency, an integer scaled by 10^numberOfDecimalPlaces. */
  rate: number;
}

export interface TapAccounting {
  localCurrency?: string;
  tapCurrency?: string;
  tapDecimalPlaces?: number;
  exchangeRates: TapExchangeRate[];
  taxation: { taxCode?: number; taxType?: string; taxRate?: string; chargeType?: string }[];
  discounting: { discountCode?: number; fixedDiscountValue?: number; discountRate?: number }[];
}

export interface TapHeader {
  kind: "transferBatch" | "notification";
  /** TADIG code of the sending (visited) network. */
  sender: string;
  /** TADIG code of the receiving (home) network. */
  recipient: string;
  fileSequenceNumber: string;
  specificationVersion: number;
  releaseVersion: number;
  fileCreation?: TapTimestamp;
  transferCutOff?: TapTimestamp;
  fileAvailable?: TapTimestamp;
  /** "T" for test data. */
  fileTypeIndicator?: string;
  rapFileSequenceNumber?: string;
  accounting?: TapAccounting;
  /** UtcTimeOffsetCode -> offset (+hhmm), from NetworkInfo. */
  utcOffsets: Map<number, string>;
  recEntities: { code?: number; type?: number; id?: string }[];
}

export interface TapAuditControlInfo {
  offset: number;
  earliestCall?: TapTimestamp;
  latestCall?: TapTimestamp;
  totalCharge?: number;
  totalTaxValue?: number;
  totalDiscountValue?: number;
  totalChargeRefund?: number;
  callEventDetailsCount?: number;
}

export interface TapTotals {
  callEvents: number;
  /** Sum of the charges with charge type "00" (the invoiceable totals) and CAMEL invocation fees, TAP currency units. */
  totalCharge: number;
  totalTaxValue: number;
  totalDiscountValue: number;
}

export interface TapAuditCheck {
  ok: boolean;
  /** One line per mismatch ("CallEventDetailsCount is 4, the file has 3 call events"). */
  problems: string[];
  declared?: TapAuditControlInfo;
  computed: TapTotals;
}

export interface TapSummary {
  header: TapHeader;
  callEvents: number;
  byKind: Partial<Record<CallEventKind, number>>;
  /** Call events with at least one problem. */
  withProblems: number;
  /** Tags TAP 3.12 does not define, skipped (in the header groups and in call events). */
  unknownTags: number;
  audit: TapAuditCheck;
}

/**
 * Nesting allowed: TAP 3.12's deepest path has 10 constructed levels (TransferBatch / CallEventDetailList /
 * MobileOriginatedCall / BasicServiceUsedList / BasicServiceUsed / ChargeInformationList / ChargeInformation /
 * ChargeDetailList / ChargeDetail / ChargeDetailTimeStamp); 16 leaves room for bilateral extensions.
 */
export const TAP_MAX_DEPTH = 16;

/** A TAP file of another specification or release than 3.12 (RAP fatal, TAP_VERSION). */
export class TapVersionError extends BerError {
  override name = "TapVersionError";
}

const TAP_HINT = "check it is a TAP 3.12 file (TD.57 DataInterChange) from the sender; ask the sender for the right file.";

export class TapFile {
  private listHeader?: BerHeader;
  private done = false;
  private aci?: TapAuditControlInfo;
  private unknownTags = 0;
  private readonly totals: TapTotals = { callEvents: 0, totalCharge: 0, totalTaxValue: 0, totalDiscountValue: 0 };
  private readonly byKind: Partial<Record<CallEventKind, number>> = {};
  private withProblems = 0;
  header!: TapHeader;

  private constructor(
    private readonly reader: BerReader,
    private readonly maxDepth: number,
  ) {}

  /** Opens a TAP file (a path, or a reader over any byte source) and reads its header groups. */
  static async open(source: BerSource, options: Omit<BerReaderOptions, "names"> & { chunkSize?: number } = {}): Promise<TapFile> {
    const maxDepth = options.maxDepth ?? TAP_MAX_DEPTH;
    const reader = berReader(source, { ...options, maxDepth, names: TAP_TAG_NAMES });
    const tap = new TapFile(reader, maxDepth);
    await tap.readHead();
    return tap;
  }

  private async readHead(): Promise<void> {
    const root = await this.reader.next();
    if (root === null) this.reader.fail("the file is empty", 0, TAP_HINT);
    checkRoot(this.reader, root.header, root.type);
    if (root.header.tag === T.Notification) {
      const { content, base } = await this.reader.readElement(root.header);
      const g = this.group(root.header, content, base);
      this.header = { kind: "notification", ...batchControl(g), utcOffsets: new Map(), recEntities: [] };
      await this.reader.expectEnd("DataInterChange");
      this.done = true;
      return;
    }
    const first = await this.reader.next();
    if (first?.header.cls === 1 && first.header.tag === T.SpecificationVersionNumber) {
      this.reader.fail(
        "this looks like an NRTRDE file (it starts with SpecificationVersionNumber, not BatchControlInfo), not TAP",
        0,
        TAP_HINT,
      );
    }
    if (first?.type !== "start" || first.header.tag !== T.BatchControlInfo) {
      this.reader.fail("TransferBatch does not start with BatchControlInfo, as TAP requires", first?.header.offset ?? 0, TAP_HINT);
    }
    const bci = await this.readGroup(first.header);
    this.header = { kind: "transferBatch", ...batchControl(bci), utcOffsets: new Map(), recEntities: [] };
    await this.readUntilCallEvents();
  }

  /** Reads header groups up to the CallEventDetailList (or the end of the batch when it has none). */
  private async readUntilCallEvents(): Promise<void> {
    for (;;) {
      const e = await this.reader.next();
      if (e === null) return this.reader.fail("the file ends inside TransferBatch", this.reader.offset);
      if (e.type === "end") return this.finish();
      const h = e.header;
      if (e.type === "start" && h.cls === 1 && h.tag === T.CallEventDetailList) {
        this.listHeader = h;
        return;
      }
      await this.batchItem(e.type === "start", h);
    }
  }

  /** A TransferBatch child other than the call events. */
  private async batchItem(constructed: boolean, h: BerHeader): Promise<void> {
    const known = h.cls === 1 && TAP_TAG_NAMES.has(h.tag);
    if (!constructed) {
      if (!known) this.unknownTags++;
      return;
    }
    if (h.tag === T.AccountingInfo && known) this.header.accounting = accounting(await this.readGroup(h));
    else if (h.tag === T.NetworkInfo && known) networkInfo(await this.readGroup(h), this.header);
    else if (h.tag === T.AuditControlInfo && known) this.aci = auditControl(await this.readGroup(h));
    else {
      if (!known) this.unknownTags++;
      await this.reader.skipElement(h);
    }
  }

  private async readGroup(h: BerHeader): Promise<Group> {
    const { content, base } = await this.reader.readElement(h);
    return this.group(h, content, base);
  }

  private group(h: BerHeader, content: Buffer, base: number): Group {
    const depth = { maxDepth: this.maxDepth, outerDepth: this.reader.depth + 1 };
    const nodes = parseTree(content, { base, file: this.reader.file, names: TAP_TAG_NAMES, ...depth });
    return new Group(h, nodes, this.reader, TAP_TAG_NAMES);
  }

  /** The call events, one at a time, in file order. Read once. */
  async *callEvents(): AsyncGenerator<TapCallEvent> {
    if (this.done || !this.listHeader) return;
    const reader: BerReader = this.reader;
    const events = BerReader.fromBuffer(Buffer.alloc(0), {
      file: reader.file,
      names: TAP_TAG_NAMES,
      maxDepth: this.maxDepth,
      outerDepth: reader.depth + 1,
    });
    let position = 0;
    for (;;) {
      // The synchronous forms while the bytes are in memory: no await, no event object per call event.
      let t = reader.nextToken();
      if (t === Token.NeedMore) {
        await reader
          .next()
          .then((e) => (t = e === null ? Token.None : e.type === "start" ? Token.Start : e.type === "end" ? Token.End : Token.Primitive));
      }
      if (t === Token.None) reader.fail("the file ends inside CallEventDetailList", reader.offset);
      if (t === Token.End) break;
      const header = reader.token;
      if (t === Token.Primitive) {
        this.unknownTags++;
        continue;
      }
      let element = reader.readElementSync(header);
      if (element === NEED_MORE) element = await reader.readElement(header);
      const ev = decodeCallEvent({
        header,
        content: element.content,
        base: element.base,
        position: ++position,
        offsets: this.header.utcOffsets,
        reader: events,
      });
      this.count(ev);
      yield ev;
    }
    await this.readUntilCallEvents();
  }

  private count(ev: TapCallEvent): void {
    const t = this.totals;
    t.callEvents++;
    this.byKind[ev.kind] = (this.byKind[ev.kind] ?? 0) + 1;
    this.unknownTags += ev.unknownTags;
    if (ev.problems.length > 0) this.withProblems++;
    for (const c of ev.charges) if (c.chargeType === "00" && c.charge !== undefined) t.totalCharge += c.charge;
    t.totalCharge += ev.camelInvocationFee ?? 0;
    for (const x of ev.taxes) t.totalTaxValue += x.taxValue ?? 0;
    for (const d of ev.discounts) t.totalDiscountValue += d.discount ?? 0;
  }

  private async finish(): Promise<void> {
    await this.reader.expectEnd("DataInterChange");
    this.done = true;
  }

  /** Counts and the AuditControlInfo check; complete once `callEvents()` has been read to its end. */
  summary(): TapSummary {
    if (!this.done) throw new Error("TapFile.summary(): read callEvents() to the end first");
    return {
      header: this.header,
      callEvents: this.totals.callEvents,
      byKind: { ...this.byKind },
      withProblems: this.withProblems,
      unknownTags: this.unknownTags,
      audit: auditCheck(this.header.kind, this.aci, { ...this.totals }),
    };
  }
}

function checkRoot(reader: BerReader, h: BerHeader, type: string): void {
  if (h.cls === 1 && (h.tag === T.ReturnBatch || h.tag === T.Acknowledgement)) {
    const what = h.tag === T.ReturnBatch ? "RAP ReturnBatch" : "RAP Acknowledgement";
    reader.fail(
      `this is a ${what} (APPLICATION ${h.tag}), not a TAP file`,
      h.offset,
      "read it as a RAP file, or give the TAP file it refers to.",
    );
  }
  if (type !== "start" || h.cls !== 1 || (h.tag !== T.TransferBatch && h.tag !== T.Notification)) {
    reader.fail(
      `the file starts with ${reader.describe(h)}, not a TAP DataInterChange (TransferBatch, APPLICATION 1, or Notification, APPLICATION 2)`,
      h.offset,
      TAP_HINT,
    );
  }
}

/** BatchControlInfo (or a Notification, which has the same items): who, which file, which TAP version. */
function batchControl(g: Group) {
  const specificationVersion = g.need(T.SpecificationVersionNumber, g.int);
  const releaseVersion = g.need(T.ReleaseVersionNumber, g.int);
  if (specificationVersion !== 3 || releaseVersion !== 12) {
    const at = g.node(T.ReleaseVersionNumber)?.header ?? g.header;
    throw new TapVersionError(
      `a TAP ${specificationVersion}.${releaseVersion} file: RoamLedger reads TAP 3.12 only (SpecificationVersionNumber 3, ReleaseVersionNumber 12)`,
      at.offset,
      { file: g.file, hint: TAP_HINT },
    );
  }
  const fsn = g.need(T.FileSequenceNumber, g.str);
  if (!/^\d{5}$/.test(fsn)) g.fail(`FileSequenceNumber "${fsn}" is not five digits`, g.node(T.FileSequenceNumber)?.header);
  return {
    sender: g.need(T.Sender, g.str),
    recipient: g.need(T.Recipient, g.str),
    fileSequenceNumber: fsn,
    specificationVersion,
    releaseVersion,
    fileCreation: g.timestamp(T.FileCreationTimeStamp, T.LocalTimeStamp, T.UtcTimeOffset),
    transferCutOff: g.timestamp(T.TransferCutOffTimeStamp, T.LocalTimeStamp, T.UtcTimeOffset),
    fileAvailable: g.timestamp(T.FileAvailableTimeStamp, T.LocalTimeStamp, T.UtcTimeOffset),
    fileTypeIndicator: g.str(T.FileTypeIndicator),
    rapFileSequenceNumber: g.str(T.RapFileSequenceNumber),
  };
}

function accounting(g: Group): TapAccounting {
  return {
    localCurrency: g.str(T.LocalCurrency),
    tapCurrency: g.str(T.TapCurrency),
    tapDecimalPlaces: g.int(T.TapDecimalPlaces),
    exchangeRates: g.all(T.CurrencyConversion, 80).map((c) => ({
      code: c.need(T.ExchangeRateCode, c.int),
      numberOfDecimalPlaces: c.need(T.NumberOfDecimalPlaces, c.int),
      rate: c.need(T.ExchangeRate, c.int),
    })),
    taxation: g.all(T.Taxation, 211).map((t) => ({
      taxCode: t.int(T.TaxCode),
      taxType: t.str(T.TaxType),
      taxRate: t.str(T.TaxRate),
      chargeType: t.str(71),
    })),
    discounting: g.all(T.Discounting, 95).map((d) => {
      const applied = d.child(428);
      return {
        discountCode: d.int(T.DiscountCode),
        fixedDiscountValue: applied?.int(T.FixedDiscountValue),
        discountRate: applied?.int(T.DiscountRate),
      };
    }),
  };
}

function networkInfo(g: Group, header: TapHeader): void {
  for (const u of g.all(T.UtcTimeOffsetInfo, 234)) {
    header.utcOffsets.set(u.need(T.UtcTimeOffsetCode, u.int), u.need(T.UtcTimeOffset, u.str));
  }
  for (const r of g.all(T.RecEntityInformation, 188)) {
    header.recEntities.push({ code: r.int(T.RecEntityCode), type: r.int(T.RecEntityType), id: r.str(T.RecEntityId) });
  }
}

function auditControl(g: Group): TapAuditControlInfo {
  return {
    offset: g.header.offset,
    earliestCall: g.timestamp(T.EarliestCallTimeStamp, T.LocalTimeStamp, T.UtcTimeOffset),
    latestCall: g.timestamp(T.LatestCallTimeStamp, T.LocalTimeStamp, T.UtcTimeOffset),
    totalCharge: g.int(T.TotalCharge),
    totalTaxValue: g.int(T.TotalTaxValue),
    totalDiscountValue: g.int(T.TotalDiscountValue),
    totalChargeRefund: g.int(T.TotalChargeRefund),
    callEventDetailsCount: g.int(T.CallEventDetailsCount),
  };
}

/** The AuditControlInfo against what the call events add up to (TD.57: count, total charge, tax, discount). */
export function auditCheck(kind: TapHeader["kind"], aci: TapAuditControlInfo | undefined, computed: TapTotals): TapAuditCheck {
  if (kind === "notification") return { ok: true, problems: [], computed };
  if (!aci) return { ok: false, problems: ["the TransferBatch has no AuditControlInfo, which TAP requires"], computed };
  const problems: string[] = [];
  const at = ` (AuditControlInfo at byte ${aci.offset})`;
  if (aci.callEventDetailsCount !== computed.callEvents) {
    problems.push(
      `CallEventDetailsCount is ${aci.callEventDetailsCount ?? "missing"}, the file has ${computed.callEvents} call events${at}`,
    );
  }
  const sums: [string, number | undefined, number][] = [
    ["TotalCharge", aci.totalCharge, computed.totalCharge],
    ["TotalTaxValue", aci.totalTaxValue, computed.totalTaxValue],
    ["TotalDiscountValue", aci.totalDiscountValue, computed.totalDiscountValue],
  ];
  for (const [name, declared, sum] of sums) {
    if (declared !== sum) problems.push(`${name} is ${declared ?? "missing"}, the call events add up to ${sum}${at}`);
  }
  return { ok: problems.length === 0, problems, declared: aci, computed };
}
