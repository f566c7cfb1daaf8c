import fs from "node:fs";
import path from "node:path";
import type { Signer } from "ethers";
import { BILLING } from "../../core/enums";
import { ConfigError } from "../../core/errors";
import { formatPlmn } from "../../core/plmn";
import { TxQueue } from "../../chain/txQueue";
import { DeviceResolver, type PolicyRules, registrySource, type ResolvedDevice, STATUS } from "../../devices/resolver";
import { bytesToHex, type Hex, hexToBytes } from "../../util/hex";
import { noProgress, type ProgressReporter } from "../../util/progress";
import { batchId as batchIdOf } from "../batch";
import { BatchBuilder, type SealedBatch } from "../batchBuilder";
import { type CheckOutcome, isFraud, RecordChecker } from "../check";
import { formatFromExtension, type ParseChunk, parseUsageFile } from "../parse";
import { evidenceSaltOf } from "../payload";
import { RecordIdSet } from "../recordIdSet";
import { RejectsWriter, writeRefusal } from "../rejects";
import { SealThread, sealOnThread } from "../sealThread";
import { type DeviceState, loadState, saveState } from "../state";
import type { ParsedRecord, Reject, RejectCode } from "../types";
import { type Journal, type RoamerReport, sealedJournal, type StatePaths, statePaths, writeJournal } from "./journal";
import { checkPeriodTakesBatches } from "./period";
import { agreementPricing, agreementRoamingDays, type PricedWindow, pricedAt } from "./terms";
import { DEFAULT_BATCH_SIZE, FLAGS_PER_TX, type IngestOptions, type IngestSummary, type RunIdentity } from "./types";
import { type TapChunk, TapMapper, type TapRecordCharges, tapRaw } from "../../tap/map";
import { TapFileRefused } from "../../tap/refusal";

type IdentifiedBatch = SealedBatch & { id: Hex };

/** What a screen keeps from one file to the next of a pair (lib/usage/ingest/screen.ts). */
export interface ScreenCarry {
  /** The pair's device state: the committed one, then as the screened files left it. */
  state: Map<string, DeviceState>;
  /** Each period's record ids: the committed ones, then the screened files'. */
  ids: Map<number, RecordIdSet>;
}

/** A screen's carry for a pair, starting from its committed state. */
export function newScreenCarry(opts: Pick<IngestOptions, "workDir">): ScreenCarry {
  return { state: loadState(statePaths(opts.workDir, 0, "screen").state), ids: new Map() };
}

/**
 * Reads and checks a file's records against policy exactly as its run will, over `carry` (updated in
 * place), and sends the fraud flags the run would send; seals nothing and writes no state, ids, rejects or
 * journal (flags are idempotent: the run later finds them standing). Returns the records read and the
 * devices flagged.
 */
export async function screenFile(opts: IngestOptions, carry: ScreenCarry): Promise<{ records: number; flagged: number }> {
  const now = await chainTime(opts.signer);
  const agreementDays = await agreementRoamingDays(opts, now);
  const pricing = await agreementPricing(opts);
  const paths = statePaths(opts.workDir, opts.period, "screen");
  let seenIds = carry.ids.get(opts.period);
  if (!seenIds) {
    seenIds = await RecordIdSet.load(paths.ids, { missingOk: true, withValues: true, room: 1 << 16 });
    carry.ids.set(opts.period, seenIds);
  }
  const { visited, home, period, batchSize } = opts;
  fs.mkdirSync(opts.workDir, { recursive: true });
  const parts: RunParts = {
    state: carry.state,
    seenIds,
    // Read afresh for each file: a suspension since the last one counts.
    resolver: new DeviceResolver(opts.deviceSource ?? registrySource(opts.client.devices), opts.imsiKey, home),
    checker: new RecordChecker({ state: carry.state, visited, period, agreementRoamingDays: agreementDays }),
    builder: await BatchBuilder.create({ visited, home, period, batchSize: batchSize ?? DEFAULT_BATCH_SIZE }),
    rejects: await RejectsWriter.open(opts.file, { path: path.join(opts.workDir, `.screen-${process.pid}.rejects.csv`) }),
    flags: new TxQueue(opts.log),
    pricing,
  };
  const processor = new FileProcessor(opts, parts, false, true);
  try {
    await processor.readFile(noProgress({ label: "screen", total: 1, unit: "bytes" }));
  } finally {
    await parts.rejects.abort();
  }
  return { records: processor.accepted, flagged: processor.flagged.size };
}

