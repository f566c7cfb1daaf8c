/**
 * RAP 1.5 files (GSMA TD.32, Returned Account Procedure): the `ReturnBatch` a home network sends back for the
 * TAP call events (or whole TAP files) it refuses, and the `Acknowledgement` of a RAP file. This reads the
 * control information, every return detail (severe returns with their call event decoded by the TAP call-event
 * decoder, fatal returns with the group that failed, missing returns) and the RapAuditControlInfo, one return
 * detail at a time; groups it does not know are listed by tag and offset and skipped.
 */
import { type BerHeader, BerReader, type BerReaderOptions, type BerSource, berReader, parseTree } from "./ber";
import { CALL_EVENT_KINDS, decodeCallEvent, type TapCallEvent } from "./callEvent";
import { Group } from "./group";
import { tapCharge } from "./rapEncode";
import { RAP_TAG_NAMES, T } from "./tags";
import type { TapTimestamp } from "./tapTime";

/** One ErrorDetail: the error code and the path to the item in error. */
export interface RapErrorRead {
  errorCode: number;
  itemOffset?: number;
  context: { pathItemId: number; name?: string; itemOccurrence?: number; itemLevel: number }[];
}

export type RapReturn =
  | {
      kind: "severe";
      /** Byte offset of the SevereReturn in the RAP file. */
      offset: number;
      fileSequenceNumber: string;
      /** The returned call event, decoded (its `position` is the return's 1-based place in the ReturnDetailList). */
      callEvent?: TapCallEvent;
      /** Its TAP charge (charges of type "00" plus the CAMEL invocation fee), TAP currency units. */
      charge: number;
      errors: RapErrorRead[];
    }
  | { kind: "fatal"; offset: number; fileSequenceNumber: string; group: string; errors: RapErrorRead[] }
  | { kind: "missing"; offset: number; startMissingSeqNumber: string; endMissingSeqNumber?: string }
  | { kind: "unknown"; offset: number; tag: number; name?: string };

export interface RapAuditRead {
  offset: number;
  totalSevereReturnValue?: number;
  returnDetailsCount?: number;
  totalSevereReturnTax?: number;
  /** Where the declared values differ from the return details ("ReturnDetailsCount is 3, the file has 2 return details"). */
  problems: string[];
}

export interface RapReturnBatch {
  kind: "returnBatch";
  sender: string;
  recipient: string;
  rapFileSequenceNumber: string;
  rapFileCreation?: TapTimestamp;
  rapFileAvailable?: TapTimestamp;
  /** The TAP version the returned files use. */
  specificationVersion?: number;
  releaseVersion?: number;
  rapSpecificationVersion: number;
  rapReleaseVersion: number;
  fileTypeIndicator?: string;
  tapCurrency?: string;
  tapDecimalPlaces?: number;
  /** The ReturnDetailList, in file order. */
  returns: RapReturn[];
  audit?: RapAuditRead;
  /** Other groups after RapBatchControlInfo (OperatorSpecList, a later release's), skipped. */
  otherGroups: { tag: number; name?: string; offset: number }[];
}

export interface RapAcknowledgement {
  kind: "acknowledgement";
  sender: string;
  recipient: string;
  rapFileSequenceNumber: string;
  ackFileCreation?: TapTimestamp;
  ackFileAvailable?: TapTimestamp;
  fileTypeIndicator?: string;
}

const RAP_HINT = "check it is a RAP 1.5 file (TD.32 ReturnBatch or Acknowledgement); ask the sender for the right file.";

/** Decodes a RAP ReturnBatch or Acknowledgement (a path, or a reader over any byte source). */
export async function readRap(
  source: BerSource,
  options: Omit<BerReaderOptions, "names"> = {},
): Promise<RapReturnBatch | RapAcknowledgement> {
  const reader = berReader(source, { maxDepth: 16, ...options, names: RAP_TAG_NAMES });
  const root = await reader.next();
  if (root === null) return reader.fail("the file is empty", 0, RAP_HINT);
  const h = root.header;
  if (root.type !== "start" || h.cls !== 1 || (h.tag !== T.ReturnBatch && h.tag !== T.Acknowledgement)) {
    const tap = h.cls === 1 && (h.tag === T.TransferBatch || h.tag === T.Notification) ? " (it is a TAP file)" : "";
    reader.fail(
      `the file starts with ${reader.describe(h)}, not a RAP ReturnBatch (APPLICATION 534) or Acknowledgement (APPLICATION 535)${tap}`,
      h.offset,
      RAP_HINT,
    );
  }
  const result = h.tag === T.Acknowledgement ? acknowledgement(await readGroup(reader, h)) : await returnBatch(reader, h);
  await reader.expectEnd("RAP file root");
  return result;
}

async function readGroup(reader: BerReader, h: BerHeader): Promise<Group> {
  const { content, base } = await reader.readElement(h);
  return new Group(h, parseTree(content, { base, file: reader.file, names: RAP_TAG_NAMES }), reader, RAP_TAG_NAMES);
}

