/**
 * RoamLedger reject codes -> RAP 1.5 error details (TD.32 ErrorDetail: ErrorContextList, ErrorCode).
 *
 * A RAP error names the TAP item in error by its path (ErrorContext: PathItemId = the item's APPLICATION
 * tag, ItemLevel = its depth, ItemOccurrence = which of several siblings) and an ErrorCode, numbered per item
 * as TD.57 validates it: 10-19 syntax errors, 20-29 values out of range, 30-99 a mandatory item missing from
 * its group, 100-199 logical errors, 200 and up duplicates. For a severe return the path starts at the call
 * event (level 1); for a fatal return at the TransferBatch (or Notification, level 1). The table below says,
 * per reject code, which item is in error and which code is sent; docs/tap.md repeats it with the reasons.
 */
import type { BerNode } from "./ber";
import type { TapCallEvent } from "./callEvent";
import { T } from "./tags";
import type { TapFatalCode } from "./refusal";

export interface RapErrorContext {
  /** APPLICATION tag of the item on the path. */
  pathItemId: number;
  /** Which of several items with this tag in the same group (1-based); absent when the item is alone. */
  itemOccurrence?: number;
  /** 1 for the call event (severe) or the TransferBatch (fatal), then one more per group. */
  itemLevel: number;
}

export interface RapErrorDetail {
  errorCode: number;
  context: RapErrorContext[];
}

export const ERR = { SYNTAX: 10, RANGE: 20, MISSING: 30, LOGICAL: 100, DUPLICATE: 200, DUPLICATE_FILE: 201 } as const;

/** The groups that hold the chargeable subscriber's IMSI, innermost first. */
const SUBSCRIBER_GROUPS = [199, 427, 115, 147, 153, 114];
const VOLUMES = [T.DataVolumeIncoming, T.DataVolumeOutgoing];
/** The basic call information groups, where a call event's mandatory items sit. */
const BASIC_GROUPS = [147, 153, 114, 191];
/** The items a reject's reason may name (the TAP reader names them: "DataVolumeOutgoing is negative (-5)"). */
const NAMED_ITEMS: readonly [string, number][] = [
  ["TotalCallEventDuration", T.TotalCallEventDuration],
  ["DataVolumeIncoming", T.DataVolumeIncoming],
  ["DataVolumeOutgoing", T.DataVolumeOutgoing],
];

const namedItem = (reason: string): number[] | undefined => {
  const named = NAMED_ITEMS.find(([name]) => reason.includes(name));
  return named ? [named[1]] : undefined;
};

/** Where a severe reject points in the call event: the item's tags (first found) or the offset of a problem. */
interface SevereTarget {
  errorCode: number;
  tags?: readonly number[];
  /** The byte offset of the element in error (from the decoder's problems). */
  offset?: number;
}

const problemAt = (ev: TapCallEvent, pattern: RegExp) => ev.problems.find((p) => pattern.test(p.message))?.offset;

/** The item in error and the error code for one reject of a call event. */
export function severeTarget(code: string, reason: string, ev: TapCallEvent): SevereTarget {
  switch (code) {
    case "INVALID_IMSI": {
      const bad = problemAt(ev, /^Imsi:/);
      if (bad !== undefined || ev.imsi !== undefined) return { errorCode: ERR.SYNTAX, offset: bad, tags: [T.Imsi] };
      return { errorCode: ERR.MISSING, tags: SUBSCRIBER_GROUPS };
    }
    case "INVALID_TIMESTAMP": {
      const unknownCode = ev.problems.some((p) => /UtcTimeOffsetCode \d+ is not in/.test(p.message));
      if (unknownCode) return { errorCode: ERR.LOGICAL, tags: [T.UtcTimeOffsetCode] };
      return { errorCode: ERR.SYNTAX, tags: [T.LocalTimeStamp] };
    }
    case "OUTSIDE_PERIOD":
      return { errorCode: ERR.LOGICAL, tags: [T.CallEventStartTimeStamp, T.ServiceStartTimestamp, T.ChargingTimeStamp] };
    case "NEGATIVE_VOLUME":
      return { errorCode: ERR.RANGE, tags: namedItem(reason) ?? VOLUMES };
    case "ABSURD_VOLUME":
      return { errorCode: ERR.RANGE, tags: namedItem(reason) ?? (/duration|second/i.test(reason) ? [T.TotalCallEventDuration] : VOLUMES) };
    case "MISSING_FIELD":
      return { errorCode: ERR.MISSING, tags: BASIC_GROUPS };
    case "INVALID_NUMBER":
      return { errorCode: ERR.SYNTAX, offset: problemAt(ev, /not a valid INTEGER/) };
    case "DUPLICATE_RECORD_ID":
      return { errorCode: ERR.DUPLICATE };
    case "UNKNOWN_DEVICE":
    case "DEVICE_OF_OTHER_HOME":
    case "WRONG_HOME_PLMN":
      return { errorCode: ERR.LOGICAL, tags: [T.Imsi] };
    default:
      // INCONSISTENT_RECORD, UNPRICED_CLASS and the CSV-only codes: the call event as a whole.
      return { errorCode: ERR.LOGICAL };
  }
}