/**
 * Processes the file of a new run and seals the run: reads, checks and batches every record (fraud
 * flags are sent while the file is read), writes the new local state beside the old one and the journal
 * that names both. Nothing else changes until the journal's batches are submitted.
 */
export async function processFile(opts: IngestOptions, run: RunIdentity): Promise<Journal> {
  const target = { visited: opts.visited, home: opts.home, period: opts.period, now: await chainTime(opts.signer) };
  await checkPeriodTakesBatches(opts.client, target, 1);
  const agreementDays = await agreementRoamingDays(opts, target.now);
  const pricing = await agreementPricing(opts);
  const paths = statePaths(opts.workDir, opts.period, run.runKey);
  const fileSize = fs.statSync(opts.file).size;
  const parts = await openRunParts(opts, { paths, fileSize, batchSize: run.batchSize, agreementDays, pricing });
  const progress = (opts.progress ?? noProgress)({ label: `ingest ${path.basename(opts.file)}`, total: fileSize, unit: "bytes" });
  const processor = new FileProcessor(opts, parts, run.tap);
  const started = { at: Date.now(), cpu: process.cpuUsage() };
  try {
    await processor.readFile(progress);
  } catch (error) {
    await processor.abort(progress);
    if (error instanceof TapFileRefused) await writeRefusal(opts.file, error);
    throw error;
  } finally {
    await parts.thread?.close();
  }
  const rejects = await parts.rejects.close();
  const chainMs = processor.chainMs + parts.resolver.readMs;
  const processingMs = Date.now() - started.at - chainMs;
  const cpu = process.cpuUsage(started.cpu);
  progress.done(`${processor.accepted.toLocaleString("en-US")} records in ${processor.sealed.length} batch(es)`);

  // Again with the batch count and the time now: the run is refused before its journal and state exist.
  await checkPeriodTakesBatches(opts.client, { ...target, now: await chainTime(opts.signer) }, processor.sealed.length);
  saveState(paths.statePending, parts.state);
  await parts.seenIds.save(paths.idsPending);
  const journal = sealedJournal(opts, run, {
    counts: processor,
    rejects,
    devices: parts.resolver.devices.length,
    flagTxs: parts.flags.hashes,
    timing: { processingMs, chainMs, processingCpuMs: Math.round((cpu.user + cpu.system) / 1000) },
  });
  if (processor.tap) journal.summary.tap = processor.tap;
  writeJournal(run.journalFile, journal);
  return journal;
}

/** The chain's time: the latest block's timestamp. */
export async function chainTime(signer: Signer): Promise<bigint> {
  const latest = await signer.provider?.getBlock("latest");
  if (!latest) {
    throw new ConfigError("cannot read the chain's latest block", { hint: "connect the signer to a provider of the chain." });
  }
  return BigInt(latest.timestamp);
}

/** What processing a file works with, opened once per run. */
interface RunParts {
  state: Map<string, DeviceState>;
  seenIds: RecordIdSet;
  resolver: DeviceResolver;
  checker: RecordChecker;
  builder: BatchBuilder;
  rejects: RejectsWriter;
  flags: TxQueue;
  /** The tariff classes the visited carrier prices, version by version: usage in any other is not billed. */
  pricing: PricedWindow[];
  thread?: SealThread;
}

