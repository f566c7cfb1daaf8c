/**
 * TAP files the mapping tests build: a TransferBatch of the pair's TADIG codes with chosen call events
 * (lib/tap/tapEncode.ts), and the public sample with its AuditControlInfo TotalCharge corrected.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { type BerNode, parseTree } from "../../../lib/tap/ber";
import { ber, encodeNodes, integerContent } from "../../../lib/tap/berEncode";
import { encodeAuditControl, encodeBatchHead, encodeCallEvent, type TapEventSpec } from "../../../lib/tap/tapEncode";
import { T } from "../../../lib/tap/tags";
import type { Hex } from "../../../lib/util/hex";
import { sample } from "./samples";

/** The pair of the tests: home 262-01 (TADIG DEUD1) is billed by visited 208-01 (TADIG FRAF1). */
export const PAIR = { home: "0x62f210" as Hex, visited: "0x02f810" as Hex, homeTadig: "DEUD1", visitedTadig: "FRAF1" };
export const IMSI = "262011234567890";

/** A voice call of 262-01's subscriber on 2026-11-04 10:00:00 local (+0100: 09:00:00 UTC). */
export function event(over: Partial<TapEventSpec> = {}): TapEventSpec {
  return {
    kind: "mobileOriginatedCall",
    imsi: IMSI,
    local: "20261104100000",
    offsetCode: 0,
    duration: 60,
    teleService: "11",
    charge: 100,
    ...over,
  };
}

export interface BuildOptions {
  sender?: string;
  recipient?: string;
  fsn?: string;
  release?: number;
  /** Override the AuditControlInfo's count / total charge. */
  auditCount?: number;
  auditCharge?: number;
  /** Raw call events appended after the specs' (e.g. a supplementary-service event). */
  extra?: Buffer[];
  /** UtcTimeOffsetCode -> offset (default 0: +0100, 1: -0500). */
  offsets?: Map<number, string>;
}

/** A TransferBatch with these call events, as bytes. */
export function buildTap(events: readonly TapEventSpec[], o: BuildOptions = {}): Buffer {
  const head = encodeBatchHead({
    sender: o.sender ?? PAIR.visitedTadig,
    recipient: o.recipient ?? PAIR.homeTadig,
    fileSequenceNumber: o.fsn ?? "00001",
    created: "20261201000000",
    utcOffset: "+0100",
    currency: "EUR",
    tapDecimalPlaces: 3,
    offsets:
      o.offsets ??
      new Map([
        [0, "+0100"],
        [1, "-0500"],
      ]),
    release: o.release,
  });
  const list = [...events.map(encodeCallEvent), ...(o.extra ?? [])];
  const total = events.reduce((sum, e) => sum + e.charge, 0);
  const audit = encodeAuditControl(o.auditCount ?? list.length, o.auditCharge ?? total);
  return ber.seq(T.TransferBatch, [head, ber.seq(T.CallEventDetailList, list), audit]);
}

/** Writes bytes to a fresh temp file; returns its path. */
export function tempFile(bytes: Buffer, name = "CDFRAF1DEUD100001"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "roamledger-tapmap-"));
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  return file;
}

export function child(n: BerNode, tag: number): BerNode {
  const c = n.children?.find((x) => x.header.tag === tag);
  if (!c) throw new Error(`no tag ${tag}`);
  return c;
}

/** The public sample, with TotalCharge set to what its call events add up to (71200) unless `totalCharge` says otherwise. */
export function sampleWithTotal(totalCharge = 71200): Buffer {
  const tree = parseTree(fs.readFileSync(sample("tap_3_12_valid.ber")), {});
  child(child(tree[0], T.AuditControlInfo), T.TotalCharge).value = integerContent(totalCharge);
  return encodeNodes(tree);
}

/** One call event without its Imsi (the BasicCallInformation's chargeable subscriber removed). */
export function withoutImsi(spec: TapEventSpec): Buffer {
  const tree = parseTree(encodeCallEvent(spec), {});
  const strip = (n: BerNode): BerNode => ({
    ...n,
    children: n.children?.filter((c) => !(c.header.cls === 1 && c.header.tag === T.Imsi)).map(strip),
  });
  return encodeNodes([strip(tree[0])]);
}
