import { hexToBytes, type Hex } from "../util/hex";
import type { CheckOutcome } from "./check";
import { LeafHasher, packParsedRecord, type ParsedPacking, RECORD_BYTES } from "./leaf";
import type { BatchSeal, UnsaltedHeader } from "./sealBatch";
import { sealBatch } from "./sealBatch";
import type { SealThread } from "./sealThread";
import type { ContentStore } from "./store";
import {
  type ClassTotals,
  type ParsedRecord,
  SERVICE_DATA,
  SERVICE_SIGNALLING,
  SERVICE_SMS,
  SERVICE_VOICE,
  type LocalBatch,
} from "./types";

/** The device of a record: its id, and where its 32 bytes are when the caller has them (a resolved device). */
export interface BatchDevice {
  deviceId: Hex;
  ids?: Uint8Array;
  idAt?: number;
}

export interface SealedBatch {
  sequence: number;
  batch: LocalBatch;
}

interface Acc {
  records: number;
  activeDevices: number;
  roamerDays: number;
  dataBytes: number;
  signallingEvents: number;
  smsCount: number;
  voiceSeconds: number;
  qosSamples: number;
  latencyMsSum: number;
  throughputKbpsSum: number;
}

const DAY = 86_400;

/**
 * Collects the records of one batch: packs each (lib/usage/leaf.ts) as it comes and sums billable usage
 * per tariff class; `seal` derives the batch's salt from its records, hashes the leaves salted with it
 * (which is why no leaf is hashed before the batch is complete), builds the positional Merkle root,
 * commits the totals under the salt, encrypts the payload (v2, with the salt) into the store and returns
 * the header to sign with what stays local (record count, totals, salt). Memory: 111 bytes per record of
 * the batch, and 32 more per record while it is sealed.
 *
 * With a {@link SealThread}, `seal` hands the packed records to the thread, which hashes, builds the tree,
 * seals and stores while this builder already takes the next batch's records (one batch in the thread,
 * one filling). The summaries and payloads are the same.
 */
export class BatchBuilder {
  private packed!: Buffer;
  private n = 0;
  private sequence = 0;
  private totals = new Map<number, Acc>();
  private activeDevices: Hex[] = [];
  private roamerDays: [Hex, number][] = [];
  /** Device ids of this batch as bytes, converted once per device. */
  private deviceIdBytes = new Map<Hex, Uint8Array>();
  /**
   * Full-size buffers of sealed batches, back for the next ones: a run of many batches allocates its
   * buffers once, not 11 MB (and the doublings up to it) per batch of 100,000 records.
   */
  private readonly spare: Buffer[] = [];
  /** What packParsedRecord takes, made for the first record and refilled for each: no object per record. */
  private packing: ParsedPacking | undefined;

  private constructor(
    private readonly hasher: LeafHasher,
    private readonly opts: { visited: Hex; home: Hex; period: number; batchSize: number; thread?: SealThread },
  ) {
    this.reset();
  }

  static async create(opts: { visited: Hex; home: Hex; period: number; batchSize: number; thread?: SealThread }): Promise<BatchBuilder> {
    return new BatchBuilder(await LeafHasher.create(), opts);
  }

  private reset(): void {
    // Grow on demand: a small file does not pay for a full batch of buffers.
    this.packed = this.spare.pop() ?? Buffer.alloc(Math.min(this.opts.batchSize, 4096) * RECORD_BYTES);
    this.n = 0;
    this.totals = new Map();
    this.activeDevices = [];
    this.roamerDays = [];
    this.deviceIdBytes = new Map();
  }

  get count(): number {
    return this.n;
  }

  /** Drops the records added since the last seal, unsealed (a screen's: lib/usage/ingest/screen.ts). */
  discard(): void {
    this.spare.push(this.packed);
    this.reset();
  }

  get full(): boolean {
    return this.n >= this.opts.batchSize;
  }

  private ensureCapacity(): void {
    if (this.n * RECORD_BYTES < this.packed.length) return;
    const size = Math.min(this.opts.batchSize, Math.max(1, this.n) * 2);
    const packed = Buffer.alloc(size * RECORD_BYTES);
    this.packed.copy(packed);
    this.packed = packed;
  }

