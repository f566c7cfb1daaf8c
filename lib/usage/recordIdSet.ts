import fs from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { InputError } from "../core/errors";

/**
 * A compact set of record ids for duplicate detection across the files of a period.
 *
 * Each id is kept as its 64-bit FNV-1a hash in an open-addressing table (linear probing, at most 3/4
 * full) of 8 bytes per slot: 10 million ids take 2^24 slots, 128 MiB, where a `Set<string>` would take
 * about a gigabyte. The price is a false positive: a new id whose hash equals that of an id already in
 * the set is reported as present. With n ids in the set the odds that one given new id collides are
 * n / 2^64 (5e-13 at 10 million), and the odds that any collision exists among n ids n^2 / 2^65
 * (3e-6 at 10 million). There are no false negatives.
 *
 * With values (12 bytes per slot), one table serves a whole ingest run: the ids of earlier files of the
 * period (loaded, value 0) and those of the file being read, each with its line (`claim`). Ids of
 * records the run does not commit are kept out of `save` (`keepOut`) but still catch repeats within the
 * file. At 10 million ids that is one table of 2^24 slots, 192 MiB.
 *
 * `save` writes the hashes (binary, little-endian, with a checksum) to a temp file and renames it over
 * the target, so a crash leaves either the old or the new file, never half of one.
 */

const MAGIC = Buffer.from("RLIDSET1", "latin1");
const HEADER_BYTES = 24; // magic, count (u64), checksum (two u32)
const MAX_LOAD = 0.75;
const MIN_CAPACITY = 16;
const SAVE_CHUNK_IDS = 1 << 16;
/** The top bit of a value marks an id kept out of `save`; values themselves stay below it. */
const KEPT_OUT = 0x80000000;
const MAX_VALUE = KEPT_OUT - 1;

// Scratch output of hashId: two 32-bit halves of the 64-bit hash (no allocation per call).
let hashHi = 0;
let hashLo = 0;

/**
 * 64-bit FNV-1a of the UTF-16 code units of `id` taken as bytes (record ids are ASCII), computed in
 * four 16-bit limbs; leaves the result in `hashHi`/`hashLo`.
 */
function hashId(id: string): void {
  let h0 = 0x2325;
  let h1 = 0x8422;
  let h2 = 0x9ce4;
  let h3 = 0xcbf2;
  for (let i = 0; i < id.length; i++) {
    h0 ^= id.charCodeAt(i) & 0xff;
    // h * 0x100000001b3 = h * 0x1b3 + (h << 40), mod 2^64
    const t0 = h0 * 0x1b3;
    let t1 = h1 * 0x1b3;
    let t2 = h2 * 0x1b3 + (h0 << 8);
    let t3 = h3 * 0x1b3 + (h1 << 8);
    t1 += t0 >>> 16;
    h0 = t0 & 0xffff;
    t2 += t1 >>> 16;
    h1 = t1 & 0xffff;
    t3 += t2 >>> 16;
    h2 = t2 & 0xffff;
    h3 = t3 & 0xffff;
  }
  hashHi = ((h3 << 16) | h2) >>> 0;
  hashLo = ((h1 << 16) | h0) >>> 0;
  // (0, 0) marks an empty slot.
  if (hashHi === 0 && hashLo === 0) hashLo = 1;
}

/** The 64-bit FNV-1a hash of an ASCII id, as a bigint (exposed for tests and tools). */
export function recordIdHash(id: string): bigint {
  hashId(id);
  return (BigInt(hashHi) << 32n) | BigInt(hashLo);
}

export interface RecordIdSetOptions {
  /** Ids the set should hold without growing (it grows anyway when needed). */
  expected?: number;
  /**
   * Also keep a number per id (the parser keeps the line where it first saw it); `claim` returns it
   * when the id is there already. Not saved by `save`.
   */
  withValues?: boolean;
}

export class RecordIdSet {
  /**
   * Slot i holds hi at stride*i, lo at stride*i+1 and, with values, the value at stride*i+2 (so a
   * probe touches one place in memory); (0, 0) is empty.
   */
  private table: Uint32Array;
  private readonly stride: number;
  private mask: number;
  private shift: number;
  private count = 0;
  private keptOut = 0;
  private limit: number;

  constructor(options: RecordIdSetOptions = {}) {
    let capacity = MIN_CAPACITY;
    const expected = options.expected ?? 0;
    while (capacity * MAX_LOAD < expected) capacity *= 2;
    this.stride = options.withValues ? 3 : 2;
    this.table = new Uint32Array(this.stride * capacity);
    this.mask = capacity - 1;
    this.shift = 32 - Math.log2(capacity);
    this.limit = Math.floor(capacity * MAX_LOAD);
  }

  /** Number of ids in the set. */
  get size(): number {
    return this.count;
  }

