/**
 * Writes a RAP 1.5 `ReturnBatch` (GSMA TD.32, BER, definite lengths) for the rejects of one TAP 3.12 file:
 * the home network's answer to the visited network that sent the file.
 *
 *   - rejected call events (RAP "severe"): one SevereReturn each, the call event copied byte for byte from
 *     the TAP file (found again by its position and byte offset, its kind checked), with an ErrorDetail per
 *     reject (lib/tap/rapErrors.ts); NOT_BILLABLE rows are not returned;
 *   - a file refused as a whole (RAP "fatal"): one FatalReturn with the group that failed (BatchControlInfo
 *     or AuditControlInfo copied from the TAP file, or a TransferBatchError);
 *   - RapAuditControlInfo: TotalSevereReturnValue (the TAP charges of the returned call events, as the TAP
 *     audit adds them up) and ReturnDetailsCount.
 *
 * The TAP file is read in one streaming pass (flat memory whatever its size); only the returned call events
 * are kept.
 */
import fs from "node:fs";
import { InputError } from "../core/errors";
import { type BerHeader, type BerNode, BerReader, type BerSource, berReader, parseTree } from "./ber";
import { ber, encodeIdentifier } from "./berEncode";
import { decodeCallEvent, type TapCallEvent } from "./callEvent";
import { Group } from "./group";
import type { SevereReject, TapRejects } from "./rapRejects";
import { type FatalError, fatalError, type RapErrorDetail, severeContext, severeTarget } from "./rapErrors";
import { T, TAP_TAG_NAMES } from "./tags";
import { TAP_MAX_DEPTH, TapFile } from "./tap312";

export interface RapWriteInput {
  rejects: TapRejects;
  /** The TAP file the rejects are of (a path, or its bytes). */
  tap: BerSource;
  /** Its name for messages (default: the path). */
  tapName?: string;
  /**
   * Five digits; or a function of the RAP sender and recipient (the TAP file's recipient and sender, known
   * once the file is read) that returns them, for a number taken from the pair's sequence log.
   */
  rapFileSequenceNumber: string | ((pair: { sender: string; recipient: string }) => string);
  /** RapFileCreationTimeStamp and RapFileAvailableTimeStamp (default: now). */
  now?: Date;
  /** "+hhmm" or "-hhmm" (default: this machine's offset at `now`). */
  utcOffset?: string;
  /** Called as the TAP file is read, with the call events read so far. */
  onProgress?: (callEvents: number) => void;
}

export interface RapWriteResult {
  bytes: Buffer;
  /** The RAP sender: the TAP file's recipient (the home network). */
  sender: string;
  recipient: string;
  rapFileSequenceNumber: string;
  tapFileSequenceNumber: string;
  kind: "severe" | "fatal";
  /** SevereReturns written (or 1 FatalReturn). */
  returnDetails: number;
  totalSevereReturnValue: number;
  /** NOT_BILLABLE rows left out. */
  notBillable: number;
}

/** What the RAP writer needs from the TAP file. */
interface TapScan {
  root: BerHeader;
  /** The whole Notification (a fatal return of a Notification copies it). */
  rootRaw?: Buffer;
  bciRaw?: Buffer;
  control?: { sender: string; recipient: string; fsn: string; spec?: number; release?: number; fileType?: string };
  tapDecimalPlaces?: number;
  tapCurrency?: string;
  offsets: Map<number, string>;
  aciRaw?: Buffer;
  severe: { reject: SevereReject; raw: Buffer; ev: TapCallEvent; nodes: BerNode[] }[];
}

const MISMATCH_HINT =
  "give the TAP file these rejects were written for (by default the rejects file's name without .rejects.csv), or the rejects file of this TAP file.";