async function returnBatch(reader: BerReader, root: BerHeader): Promise<RapReturnBatch> {
  const first = await reader.next();
  if (first?.type !== "start" || first.header.tag !== T.RapBatchControlInfo) {
    return reader.fail(
      "ReturnBatch does not start with RapBatchControlInfo, as RAP requires",
      first?.header.offset ?? root.offset,
      RAP_HINT,
    );
  }
  const g = await readGroup(reader, first.header);
  const batch: RapReturnBatch = {
    kind: "returnBatch",
    sender: g.need(T.Sender, g.str),
    recipient: g.need(T.Recipient, g.str),
    rapFileSequenceNumber: g.need(T.RapFileSequenceNumber, g.str),
    rapFileCreation: g.timestamp(T.RapFileCreationTimeStamp, T.LocalTimeStamp, T.UtcTimeOffset),
    rapFileAvailable: g.timestamp(T.RapFileAvailableTimeStamp, T.LocalTimeStamp, T.UtcTimeOffset),
    specificationVersion: g.int(T.SpecificationVersionNumber),
    releaseVersion: g.int(T.ReleaseVersionNumber),
    rapSpecificationVersion: g.need(T.RapSpecificationVersionNumber, g.int),
    rapReleaseVersion: g.need(T.RapReleaseVersionNumber, g.int),
    fileTypeIndicator: g.str(T.FileTypeIndicator),
    tapCurrency: g.str(T.TapCurrency),
    tapDecimalPlaces: g.int(T.TapDecimalPlaces),
    returns: [],
    audit: undefined,
    otherGroups: [],
  };
  if (batch.rapSpecificationVersion !== 1 || batch.rapReleaseVersion !== 5) {
    g.fail(
      `a RAP ${batch.rapSpecificationVersion}.${batch.rapReleaseVersion} file: RoamLedger reads RAP 1.5`,
      g.node(T.RapReleaseVersionNumber)?.header,
    );
  }
  for (;;) {
    const e = await reader.next();
    if (e === null || e.type === "end") break;
    const h = e.header;
    if (e.type === "start" && h.cls === 1 && h.tag === T.ReturnDetailList) await readReturns(reader, batch);
    else if (e.type === "start" && h.cls === 1 && h.tag === T.RapAuditControlInfo) batch.audit = rapAudit(await readGroup(reader, h));
    else {
      batch.otherGroups.push({ tag: h.tag, name: RAP_TAG_NAMES.get(h.tag), offset: h.offset });
      if (e.type === "start") await reader.skipElement(h);
    }
  }
  if (batch.audit) checkAudit(batch.audit, batch.returns);
  return batch;
}

/** The return details, one at a time (each read whole: a return detail holds one call event or one group). */
async function readReturns(reader: BerReader, batch: RapReturnBatch): Promise<void> {
  const inner = BerReader.fromBuffer(Buffer.alloc(0), { file: reader.file, names: RAP_TAG_NAMES, maxDepth: 16 });
  for (;;) {
    const e = await reader.next();
    if (e === null) return reader.fail("the file ends inside ReturnDetailList", reader.offset);
    if (e.type === "end") return;
    const h = e.header;
    if (e.type === "primitive") {
      batch.returns.push({ kind: "unknown", offset: h.offset, tag: h.tag, name: RAP_TAG_NAMES.get(h.tag) });
      continue;
    }
    const { content, base } = await reader.readElement(h);
    batch.returns.push(returnDetail(reader, inner, h, content, base, batch.returns.length + 1));
  }
}

interface Item {
  header: BerHeader;
  value?: Buffer;
  content?: Buffer;
  base?: number;
}

/** The top-level items of a return detail, constructed ones with their content. */
function items(reader: BerReader, content: Buffer, base: number): Item[] {
  const r = BerReader.fromBuffer(content, { base, file: reader.file, names: RAP_TAG_NAMES, maxDepth: 16, outerDepth: reader.depth + 1 });
  const out: Item[] = [];
  for (let e = r.nextSync(); e !== null; e = r.nextSync()) {
    if (typeof e === "symbol" || e.type === "end") break;
    if (e.type === "primitive") out.push({ header: e.header, value: e.value });
    else {
      const el = r.readElementSync(e.header);
      if (typeof el !== "symbol") out.push({ header: e.header, content: el.content, base: el.base });
    }
  }
  return out;
}

