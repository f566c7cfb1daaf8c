/**
 * Devices of the decision cache in a compact layout, so a million fit in tens of megabytes: each device is a
 * slot in typed arrays (its 32-byte id, home PLMN, status, policy version and policy definition) and an
 * open-addressing hash table (Int32Array, linear probing on the id's first four bytes, which keccak makes
 * uniform) maps an id to its slot. No per-device JS object, string or Map entry.
 */
const INITIAL_SLOTS = 1024;
/** Bytes a device costs in the table's arrays (id 32, home 4, status 1, version 4, policy 4) besides the index. */
export const DEVICE_RECORD_BYTES = 45;

export interface DeviceFields {
  home: number;
  status: number;
  policyVersion: number;
  policyId: number;
}

export class DeviceTable {
  private ids = new Uint8Array(INITIAL_SLOTS * 32);
  home = new Uint32Array(INITIAL_SLOTS);
  status = new Uint8Array(INITIAL_SLOTS);
  version = new Uint32Array(INITIAL_SLOTS);
  policy = new Uint32Array(INITIAL_SLOTS);
  /** Slot + 1 per bucket (0: empty); its length is a power of two at least twice the device count. */
  private index = new Int32Array(INITIAL_SLOTS * 2);
  size = 0;

  /** The slot of the device with id `id` (32 bytes at `at`), or -1. */
  find(id: Uint8Array, at = 0): number {
    const mask = this.index.length - 1;
    let bucket = hashOf(id, at) & mask;
    for (;;) {
      const entry = this.index[bucket];
      if (entry === 0) return -1;
      if (this.sameId(entry - 1, id, at)) return entry - 1;
      bucket = (bucket + 1) & mask;
    }
  }

  /** The slot of `id`, added (with zero fields) when new. */
  upsert(id: Uint8Array, at = 0): number {
    const found = this.find(id, at);
    if (found >= 0) return found;
    if (this.size === this.home.length) this.grow();
    const slot = this.size++;
    this.ids.set(id.subarray(at, at + 32), slot * 32);
    this.insertIndex(slot);
    return slot;
  }

  set(slot: number, fields: DeviceFields): void {
    this.home[slot] = fields.home;
    this.status[slot] = fields.status;
    this.version[slot] = fields.policyVersion;
    this.policy[slot] = fields.policyId;
  }

  /** The id bytes of `slot` (a view: copy it to keep it). */
  idOf(slot: number): Uint8Array {
    return this.ids.subarray(slot * 32, slot * 32 + 32);
  }

  /** Bytes the table holds (its arrays, index included). */
  byteLength(): number {
    return (
      this.ids.byteLength +
      this.home.byteLength +
      this.status.byteLength +
      this.version.byteLength +
      this.policy.byteLength +
      this.index.byteLength
    );
  }

  /** The table as one buffer: the count, then each array up to the count (for a snapshot). */
  serialize(): Buffer {
    const n = this.size;
    const head = Buffer.alloc(4);
    head.writeUInt32LE(n);
    return Buffer.concat([
      head,
      this.ids.subarray(0, n * 32),
      bytesOf(this.home.subarray(0, n)),
      this.status.subarray(0, n),
      bytesOf(this.version.subarray(0, n)),
      bytesOf(this.policy.subarray(0, n)),
    ]);
  }

  /** The table `serialize` wrote; throws on a truncated buffer. */
  static deserialize(buf: Buffer): DeviceTable {
    const n = buf.readUInt32LE(0);
    if (buf.length !== 4 + n * DEVICE_RECORD_BYTES) throw new Error(`device table of ${n} devices has ${buf.length} bytes`);
    const t = new DeviceTable();
    t.reserve(n);
    let at = 4;
    const take = (len: number) => {
      const part = buf.subarray(at, at + len);
      at += len;
      return part;
    };
    t.ids.set(take(n * 32));
    t.home.set(new Uint32Array(copyOut(take(n * 4))));
    t.status.set(take(n));
    t.version.set(new Uint32Array(copyOut(take(n * 4))));
    t.policy.set(new Uint32Array(copyOut(take(n * 4))));
    t.size = n;
    for (let slot = 0; slot < n; slot++) t.insertIndex(slot);
    return t;
  }

  /** Makes room for `n` devices at once (a bulk fill). */
  reserve(n: number): void {
    while (this.home.length < n) this.grow();
  }

  private sameId(slot: number, id: Uint8Array, at: number): boolean {
    const base = slot * 32;
    for (let i = 0; i < 32; i++) if (this.ids[base + i] !== id[at + i]) return false;
    return true;
  }

  private insertIndex(slot: number): void {
    const mask = this.index.length - 1;
    let bucket = hashOf(this.ids, slot * 32) & mask;
    while (this.index[bucket] !== 0) bucket = (bucket + 1) & mask;
    this.index[bucket] = slot + 1;
  }

  private grow(): void {
    const slots = this.home.length * 2;
    this.ids = extend(this.ids, slots * 32);
    this.home = extend(this.home, slots);
    this.status = extend(this.status, slots);
    this.version = extend(this.version, slots);
    this.policy = extend(this.policy, slots);
    this.index = new Int32Array(slots * 2);
    for (let slot = 0; slot < this.size; slot++) this.insertIndex(slot);
  }
}

function hashOf(id: Uint8Array, at: number): number {
  return ((id[at] << 24) | (id[at + 1] << 16) | (id[at + 2] << 8) | id[at + 3]) >>> 0;
}

type Typed = Uint8Array | Uint32Array;
function extend<T extends Typed>(a: T, length: number): T {
  const b = new (a.constructor as new (n: number) => T)(length);
  b.set(a);
  return b;
}

function bytesOf(a: Uint32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** An aligned copy of `part` (a Buffer slice may sit at an offset a Uint32Array cannot view). */
function copyOut(part: Buffer): ArrayBuffer {
  const copy = new ArrayBuffer(part.length);
  new Uint8Array(copy).set(part);
  return copy;
}