  /** Slots in the table (memory: 8 bytes each, 12 with values). */
  get capacity(): number {
    return this.mask + 1;
  }

  /** True when the id (or one with the same 64-bit hash) is in the set. */
  has(id: string): boolean {
    hashId(id);
    return this.find(hashHi, hashLo) >= 0;
  }

  /** Adds the id; returns true when it was not in the set yet. */
  add(id: string): boolean {
    hashId(id);
    return this.insert(hashHi, hashLo, 0) < 0;
  }

  /** True when the set keeps a value per id (`withValues`). */
  get hasValues(): boolean {
    return this.stride === 3;
  }

  /**
   * Adds the id with `value` (1 to 2^31 - 1) and returns -1; when the id is there already, changes
   * nothing and returns the value it was added with: 0 for an id added without one (e.g. loaded from a
   * saved set). Only for a set made `withValues`.
   */
  claim(id: string, value: number): number {
    if (this.stride !== 3) throw new Error("claim needs a RecordIdSet made withValues");
    if (!(value >= 1 && value <= MAX_VALUE)) throw new RangeError(`record id value ${value} is out of range (1 to ${MAX_VALUE})`);
    hashId(id);
    const at = this.insert(hashHi, hashLo, value);
    return at < 0 ? -1 : this.table[at + 2] & MAX_VALUE;
  }

  /**
   * Keeps an id that is in the set out of `save` (its record was not committed): it still counts for
   * `has` and `claim` in this run. Only for a set made `withValues`; false when the id is not there.
   */
  keepOut(id: string): boolean {
    if (this.stride !== 3) throw new Error("keepOut needs a RecordIdSet made withValues");
    hashId(id);
    const at = this.find(hashHi, hashLo);
    if (at < 0) return false;
    if ((this.table[at + 2] & KEPT_OUT) === 0) {
      this.table[at + 2] = (this.table[at + 2] | KEPT_OUT) >>> 0;
      this.keptOut++;
    }
    return true;
  }

  /** Ids `save` writes: all but those kept out. */
  get savedSize(): number {
    return this.count - this.keptOut;
  }

  /**
   * Makes room for `count` ids in all without growing again. Growing doubles the table and keeps the
   * old one until it is collected: for a set that will take millions of ids, reserving first keeps the
   * peak memory at the final table's size.
   */
  reserve(count: number): void {
    while (this.limit < count) this.grow();
  }

  /** Adds every id of `other` (that it would save). */
  addAll(other: RecordIdSet): void {
    // Grow first: the other table yields its hashes in slot order, and inserting hashes in that
    // order into a smaller table would pile them into one long probe run each time it grows.
    while (this.limit < this.count + other.savedSize) this.grow();
    const t = other.table;
    for (let i = 0; i < t.length; i += other.stride) {
      if ((t[i] !== 0 || t[i + 1] !== 0) && (other.stride === 2 || (t[i + 2] & KEPT_OUT) === 0)) this.insert(t[i], t[i + 1], 0);
    }
  }

  private slotOf(hi: number, lo: number): number {
    return Math.imul(hi ^ lo, 0x9e3779b1) >>> this.shift;
  }

  /** Index in the table of the hash's slot, or -1. */
  private find(hi: number, lo: number): number {
    const t = this.table;
    const mask = this.mask;
    const stride = this.stride;
    for (let s = this.slotOf(hi, lo); ; s = (s + 1) & mask) {
      const at = s * stride;
      const h = t[at];
      const l = t[at + 1];
      if (h === hi && l === lo) return at;
      if (h === 0 && l === 0) return -1;
    }
  }

  /** Returns -1 when inserted, else the index in the table where the hash already is. */
  private insert(hi: number, lo: number, value: number): number {
    if (this.count >= this.limit) this.grow();
    const t = this.table;
    const mask = this.mask;
    const stride = this.stride;
    for (let s = this.slotOf(hi, lo); ; s = (s + 1) & mask) {
      const at = s * stride;
      const h = t[at];
      const l = t[at + 1];
      if (h === hi && l === lo) return at;
      if (h === 0 && l === 0) {
        t[at] = hi;
        t[at + 1] = lo;
        if (stride === 3) t[at + 2] = value;
        this.count++;
        return -1;
      }
    }
  }

  private grow(): void {
    const old = this.table;
    const stride = this.stride;
    const capacity = 2 * (this.mask + 1);
    this.table = new Uint32Array(stride * capacity);
    this.mask = capacity - 1;
    this.shift = 32 - Math.log2(capacity);
    this.limit = Math.floor(capacity * MAX_LOAD);
    const t = this.table;
    for (let i = 0; i < old.length; i += stride) {
      const hi = old[i];
      const lo = old[i + 1];
      if (hi === 0 && lo === 0) continue;
      let s = this.slotOf(hi, lo);
      while (t[s * stride] !== 0 || t[s * stride + 1] !== 0) s = (s + 1) & this.mask;
      t[s * stride] = hi;
      t[s * stride + 1] = lo;
      if (stride === 3) t[s * stride + 2] = old[i + 2];
    }
  }