function returnDetail(reader: BerReader, inner: BerReader, h: BerHeader, content: Buffer, base: number, index: number): RapReturn {
  const list = items(reader, content, base);
  const text = (tag: number) => {
    const v = list.find((i) => i.header.tag === tag)?.value;
    return v === undefined ? undefined : v.toString("latin1").trim();
  };
  const errorsIn = (i: Item | undefined) => (i?.content ? errorDetails(reader, i) : []);
  if (h.tag === T.SevereReturn) {
    const ev = list.find((i) => i.content && i.header.tag !== T.ErrorDetailList && i.header.tag !== 551);
    const callEvent = ev?.content ? severeEvent(inner, ev, index) : undefined;
    const errors = errorsIn(list.find((i) => i.header.tag === T.ErrorDetailList));
    return {
      kind: "severe",
      offset: h.offset,
      fileSequenceNumber: text(T.FileSequenceNumber) ?? "",
      callEvent,
      charge: callEvent ? tapCharge(callEvent) : 0,
      errors,
    };
  }
  if (h.tag === T.FatalReturn) {
    const group = list.find((i) => i.content && i.header.tag !== 551);
    const errorList = group?.content
      ? items(reader, group.content, group.base as number).find((i) => i.header.tag === T.ErrorDetailList)
      : undefined;
    const name = group ? (RAP_TAG_NAMES.get(group.header.tag) ?? `APPLICATION ${group.header.tag}`) : "none";
    return {
      kind: "fatal",
      offset: h.offset,
      fileSequenceNumber: text(T.FileSequenceNumber) ?? "",
      group: name,
      errors: errorsIn(errorList),
    };
  }
  if (h.tag === T.MissingReturn) {
    return {
      kind: "missing",
      offset: h.offset,
      startMissingSeqNumber: text(T.StartMissingSeqNumber) ?? "",
      endMissingSeqNumber: text(T.EndMissingSeqNumber),
    };
  }
  return { kind: "unknown", offset: h.offset, tag: h.tag, name: RAP_TAG_NAMES.get(h.tag) };
}

/** The returned call event, decoded as the TAP reader decodes it. */
function severeEvent(inner: BerReader, ev: Item, index: number): TapCallEvent | undefined {
  if (ev.header.cls !== 1 || !CALL_EVENT_KINDS.has(ev.header.tag)) return undefined;
  const decoded = decodeCallEvent({
    header: ev.header,
    content: ev.content as Buffer,
    base: ev.base as number,
    position: index,
    offsets: new Map(),
    reader: inner,
  });
  // A RAP file has no NetworkInfo: an offset code cannot be resolved here, which is no problem of the call event.
  decoded.problems = decoded.problems.filter((p) => !/UtcTimeOffsetCode \d+ is not in/.test(p.message));
  return decoded;
}

function errorDetails(reader: BerReader, list: Item): RapErrorRead[] {
  const g = new Group(
    list.header,
    parseTree(list.content as Buffer, { base: list.base, file: reader.file, names: RAP_TAG_NAMES }),
    reader,
    RAP_TAG_NAMES,
  );
  return g.all(T.ErrorDetail).map((d) => ({
    errorCode: d.need(T.ErrorCode, d.int),
    itemOffset: d.int(T.ItemOffset),
    context: d.all(T.ErrorContext, T.ErrorContextList).map((c) => {
      const pathItemId = c.need(T.PathItemId, c.int);
      return {
        pathItemId,
        name: RAP_TAG_NAMES.get(pathItemId),
        itemOccurrence: c.int(T.ItemOccurrence),
        itemLevel: c.need(T.ItemLevel, c.int),
      };
    }),
  }));
}

function rapAudit(g: Group): RapAuditRead {
  return {
    offset: g.header.offset,
    totalSevereReturnValue: g.int(T.TotalSevereReturnValue),
    returnDetailsCount: g.int(T.ReturnDetailsCount),
    totalSevereReturnTax: g.int(T.TotalSevereReturnTax),
    problems: [],
  };
}

/** RapAuditControlInfo against the return details: the count, and the severe returns' charges. */
function checkAudit(audit: RapAuditRead, returns: readonly RapReturn[]): void {
  const at = ` (RapAuditControlInfo at byte ${audit.offset})`;
  if (audit.returnDetailsCount !== returns.length) {
    audit.problems.push(
      `ReturnDetailsCount is ${audit.returnDetailsCount ?? "missing"}, the file has ${returns.length} return details${at}`,
    );
  }
  const severe = returns.reduce((sum, r) => sum + (r.kind === "severe" ? r.charge : 0), 0);
  if (audit.totalSevereReturnValue !== severe) {
    audit.problems.push(
      `TotalSevereReturnValue is ${audit.totalSevereReturnValue ?? "missing"}, the severe returns' charges add up to ${severe}${at}`,
    );
  }
}

function acknowledgement(g: Group): RapAcknowledgement {
  return {
    kind: "acknowledgement",
    sender: g.need(T.Sender, g.str),
    recipient: g.need(T.Recipient, g.str),
    rapFileSequenceNumber: g.need(T.RapFileSequenceNumber, g.str),
    ackFileCreation: g.timestamp(T.AckFileCreationTimeStamp, T.LocalTimeStamp, T.UtcTimeOffset),
    ackFileAvailable: g.timestamp(T.AckFileAvailableTimeStamp, T.LocalTimeStamp, T.UtcTimeOffset),
    fileTypeIndicator: g.str(T.FileTypeIndicator),
  };
}
