/**
 * RAP 1.5 files (GSMA TD.32, Returned Account Procedure): the `ReturnBatch` a home network sends back for the
 * TAP call events (or whole TAP files) it refuses, and the `Acknowledgement` of a RAP file. This reads their
 * control information; the groups after RapBatchControlInfo (return details, RAP audit) are listed by tag
 * and offset and skipped in flat memory.
 */
import { type BerHeader, type BerReader, type BerReaderOptions, type BerSource, berReader, parseTree } from "./ber";
import { Group } from "./group";
import { RAP_TAG_NAMES, T } from "./tags";
import type { TapTimestamp } from "./tapTime";

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
  /** The groups after RapBatchControlInfo, not decoded here (ReturnDetailList, RapAuditControlInfo...). */
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
    batch.otherGroups.push({ tag: e.header.tag, name: RAP_TAG_NAMES.get(e.header.tag), offset: e.header.offset });
    if (e.type === "start") await reader.skipElement(e.header);
  }
  return batch;
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