  /**
   * Writes the set (but the ids kept out) to `file` atomically (temp file in the same folder, fsync, rename). Format:
   * "RLIDSET1", the id count (u64 LE), a checksum (sum of the high halves and sum of the low halves,
   * each mod 2^32, u32 LE), then one (hi u32 LE, lo u32 LE) pair per id.
   */
  async save(file: string): Promise<void> {
    const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
    const handle = await fs.promises.open(tmp, "wx");
    try {
      await handle.write(Buffer.alloc(HEADER_BYTES), 0, HEADER_BYTES, 0);
      let sumHi = 0;
      let sumLo = 0;
      let position = HEADER_BYTES;
      const buf = Buffer.allocUnsafe(SAVE_CHUNK_IDS * 8);
      let n = 0;
      const t = this.table;
      for (let i = 0; i < t.length; i += this.stride) {
        const hi = t[i];
        const lo = t[i + 1];
        if ((hi === 0 && lo === 0) || (this.stride === 3 && (t[i + 2] & KEPT_OUT) !== 0)) continue;
        buf.writeUInt32LE(hi, n * 8);
        buf.writeUInt32LE(lo, n * 8 + 4);
        sumHi = (sumHi + hi) >>> 0;
        sumLo = (sumLo + lo) >>> 0;
        if (++n === SAVE_CHUNK_IDS) {
          await handle.write(buf, 0, n * 8, position);
          position += n * 8;
          n = 0;
        }
      }
      if (n > 0) await handle.write(buf, 0, n * 8, position);
      const header = Buffer.alloc(HEADER_BYTES);
      MAGIC.copy(header, 0);
      const saved = this.savedSize;
      header.writeUInt32LE(saved >>> 0, 8);
      header.writeUInt32LE(Math.floor(saved / 2 ** 32), 12);
      header.writeUInt32LE(sumHi, 16);
      header.writeUInt32LE(sumLo, 20);
      await handle.write(header, 0, HEADER_BYTES, 0);
      await handle.sync();
      await handle.close();
      await fs.promises.rename(tmp, file);
    } catch (err) {
      await handle.close().catch(() => undefined);
      await fs.promises.rm(tmp, { force: true });
      throw err;
    }
  }

  /**
   * Reads a set written by `save`. Throws InputError when the file is missing (unless `missingOk`,
   * which returns an empty set), or is not such a file, or is damaged (size or checksum). `room`: ids
   * to make room for beyond those of the file (the table is sized once, see `reserve`); `withValues`
   * as in the constructor.
   */
  static async load(file: string, options: { missingOk?: boolean; room?: number; withValues?: boolean } = {}): Promise<RecordIdSet> {
    const room = options.room ?? 0;
    let data: Buffer;
    try {
      data = await fs.promises.readFile(file);
    } catch (cause) {
      const code = (cause as { code?: string }).code;
      if (code === "ENOENT" && options.missingOk) return new RecordIdSet({ expected: room, withValues: options.withValues });
      throw new InputError(code === "ENOENT" ? "record id set not found" : `cannot read the record id set (${code ?? String(cause)})`, {
        location: { file },
        cause,
        hint: "check the path; the ingest writes this file after it commits the first file of a period.",
      });
    }
    const damaged = (what: string): InputError =>
      new InputError(`not a usable record id set: ${what}`, {
        location: { file },
        hint: "restore it from a backup; without it, duplicates of records committed earlier in this period go undetected.",
      });
    if (data.length < HEADER_BYTES || !data.subarray(0, MAGIC.length).equals(MAGIC)) throw damaged("it does not start with RLIDSET1");
    const count = data.readUInt32LE(8) + data.readUInt32LE(12) * 2 ** 32;
    if (data.length !== HEADER_BYTES + count * 8) {
      throw damaged(`it is ${data.length} bytes long, expected ${HEADER_BYTES + count * 8} for ${count} ids (truncated?)`);
    }
    const set = new RecordIdSet({ expected: count + room, withValues: options.withValues });
    let sumHi = 0;
    let sumLo = 0;
    for (let i = 0, o = HEADER_BYTES; i < count; i++, o += 8) {
      const hi = data.readUInt32LE(o);
      const lo = data.readUInt32LE(o + 4);
      sumHi = (sumHi + hi) >>> 0;
      sumLo = (sumLo + lo) >>> 0;
      if ((hi === 0 && lo === 0) || set.insert(hi, lo, 0) >= 0) throw damaged(`entry ${i + 1} is empty or repeated`);
    }
    if (sumHi !== data.readUInt32LE(16) || sumLo !== data.readUInt32LE(20)) throw damaged("checksum mismatch");
    return set;
  }
}