async function openRunParts(
  opts: IngestOptions,
  how: { paths: StatePaths; fileSize: number; batchSize: number; agreementDays: number; pricing: PricedWindow[] },
): Promise<RunParts> {
  const { client, visited, home, period } = opts;
  const state = loadState(how.paths.state);
  // One table for the ids of the period's earlier files and of this one (with their lines), sized once
  // for both: about 100 bytes per CSV record or TAP call event, 250 per JSON line, as the parser estimates.
  // A TAP file's accepted ids join the set too (saved with the period's), so the CSV `usage:tap` made of
  // it is refused as duplicates after it, and it after the CSV.
  const perRecord = (opts.format ?? formatFromExtension(opts.file)) === "jsonl" ? 250 : 100;
  const seenIds = await RecordIdSet.load(how.paths.ids, {
    missingOk: true,
    withValues: true,
    room: Math.ceil(how.fileSize / perRecord),
  });
  const resolver = new DeviceResolver(opts.deviceSource ?? registrySource(client.devices), opts.imsiKey, home);
  const checker = new RecordChecker({ state, visited, period, agreementRoamingDays: how.agreementDays });
  const thread = sealOnThread(how.fileSize) ? new SealThread() : undefined;
  try {
    const builder = await BatchBuilder.create({ visited, home, period, batchSize: how.batchSize, thread });
    const rejects = await RejectsWriter.open(opts.file);
    return { state, seenIds, resolver, checker, builder, rejects, flags: new TxQueue(opts.log), pricing: how.pricing, thread };
  } catch (error) {
    await thread?.close();
    throw error;
  }
}

/** A fraud flag as `flagFraud` takes it. */
type PendingFlag = { id: Hex; reason: number; evidenceHash: Hex };

/** The reading of one file: each record checked, batched and counted; fraud flagged as it is found. */
class FileProcessor {
  lines = 0;
  accepted = 0;
  billable = 0;
  /** Time spent sending fraud flags and waiting for them (the device reads are the resolver's). */
  chainMs = 0;
  readonly sealed: IdentifiedBatch[] = [];
  readonly roamers: RoamerReport[] = [];
  readonly flagged = new Set<string>();
  readonly notBillable: Record<string, number> = {};
  /** Fraud flags found but not sent and not standing: in our cooldown, or over today's quota. */
  flagsHeld = 0;
  /** Fraud flags found standing already (ours: an earlier run, a screen, this run before a kill): nothing to send. */
  flagsStanding = 0;
  /** What is left of today's flag quota (read once per run, then counted down). */
  private flagQuota: number | undefined;
  private readonly pendingFlags: PendingFlag[] = [];
  private readonly pendingRejects: Reject[] = [];
  /** The salt of evidence hashes: the pair's, as a batch's salt is not known before it is sealed. */
  private readonly evidenceSalt: Uint8Array;
  /** The batch being sealed (on the thread, while the next one fills): one at a time, in order. */
  private sealing: Promise<IdentifiedBatch> | undefined;

  /** The TAP charges of the chunk's records (TAP input), and the index of the record being taken. */
  private callEvents?: readonly TapRecordCharges[];
  private index = 0;
  /** A TAP file's parties and number, once it was read to its end. */
  tap?: IngestSummary["tap"];

  /**
   * `tapInput`: the file is TAP. Its fraud flags are then held until the file was read to its end: a TAP
   * file can still be refused as a whole there (its AuditControlInfo), and nothing of a refused file may
   * reach the chain.
   */
  constructor(
    private readonly opts: IngestOptions,
    private readonly parts: RunParts,
    private readonly tapInput = false,
    /** A screen (lib/usage/ingest/screen.ts): records are checked and flagged, full batches dropped, nothing sealed. */
    private readonly screen = false,
  ) {
    this.evidenceSalt = hexToBytes(evidenceSaltOf(opts.pairKey));
  }

  /** The file's chunks: the TAP mapping or the CSV / JSON lines parser. */
  private async *source(): AsyncGenerator<ParseChunk> {
    const { file, home, visited, period } = this.opts;
    const seenIds = this.parts.seenIds;
    if (!this.tapInput) {
      yield* parseUsageFile(file, { home, visited, period, format: this.opts.format, seenIds });
      return;
    }
    const checkParties = this.opts.tapParties;
    const mapper = await TapMapper.open(file, {
      home,
      visited,
      period,
      seenIds,
      checkParties,
      sequenceDir: this.opts.tapSequenceDir,
      monthPart: this.opts.tapMonthPart,
    });
    yield* mapper.chunks();
    const h = mapper.header;
    this.tap = {
      sender: h.sender,
      recipient: h.recipient,
      fileSequenceNumber: h.fileSequenceNumber,
      callEvents: mapper.summary().callEvents,
    };
  }