/** Builds the ReturnBatch for `input.rejects` of `input.tap`. */
export async function writeReturnBatch(input: RapWriteInput): Promise<RapWriteResult> {
  if (typeof input.rapFileSequenceNumber === "string") checkSequence(input.rapFileSequenceNumber);
  const name = input.tapName ?? (typeof input.tap === "string" ? input.tap : "TAP file");
  const rejects = input.rejects;
  if (rejects.kind === "severe" && rejects.events.length === 0) {
    const skipped = rejects.notBillable > 0 ? ` (its ${rejects.notBillable} NOT_BILLABLE row(s) are not returned in RAP)` : "";
    throw new InputError(`the rejects file has no rejected call event and no refusal${skipped}: there is nothing to return`, {
      location: { file: rejects.file },
      hint: "no RAP file is needed for this TAP file; the partner expects none.",
    });
  }
  const wanted = new Map(rejects.kind === "severe" ? rejects.events.map((e) => [e.position, e]) : []);
  const scan = await scanTap(input.tap, name, wanted, rejects.kind === "fatal", input.onProgress);
  const control = scan.control;
  if (!control) {
    throw new InputError("the TAP file has no readable BatchControlInfo, so no RAP file can name it", {
      location: { file: name },
      hint: "a RAP return needs the file's sender, recipient and FileSequenceNumber; ask the sender for a readable file.",
    });
  }
  const pair = { sender: control.recipient, recipient: control.sender };
  const sequence =
    typeof input.rapFileSequenceNumber === "string" ? input.rapFileSequenceNumber : checkSequence(input.rapFileSequenceNumber(pair));
  const returns =
    rejects.kind === "fatal" ? [await fatalReturn(rejects, scan, input.tap, name)] : scan.severe.map((s) => severeReturn(control.fsn, s));
  const totalSevere = rejects.kind === "fatal" ? 0 : scan.severe.reduce((sum, s) => sum + tapCharge(s.ev), 0);
  const bytes = ber.seq(T.ReturnBatch, [
    rapBatchControlInfo(scan, input, sequence),
    ber.seq(T.ReturnDetailList, returns),
    ber.seq(T.RapAuditControlInfo, [ber.int(T.TotalSevereReturnValue, totalSevere), ber.int(T.ReturnDetailsCount, returns.length)]),
  ]);
  return {
    bytes,
    sender: control.recipient,
    recipient: control.sender,
    rapFileSequenceNumber: sequence,
    tapFileSequenceNumber: control.fsn,
    kind: rejects.kind,
    returnDetails: returns.length,
    totalSevereReturnValue: totalSevere,
    notBillable: rejects.notBillable,
  };
}

/** The call event's TAP charge as the TAP audit counts it: charges of type "00" plus the CAMEL invocation fee. */
export function tapCharge(ev: TapCallEvent): number {
  let sum = ev.camelInvocationFee ?? 0;
  for (const c of ev.charges) if (c.chargeType === "00" && c.charge !== undefined) sum += c.charge;
  return sum;
}

function checkSequence(sequence: string): string {
  if (!/^\d{5}$/.test(sequence) || sequence === "00000") {
    throw new InputError(`RAP file sequence number "${sequence}" is not five digits from 00001 to 99999`, {
      location: { param: "sequence" },
      hint: "pass a number from 1 to 99999 (written as five digits).",
    });
  }
  return sequence;
}

function rapBatchControlInfo(scan: TapScan, input: RapWriteInput, sequence: string): Buffer {
  const c = scan.control as NonNullable<TapScan["control"]>;
  const now = input.now ?? new Date();
  const offset = input.utcOffset ?? machineOffset(now);
  const local = localTimeStamp(now, offset);
  const stamp = (tag: number) => ber.seq(tag, [ber.str(T.LocalTimeStamp, local), ber.str(T.UtcTimeOffset, offset)]);
  return ber.seq(T.RapBatchControlInfo, [
    ber.str(T.Sender, c.recipient),
    ber.str(T.Recipient, c.sender),
    ber.str(T.RapFileSequenceNumber, sequence),
    stamp(T.RapFileCreationTimeStamp),
    stamp(T.RapFileAvailableTimeStamp),
    scan.tapCurrency === undefined ? undefined : ber.str(T.TapCurrency, scan.tapCurrency),
    scan.tapDecimalPlaces === undefined ? undefined : ber.int(T.TapDecimalPlaces, scan.tapDecimalPlaces),
    c.spec === undefined ? undefined : ber.int(T.SpecificationVersionNumber, c.spec),
    c.release === undefined ? undefined : ber.int(T.ReleaseVersionNumber, c.release),
    ber.int(T.RapSpecificationVersionNumber, 1),
    ber.int(T.RapReleaseVersionNumber, 5),
    c.fileType === undefined ? undefined : ber.str(T.FileTypeIndicator, c.fileType),
  ]);
}