  /**
   * Adds a checked record of a device. The device id's bytes come from `device.ids` at `device.idAt` (the
   * resolver's table of device ids) when given, else from `device.deviceId`, converted once per device
   * and batch.
   */
  add(r: ParsedRecord, outcome: CheckOutcome, device: BatchDevice): void {
    this.ensureCapacity();
    const deviceId = device.deviceId;
    const idBytes = device.ids ?? this.idBytesOf(deviceId);
    const deviceIdAt = device.ids ? (device.idAt ?? 0) : 0;
    let packing = this.packing;
    if (packing === undefined) {
      packing = { record: r, deviceId: idBytes, deviceIdAt, tariffClass: outcome.tariffClass, billing: outcome.billing };
      this.packing = packing;
    } else {
      packing.record = r;
      packing.deviceId = idBytes;
      packing.deviceIdAt = deviceIdAt;
      packing.tariffClass = outcome.tariffClass;
      packing.billing = outcome.billing;
    }
    const offset = this.n * RECORD_BYTES;
    packParsedRecord(packing, this.packed, offset);
    this.n++;

    if (outcome.billing === 0) {
      let acc = this.totals.get(outcome.tariffClass);
      if (!acc) {
        acc = {
          records: 0,
          activeDevices: 0,
          roamerDays: 0,
          dataBytes: 0,
          signallingEvents: 0,
          smsCount: 0,
          voiceSeconds: 0,
          qosSamples: 0,
          latencyMsSum: 0,
          throughputKbpsSum: 0,
        };
        this.totals.set(outcome.tariffClass, acc);
      }
      acc.records++;
      switch (r.service) {
        case SERVICE_DATA:
          acc.dataBytes += r.bytesUp + r.bytesDown;
          break;
        case SERVICE_SMS:
          acc.smsCount += r.events;
          break;
        case SERVICE_VOICE:
          acc.voiceSeconds += r.duration;
          break;
        case SERVICE_SIGNALLING:
          acc.signallingEvents += r.events;
          break;
      }
      if (r.latencyMs > 0 && r.throughputKbps > 0) {
        acc.qosSamples++;
        acc.latencyMsSum += r.latencyMs;
        acc.throughputKbpsSum += r.throughputKbps;
      }
      if (outcome.newlyActive) {
        acc.activeDevices++;
        this.activeDevices.push(deviceId);
      }
      if (outcome.newRoamerDay) {
        acc.roamerDays++;
        this.roamerDays.push([deviceId, Math.floor(r.startTime / DAY)]);
      }
    }
  }

  /** A device id's 32 bytes, converted once per device and batch. */
  private idBytesOf(deviceId: Hex): Uint8Array {
    let idBytes = this.deviceIdBytes.get(deviceId);
    if (!idBytes) {
      idBytes = hexToBytes(deviceId, { byteLength: 32, what: "device id" });
      this.deviceIdBytes.set(deviceId, idBytes);
    }
    return idBytes;
  }

  /**
   * The record added last, hashed as a leaf is but under `salt` (32 bytes): the evidence hash of a fraud
   * flag or a permanent-roamer report, sent before the batch is sealed and its own salt is known.
   */
  lastEvidence(salt: Uint8Array): Uint8Array {
    const i = this.n - 1;
    if (i < 0) throw new RangeError("no record was added since the last seal");
    return this.hasher.leafAt(this.packed, i * RECORD_BYTES, salt);
  }

  /**
   * Closes the batch: root, totals commitment, encrypted payload into `store`, header. Starts a new batch at once: records
   * may be added while the returned promise is pending (with a thread, that is the point).
   */
  seal(pairKey: Uint8Array, store: ContentStore): Promise<SealedBatch> {
    const { visited, home, period } = this.opts;
    const totals: ClassTotals[] = [...this.totals.entries()]
      .sort(([a], [b]) => a - b)
      .map(([tariffClass, a]) => ({
        tariffClass,
        records: a.records,
        activeDevices: a.activeDevices,
        roamerDays: a.roamerDays,
        dataBytes: BigInt(a.dataBytes),
        signallingEvents: BigInt(a.signallingEvents),
        smsCount: BigInt(a.smsCount),
        voiceSeconds: BigInt(a.voiceSeconds),
        qosSamples: a.qosSamples,
        latencyMsSum: BigInt(a.latencyMsSum),
        throughputKbpsSum: BigInt(a.throughputKbpsSum),
      }));
    const recordCount = this.n;
    const header: UnsaltedHeader = {
      visited,
      home,
      period,
      sequence: this.sequence,
      recordCount,
      totals,
      activeDevices: this.activeDevices,
      roamerDays: this.roamerDays,
    };
    const sequence = this.sequence++;
    const packed = this.packed;
    this.reset();
    const summary = (seal: Omit<BatchSeal, "sealed">, payloadHash: Hex): SealedBatch => ({
      sequence,
      batch: {
        header: {
          visited,
          home,
          period,
          merkleRoot: seal.root,
          treeDepth: seal.treeDepth,
          payloadHash,
          totalsCommitment: seal.totalsCommitment,
        },
        recordCount,
        totals,
        totalsSalt: seal.totalsSalt,
      },
    });
    if (this.opts.thread) {
      return this.opts.thread.seal({ header, packed, count: recordCount, pairKey, store }).then(({ seal, payloadHash, packed: back }) => {
        this.recycle(Buffer.from(back.buffer, back.byteOffset, back.byteLength));
        return summary(seal, payloadHash);
      });
    }
    return (async () => {
      const records = packed.subarray(0, recordCount * RECORD_BYTES);
      const { sealed, ...seal } = await sealBatch({ pairKey, header, records, hasher: this.hasher });
      const payloadHash = await store.put(sealed);
      this.recycle(packed);
      return summary(seal, payloadHash);
    })();
  }

  /** Keeps a sealed batch's buffer for a later batch, when it is full size (two at most: one filling, one sealing). */
  private recycle(packed: Buffer): void {
    if (packed.length === this.opts.batchSize * RECORD_BYTES && this.spare.length < 2) this.spare.push(packed);
  }
}