  async readFile(progress: ProgressReporter): Promise<void> {
    for await (const chunk of this.source()) {
      await this.takeChunk(chunk);
      progress.update(chunk.bytesRead, `${this.accepted.toLocaleString("en-US")} records`);
    }
    if (this.parts.builder.count > 0 && !this.screen) await this.startSeal();
    await this.finishSealing();
    await this.sendFlags();
    const t = Date.now();
    await this.parts.flags.drain();
    this.chainMs += Date.now() - t;
  }

  /**
   * After a failure: waits for the batch being sealed, removes the payloads sealed so far from the store (no
   * journal names them, no batch on chain commits them), drops the rejects file and the flags' results.
   */
  async abort(progress: ProgressReporter): Promise<void> {
    await this.sealing?.then((b) => this.sealed.push(b)).catch(() => {});
    for (const b of this.sealed) await this.opts.store.remove?.(b.batch.header.payloadHash).catch(() => false);
    await this.parts.rejects.abort();
    progress.done("failed");
    await this.parts.flags.drain().catch(() => {});
  }

  private async takeChunk(chunk: ParseChunk): Promise<void> {
    const { rejects, resolver, builder } = this.parts;
    await rejects.write(chunk.rejects);
    this.lines += chunk.records.length + chunk.rejects.length;
    const devices = await resolver.resolveEach(chunk.records.map((r) => r.imsi));
    // Each record is checked against the policy in force when it started: a later policy update (a move to
    // another tariff class) does not change what past usage is billed in (F10).
    await resolver.loadHistory(
      devices,
      chunk.records.map((r) => r.startTime),
    );
    // A TAP record's rejects name its call event as the TAP mapping's do (`<kind> at byte <offset>`).
    this.callEvents = (chunk as Partial<TapChunk>).charges;
    for (let i = 0; i < chunk.records.length; i++) {
      this.index = i;
      if (!this.takeRecord(chunk.records[i], devices[i]) || !builder.full) continue;
      if (this.screen) builder.discard();
      else await this.startSeal();
    }
    if (this.pendingRejects.length > 0) await rejects.write(this.pendingRejects.splice(0));
    // Fraud is reported while the file is read, not at the end: the home carrier sees it at once (a TAP
    // file's once it is read to its end: see the constructor).
    if (!this.tapInput) await this.sendFlags();
  }

  /** Checks a record of a resolved device and adds it to the batch; false when it is rejected. */
  private takeRecord(record: ParsedRecord, device: ResolvedDevice): boolean {
    const home = this.opts.home;
    if (device.status === STATUS.None) {
      this.rejectRecord(record, "UNKNOWN_DEVICE", `imsi: no device of ${formatPlmn(home)} is registered for this IMSI`);
      return false;
    }
    if (device.home !== home) {
      this.rejectRecord(record, "DEVICE_OF_OTHER_HOME", `imsi: the device is registered by ${formatPlmn(device.home)}`);
      return false;
    }
    const checked = this.inForce(record, device);
    if (checked === undefined) return false;
    const outcome = this.parts.checker.check(record, checked);
    this.parts.builder.add(record, outcome, checked);
    this.accepted++;
    this.count(outcome, device);
    return true;
  }

  /**
   * The device with the policy in force at the record's start (the device itself when that is the current
   * one), or undefined when the record is refused because no version of the agreement in force at that time
   * prices the policy's tariff class for the visited carrier (it would be rated at 0: F10).
   */
  private inForce(record: ParsedRecord, device: ResolvedDevice): ResolvedDevice | undefined {
    const policy = this.parts.resolver.policyAt(device, record.startTime) as PolicyRules;
    if (!pricedAt(this.parts.pricing, record.startTime, policy.tariffClass)) {
      const visited = formatPlmn(this.opts.visited);
      this.rejectRecord(
        record,
        "UNPRICED_CLASS",
        `tariff class ${policy.tariffClass}: no rate plan of the agreement in force at the record's start prices it for ${visited}`,
      );
      return undefined;
    }
    return policy === device.policy ? device : { ...device, policy };
  }