/** This machine's UTC offset at `at`, "+hhmm". */
export function machineOffset(at: Date): string {
  const minutes = -at.getTimezoneOffset();
  const abs = Math.abs(minutes);
  return `${minutes < 0 ? "-" : "+"}${String(Math.floor(abs / 60)).padStart(2, "0")}${String(abs % 60).padStart(2, "0")}`;
}

/** `at` as CCYYMMDDhhmmss local time in `offset` ("+hhmm"). */
export function localTimeStamp(at: Date, offset: string): string {
  const m = /^([+-])(\d{2})(\d{2})$/.exec(offset);
  if (!m || Number(m[2]) > 14 || Number(m[3]) > 59) {
    throw new InputError(`UTC offset "${offset}" is not +hhmm or -hhmm`, {
      location: { param: "utcOffset" },
      hint: "pass it like +0100 or -0530.",
    });
  }
  const minutes = (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
  const iso = new Date(at.getTime() + minutes * 60_000).toISOString();
  return iso.slice(0, 19).replace(/[-T:]/g, "");
}

function errorDetailList(details: readonly RapErrorDetail[]): Buffer {
  const seen = new Set<string>();
  const unique = details.filter((d) => {
    const key = JSON.stringify(d);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return ber.seq(
    T.ErrorDetailList,
    unique.map((d) =>
      ber.seq(T.ErrorDetail, [
        ber.seq(
          T.ErrorContextList,
          d.context.map((c) =>
            ber.seq(T.ErrorContext, [
              ber.int(T.PathItemId, c.pathItemId),
              c.itemOccurrence === undefined ? undefined : ber.int(T.ItemOccurrence, c.itemOccurrence),
              ber.int(T.ItemLevel, c.itemLevel),
            ]),
          ),
        ),
        ber.int(T.ErrorCode, d.errorCode),
      ]),
    ),
  );
}

function severeReturn(fsn: string, s: TapScan["severe"][number]): Buffer {
  const details = s.reject.rejects.map((r) => ({
    errorCode: severeTarget(r.code, r.reason, s.ev).errorCode,
    context: severeContext(s.ev.tag, s.nodes, severeTarget(r.code, r.reason, s.ev)),
  }));
  return ber.seq(T.SevereReturn, [ber.str(T.FileSequenceNumber, fsn), s.raw, errorDetailList(details)]);
}

async function fatalReturn(rejects: Extract<TapRejects, { kind: "fatal" }>, scan: TapScan, tap: BerSource, name: string): Promise<Buffer> {
  const audit = { hasAuditControlInfo: scan.aciRaw !== undefined, problems: [] as string[], specificationVersion: scan.control?.spec };
  if (rejects.code === "TAP_AUDIT" && scan.aciRaw) {
    const file = await TapFile.open(tap, { file: name });
    for await (const _ of file.callEvents());
    const check = file.summary().audit;
    if (check.ok) {
      throw new InputError(
        "the rejects file refuses the TAP file for its AuditControlInfo (TAP_AUDIT), but this TAP file's audit matches its call events",
        {
          location: { file: rejects.file, line: 2 },
          hint: MISMATCH_HINT,
        },
      );
    }
    audit.problems = check.problems;
  }
  const error = fatalError(rejects.code, scan.root.tag, audit);
  const fsn = (scan.control as NonNullable<TapScan["control"]>).fsn;
  return ber.seq(T.FatalReturn, [ber.str(T.FileSequenceNumber, fsn), fatalGroup(error, scan)]);
}

function fatalGroup(error: FatalError, scan: TapScan): Buffer {
  const list = errorDetailList(error.details);
  switch (error.group) {
    case "notification":
      return ber.seq(T.NotificationError, [scan.rootRaw, list]);
    case "batchControlInfo":
      return ber.seq(T.BatchControlError, [scan.bciRaw, list]);
    case "auditControlInfo":
      return ber.seq(T.AuditControlInfoError, [scan.aciRaw, list]);
    default:
      return ber.seq(T.TransferBatchError, [list]);
  }
}

/**
 * The element's bytes exactly as in the file: identifier (X.690 makes its encoding unique), the length in
 * the same form and number of octets as the file had it, the content, and 00 00 for the indefinite form.
 */
export function rawElement(h: BerHeader, content: Buffer): Buffer {
  const id = encodeIdentifier(h.cls, h.constructed, h.tag);
  const lengthOctets = h.headerLength - id.length;
  let length: Buffer;
  if (h.length < 0) length = Buffer.from([0x80]);
  else if (lengthOctets === 1) length = Buffer.from([h.length]);
  else {
    length = Buffer.alloc(lengthOctets);
    length[0] = 0x80 | (lengthOctets - 1);
    for (let i = lengthOctets - 1, v = h.length; i >= 1; i--, v = Math.floor(v / 256)) length[i] = v % 256;
  }
  const end = h.length < 0 ? Buffer.from([0, 0]) : Buffer.alloc(0);
  return Buffer.concat([id, length, content, end]);
}

// ---- reading the TAP file ----

/** The TransferBatch groups the RAP writer reads (the others are skipped). */
const HEAD_GROUPS: ReadonlySet<number> = new Set([T.BatchControlInfo, T.AccountingInfo, T.NetworkInfo, T.AuditControlInfo]);

async function scanTap(
  source: BerSource,
  name: string,
  wanted: ReadonlyMap<number, SevereReject>,
  fatal: boolean,
  onProgress?: (n: number) => void,
): Promise<TapScan> {
  // A refused file may be cut short: read it without its size, so that its BatchControlInfo is still read
  // (with the size, a root length past the end is refused at byte 0).
  const input = fatal ? withoutSize(source) : source;
  const reader = berReader(input, { file: name, names: TAP_TAG_NAMES, maxDepth: TAP_MAX_DEPTH });
  const first = await reader.next();
  if (first?.type !== "start" || first.header.cls !== 1 || (first.header.tag !== T.TransferBatch && first.header.tag !== T.Notification)) {
    return reader.fail(
      `the file starts with ${first ? reader.describe(first.header) : "nothing"}, not a TAP TransferBatch or Notification`,
      first?.header.offset ?? 0,
      MISMATCH_HINT,
    );
  }
  const scan: TapScan = { root: first.header, offsets: new Map(), severe: [] };
  try {
    if (first.header.tag === T.Notification) await readNotification(reader, scan, wanted.size);
    else await readBatch(reader, scan, wanted, onProgress);
  } catch (err) {
    // A refused file may be broken past its BatchControlInfo: the fatal return needs no more of it.
    if (!(fatal && scan.control)) throw err;
  }
  return scan;
}

function withoutSize(source: BerSource): BerSource {
  if (typeof source === "string") return fs.createReadStream(source, { highWaterMark: 256 * 1024 });
  if (Buffer.isBuffer(source))
    return (async function* () {
      yield source;
    })();
  return source;
}

async function readNotification(reader: BerReader, scan: TapScan, severe: number): Promise<void> {
  if (severe > 0) {
    reader.fail("the file is a TAP Notification (no call events), but the rejects name call events", 0, MISMATCH_HINT);
  }
  const { content, base } = await reader.readElement(scan.root);
  scan.rootRaw = rawElement(scan.root, Buffer.from(content));
  control(new Group(scan.root, parseTree(content, { base, file: reader.file, names: TAP_TAG_NAMES }), reader, TAP_TAG_NAMES), scan);
}

async function readBatch(
  reader: BerReader,
  scan: TapScan,
  wanted: ReadonlyMap<number, SevereReject>,
  onProgress?: (n: number) => void,
): Promise<void> {
  let callEvents = 0;
  for (;;) {
    const e = await reader.next();
    if (e === null) return reader.fail("the file ends inside TransferBatch", reader.offset);
    if (e.type === "end") break;
    if (e.type === "primitive") continue;
    const h = e.header;
    if (h.cls === 1 && h.tag === T.CallEventDetailList) {
      callEvents = await readCallEvents(reader, scan, wanted, onProgress);
      continue;
    }
    if (h.cls !== 1 || !HEAD_GROUPS.has(h.tag)) {
      await reader.skipElement(h);
      continue;
    }
    const { content, base } = await reader.readElement(h);
    const g = new Group(h, parseTree(content, { base, file: reader.file, names: TAP_TAG_NAMES }), reader, TAP_TAG_NAMES);
    if (h.tag === T.BatchControlInfo) {
      scan.bciRaw = rawElement(h, Buffer.from(content));
      control(g, scan);
    } else if (h.tag === T.AccountingInfo) {
      scan.tapDecimalPlaces = g.int(T.TapDecimalPlaces);
      scan.tapCurrency = g.str(T.TapCurrency);
    } else if (h.tag === T.NetworkInfo) {
      for (const u of g.all(T.UtcTimeOffsetInfo, T.UtcTimeOffsetInfoList))
        scan.offsets.set(u.need(T.UtcTimeOffsetCode, u.int), u.need(T.UtcTimeOffset, u.str));
    } else scan.aciRaw = rawElement(h, Buffer.from(content));
  }
  const beyond = [...wanted.keys()].filter((p) => p > callEvents);
  if (beyond.length > 0) {
    const r = wanted.get(beyond[0]) as SevereReject;
    throw new InputError(
      `the rejects name call event ${r.position} (${r.kind} at byte ${r.offset}), but the TAP file has ${callEvents} call events`,
      {
        location: { file: reader.file },
        hint: MISMATCH_HINT,
      },
    );
  }
}

function control(g: Group, scan: TapScan): void {
  scan.control = {
    sender: g.need(T.Sender, g.str),
    recipient: g.need(T.Recipient, g.str),
    fsn: g.need(T.FileSequenceNumber, g.str),
    spec: g.int(T.SpecificationVersionNumber),
    release: g.int(T.ReleaseVersionNumber),
    fileType: g.str(T.FileTypeIndicator),
  };
}

/** Walks the CallEventDetailList: copies and decodes the wanted call events, skips the others. */
async function readCallEvents(
  reader: BerReader,
  scan: TapScan,
  wanted: ReadonlyMap<number, SevereReject>,
  onProgress?: (n: number) => void,
): Promise<number> {
  const events = BerReader.fromBuffer(Buffer.alloc(0), {
    file: reader.file,
    names: TAP_TAG_NAMES,
    maxDepth: TAP_MAX_DEPTH,
    outerDepth: reader.depth + 1,
  });
  let position = 0;
  for (;;) {
    const e = await reader.next();
    if (e === null) return reader.fail("the file ends inside CallEventDetailList", reader.offset);
    if (e.type === "end") {
      onProgress?.(position);
      return position;
    }
    if (e.type === "primitive") continue;
    const h = e.header;
    position++;
    if (onProgress && position % 10_000 === 0) onProgress(position);
    const reject = wanted.get(position);
    if (!reject) {
      await reader.skipElement(h);
      continue;
    }
    const kind = TAP_TAG_NAMES.get(h.tag) ?? `APPLICATION ${h.tag}`;
    if (kind !== reject.kind || h.offset !== reject.offset) {
      throw new InputError(
        `the rejects name call event ${position} as ${reject.kind} at byte ${reject.offset}, but the TAP file's call event ${position} is ${kind} at byte ${h.offset}: the rejects file does not belong to this TAP file`,
        { location: { file: reader.file, field: `byte ${h.offset}` }, hint: MISMATCH_HINT },
      );
    }
    const { content, base } = await reader.readElement(h);
    const ev = decodeCallEvent({ header: h, content, base, position, offsets: scan.offsets, reader: events });
    const nodes = parseTree(content, {
      base,
      file: reader.file,
      names: TAP_TAG_NAMES,
      maxDepth: TAP_MAX_DEPTH,
      outerDepth: reader.depth + 1,
    });
    scan.severe.push({ reject, raw: rawElement(h, Buffer.from(content)), ev, nodes: copyNodes(nodes) });
  }
}

/** parseTree's values are views of the reader's buffer: copy them before it moves on. */
function copyNodes(nodes: BerNode[]): BerNode[] {
  return nodes.map((n) => ({
    header: n.header,
    value: n.value ? Buffer.from(n.value) : undefined,
    children: n.children ? copyNodes(n.children) : undefined,
  }));
}