/**
 * The ErrorContext path from the call event (level 1, `event`'s tag) down to the item in error inside
 * `nodes` (the call event's content): the first element at `target.offset`, else the first with one of
 * `target.tags` (in that order of preference), else the call event itself.
 */
export function severeContext(eventTag: number, nodes: readonly BerNode[], target: SevereTarget): RapErrorContext[] {
  const top: RapErrorContext = { pathItemId: eventTag, itemLevel: 1 };
  let path: RapErrorContext[] | undefined;
  if (target.offset !== undefined) {
    const at = target.offset;
    path = findPath(nodes, (n) => n.header.offset === at, 2);
  }
  for (const tag of target.tags ?? []) {
    if (path) break;
    path = findPath(nodes, (n) => n.header.tag === tag && n.header.cls === 1, 2);
  }
  return [top, ...(path ?? [])];
}

/** Depth-first: the path to the first node `match` accepts, with occurrences among same-tag siblings. */
function findPath(nodes: readonly BerNode[], match: (n: BerNode) => boolean, level: number): RapErrorContext[] | undefined {
  for (const n of nodes) {
    const here = context(nodes, n, level);
    if (match(n)) return [here];
    if (n.children) {
      const below = findPath(n.children, match, level + 1);
      if (below) return [here, ...below];
    }
  }
  return undefined;
}

function context(siblings: readonly BerNode[], n: BerNode, level: number): RapErrorContext {
  const same = siblings.filter((s) => s.header.tag === n.header.tag && s.header.cls === n.header.cls);
  const c: RapErrorContext = { pathItemId: n.header.tag, itemLevel: level };
  if (same.length > 1) c.itemOccurrence = same.indexOf(n) + 1;
  return c;
}

/** Which group of the TAP file a fatal return names (and copies). */
export type FatalGroup = "transferBatch" | "notification" | "batchControlInfo" | "auditControlInfo";

export interface FatalError {
  group: FatalGroup;
  details: RapErrorDetail[];
}

/** The audit items a TAP_AUDIT mismatch can name, by the name the TAP reader's audit check uses. */
const AUDIT_ITEMS: Record<string, number> = {
  CallEventDetailsCount: T.CallEventDetailsCount,
  TotalCharge: T.TotalCharge,
  TotalTaxValue: T.TotalTaxValue,
  TotalDiscountValue: T.TotalDiscountValue,
};

/**
 * The error details of a refused file: `root` is TransferBatch (1) or Notification (2); `audit` the
 * mismatches the TAP reader's AuditControlInfo check found (TAP_AUDIT), and the file's specification version
 * (TAP_VERSION).
 */
export function fatalError(
  code: TapFatalCode,
  root: number,
  audit: { hasAuditControlInfo: boolean; problems: readonly string[]; specificationVersion?: number },
): FatalError {
  const notification = root === T.Notification;
  const level1: RapErrorContext = { pathItemId: root, itemLevel: 1 };
  const inBci = (item: number, errorCode: number): FatalError => {
    const group = notification ? [] : [{ pathItemId: T.BatchControlInfo, itemLevel: 2 }];
    const context = [level1, ...group, { pathItemId: item, itemLevel: group.length + 2 }];
    return { group: notification ? "notification" : "batchControlInfo", details: [{ errorCode, context }] };
  };
  switch (code) {
    case "TAP_SENDER":
      return inBci(T.Sender, ERR.RANGE);
    case "TAP_RECIPIENT":
      return inBci(T.Recipient, ERR.RANGE);
    case "TAP_VERSION":
      // The item that is not 3.12: the specification version when it is not 3, else the release.
      return inBci(
        audit.specificationVersion !== undefined && audit.specificationVersion !== 3
          ? T.SpecificationVersionNumber
          : T.ReleaseVersionNumber,
        ERR.RANGE,
      );
    case "TAP_SEQUENCE_DUPLICATE":
      return inBci(T.FileSequenceNumber, ERR.DUPLICATE_FILE);
    case "TAP_SEQUENCE_ORDER":
      return inBci(T.FileSequenceNumber, ERR.LOGICAL);
    case "TAP_AUDIT":
      return auditError(level1, audit);
    default:
      return { group: notification ? "notification" : "transferBatch", details: [{ errorCode: ERR.SYNTAX, context: [level1] }] };
  }
}

/** TAP_AUDIT: one error per mismatching AuditControlInfo item; a missing AuditControlInfo is TransferBatch error 36. */
function auditError(level1: RapErrorContext, audit: { hasAuditControlInfo: boolean; problems: readonly string[] }): FatalError {
  if (!audit.hasAuditControlInfo) return { group: "transferBatch", details: [{ errorCode: 36, context: [level1] }] };
  const aci: RapErrorContext = { pathItemId: T.AuditControlInfo, itemLevel: 2 };
  const items = audit.problems.map((p) => AUDIT_ITEMS[p.split(" ")[0]]).filter((t): t is number => t !== undefined);
  const details = [...new Set(items)].map((item) => ({
    errorCode: ERR.LOGICAL,
    context: [level1, aci, { pathItemId: item, itemLevel: 3 }],
  }));
  return { group: "auditControlInfo", details: details.length > 0 ? details : [{ errorCode: ERR.LOGICAL, context: [level1, aci] }] };
}