  /** Counts the record's billing; queues a fraud flag and a permanent-roamer report when it calls for them. */
  private count(outcome: CheckOutcome, device: ResolvedDevice): void {
    if (outcome.billing === 0) {
      this.billable++;
    } else {
      const name = BILLING[outcome.billing];
      this.notBillable[name] = (this.notBillable[name] ?? 0) + 1;
      if (isFraud(outcome.billing) && !this.flagged.has(device.deviceId)) {
        this.flagged.add(device.deviceId);
        if (device.status !== STATUS.FraudFlagged) {
          this.pendingFlags.push({ id: device.deviceId, reason: outcome.billing, evidenceHash: this.lastEvidence() });
        }
      }
    }
    if (outcome.becameRoamer) {
      this.roamers.push({ deviceId: device.deviceId, daysPresent: outcome.daysPresent, evidenceHash: this.lastEvidence() });
    }
  }

  /** The evidence hash of the record taken last (lib/usage/payload.ts evidenceSaltOf). */
  private lastEvidence(): Hex {
    return bytesToHex(this.parts.builder.lastEvidence(this.evidenceSalt));
  }

  private rejectRecord(record: ParsedRecord, code: RejectCode, reason: string): void {
    const callEvent = this.callEvents?.[this.index];
    const raw = callEvent ? tapRaw(callEvent) : record.imsi ? `${record.recordId},${record.imsi}` : "";
    this.pendingRejects.push({ line: record.line, code, reason, raw });
    // Not committed: a later file of the period may bring the record again.
    this.parts.seenIds.keepOut(record.recordId);
  }

  /**
   * Sends every pending flag the registry will take, FLAGS_PER_TX per transaction, without waiting for them
   * to be mined; the others are held (see {@link sendable}).
   */
  private async sendFlags(): Promise<void> {
    const devices = this.opts.client.devices;
    while (this.pendingFlags.length > 0) {
      const t = Date.now();
      const chunk = await this.sendable(this.pendingFlags.splice(0, FLAGS_PER_TX));
      if (chunk.length > 0) {
        await this.parts.flags.send(`fraud flags for ${chunk.length} device(s)`, () => devices.flagFraud(chunk));
      }
      this.chainMs += Date.now() - t;
    }
  }

  /**
   * The flags the registry takes (F4 rules, IDeviceRegistry.flagFraud): not one of ours that still stands,
   * not in our cooldown after the home dismissed or reinstated the device, within today's quota. A flag it
   * would refuse would revert the whole transaction and fail the run, so the rest are counted as held; the
   * records stay not billable either way.
   */
  private async sendable(flags: PendingFlag[]): Promise<PendingFlag[]> {
    const devices = this.opts.client.devices;
    const visited = this.opts.visited;
    const now = await chainTime(this.opts.signer);
    this.flagQuota ??= Number(await devices.flagsLeftToday(visited));
    const out: PendingFlag[] = [];
    for (const f of flags) {
      const [standing, , cooldownUntil] = await devices.fraudFlag(f.id, visited);
      if (standing) this.flagsStanding++;
      else if (cooldownUntil > now || out.length >= this.flagQuota) this.flagsHeld++;
      else out.push(f);
    }
    this.flagQuota -= out.length;
    return out;
  }

  /** Seals the full batch once the one before it is sealed. */
  private async startSeal(): Promise<void> {
    await this.finishSealing();
    const { pairKey, store } = this.opts;
    this.sealing = this.parts.builder.seal(pairKey, store).then((sealed) => ({ ...sealed, id: batchIdOf(sealed.batch.header) }));
    this.sealing.catch(() => {}); // awaited later; a failure surfaces there
  }

  private async finishSealing(): Promise<void> {
    if (this.sealing) this.sealed.push(await this.sealing);
    this.sealing = undefined;
  }
}
