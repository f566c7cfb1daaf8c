/**
 * A BER encoder (X.690), definite lengths by default: the RAP files RoamLedger writes and the TAP files its
 * generator writes. Elements are built bottom-up as Buffers (`app(tag, ...children)`); the indefinite form
 * (`indefinite: true`) exists for tests and for writers that stream; `BerBuilder` writes many elements in a row
 * into one buffer (the TAP generator's call events).
 */
import { type BerNode, TagClass } from "./ber";

/** The identifier octets of a tag (short form below 31, long form base-128 above). */
export function encodeIdentifier(cls: TagClass, constructed: boolean, tag: number): Buffer {
  if (!Number.isSafeInteger(tag) || tag < 0) throw new RangeError(`bad tag number ${tag}`);
  const first = (cls << 6) | (constructed ? 0x20 : 0);
  if (tag < 31) return Buffer.from([first | tag]);
  const digits: number[] = [];
  for (let t = tag; t > 0; t = Math.floor(t / 128)) digits.unshift(t % 128);
  return Buffer.from([first | 0x1f, ...digits.map((d, i) => (i < digits.length - 1 ? d | 0x80 : d))]);
}

/** The length octets: short form below 128, long form (minimal bytes) above. */
export function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let l = length; l > 0; l = Math.floor(l / 256)) bytes.unshift(l % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export interface TlvOptions {
  cls?: TagClass;
  /** Constructed with the indefinite length form (content closed by 00 00). */
  indefinite?: boolean;
}

/** One element: identifier, length and content (a primitive value, or the encoded children). */
export function tlv(tag: number, content: Buffer | readonly Buffer[], options: TlvOptions = {}): Buffer {
  const constructed = Array.isArray(content);
  const body = constructed ? Buffer.concat(content as readonly Buffer[]) : (content as Buffer);
  const id = encodeIdentifier(options.cls ?? TagClass.Application, constructed, tag);
  if (options.indefinite) {
    if (!constructed) throw new Error("the indefinite length form is for constructed elements only");
    return Buffer.concat([id, Buffer.from([0x80]), body, Buffer.from([0, 0])]);
  }
  return Buffer.concat([id, encodeLength(body.length), body]);
}

/** The content octets of an INTEGER (two's complement, minimal). */
export function integerContent(value: number): Buffer {
  if (!Number.isSafeInteger(value)) throw new RangeError(`${value} is not a safe integer`);
  const bytes: number[] = [];
  let v = BigInt(value);
  do {
    bytes.unshift(Number(v & 0xffn));
    v >>= 8n;
  } while (!((v === 0n && bytes[0] < 0x80) || (v === -1n && bytes[0] >= 0x80)));
  return Buffer.from(bytes);
}

/** The content octets of a TBCD string (digits, F filler when odd). */
export function tbcdContent(digits: string): Buffer {
  if (!/^[0-9a-e]*$/i.test(digits)) throw new RangeError(`"${digits}" is not a BCD digit string`);
  const padded = digits.length % 2 === 1 ? `${digits}f` : digits;
  return Buffer.from(padded, "hex");
}

/** Shorthands for APPLICATION-class elements, the only class TAP and RAP use. */
export const ber = {
  seq: (tag: number, children: readonly (Buffer | undefined)[], options?: TlvOptions): Buffer =>
    tlv(
      tag,
      children.filter((c): c is Buffer => c !== undefined),
      options,
    ),
  int: (tag: number, value: number): Buffer => tlv(tag, integerContent(value)),
  str: (tag: number, value: string): Buffer => tlv(tag, Buffer.from(value, "latin1")),
  tbcd: (tag: number, digits: string): Buffer => tlv(tag, tbcdContent(digits)),
};

/** The identifier and indefinite-length octet of a constructed element a streaming writer opens. */
export function openIndefinite(tag: number, cls: TagClass = TagClass.Application): Buffer {
  return Buffer.concat([encodeIdentifier(cls, true, tag), Buffer.from([0x80])]);
}

/** The end-of-contents octets closing an indefinite-length element. */
export const END_OF_CONTENTS: Buffer = Buffer.from([0, 0]);

/** Re-encodes decoded elements (`parseTree`), definite lengths: to edit a file and write it back. */
export function encodeNodes(nodes: readonly BerNode[]): Buffer {
  return Buffer.concat(
    nodes.map((n) => {
      const content = n.children ? [encodeNodes(n.children)] : (n.value ?? Buffer.alloc(0));
      return tlv(n.header.tag, content, { cls: n.header.cls });
    }),
  );
}

/**
 * A BER writer for many elements in a row (a TAP generator's call events): writes into one growing buffer,
 * constructed elements with definite lengths backpatched when they close (one length byte reserved, the
 * content moved when the long form needs more), no Buffer per element. `take()` hands out what was written.
 */
export class BerBuilder {
  private buf: Buffer;
  private pos = 0;
  /** Positions of the reserved length bytes of the open constructed elements. */
  private readonly open: number[] = [];
  private readonly ids = new Map<number, Buffer>();

  constructor(initialSize = 1 << 16) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  /** Bytes written and not yet taken. */
  get length(): number {
    return this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }

  private id(tag: number, constructed: boolean, cls: TagClass): void {
    const key = tag * 8 + cls * 2 + (constructed ? 1 : 0);
    let id = this.ids.get(key);
    if (id === undefined) {
      id = encodeIdentifier(cls, constructed, tag);
      this.ids.set(key, id);
    }
    this.ensure(id.length + 9);
    for (let i = 0; i < id.length; i++) this.buf[this.pos++] = id[i];
  }

  private length8(n: number): void {
    if (n < 0x80) {
      this.buf[this.pos++] = n;
      return;
    }
    const len = encodeLength(n);
    this.ensure(len.length);
    len.copy(this.buf, this.pos);
    this.pos += len.length;
  }

  /** Opens a constructed element (closed by `end`). */
  start(tag: number, cls: TagClass = TagClass.Application): this {
    this.id(tag, true, cls);
    this.open.push(this.pos);
    this.buf[this.pos++] = 0;
    return this;
  }

  /** Closes the element `start` opened last, writing its definite length. */
  end(): this {
    const at = this.open.pop();
    if (at === undefined) throw new Error("BerBuilder.end() without start()");
    const length = this.pos - at - 1;
    if (length < 0x80) {
      this.buf[at] = length;
      return this;
    }
    const len = encodeLength(length);
    const extra = len.length - 1;
    this.ensure(extra);
    this.buf.copyWithin(at + len.length, at + 1, this.pos);
    len.copy(this.buf, at);
    this.pos += extra;
    return this;
  }

  /** A primitive INTEGER. */
  int(tag: number, value: number, cls: TagClass = TagClass.Application): this {
    this.id(tag, false, cls);
    if (value >= 0 && value < 0x80) {
      this.buf[this.pos++] = 1;
      this.buf[this.pos++] = value;
      return this;
    }
    return this.bytes(integerContent(value));
  }

  /** A primitive string (latin1, the AsciiString of TAP). */
  str(tag: number, value: string, cls: TagClass = TagClass.Application): this {
    this.id(tag, false, cls);
    this.length8(value.length);
    this.ensure(value.length);
    this.pos += this.buf.write(value, this.pos, "latin1");
    return this;
  }

  /** A primitive TBCD string of digits (F filler when odd). */
  tbcd(tag: number, digits: string, cls: TagClass = TagClass.Application): this {
    this.id(tag, false, cls);
    return this.bytes(tbcdContent(digits));
  }

  /** Length and content of a primitive whose identifier was written. */
  private bytes(content: Buffer): this {
    this.length8(content.length);
    this.ensure(content.length);
    content.copy(this.buf, this.pos);
    this.pos += content.length;
    return this;
  }

  /** Bytes already encoded (an element built elsewhere, end-of-contents). */
  raw(bytes: Buffer): this {
    this.ensure(bytes.length);
    bytes.copy(this.buf, this.pos);
    this.pos += bytes.length;
    return this;
  }

  /** A copy of everything written (all elements closed), and a fresh start. */
  take(): Buffer {
    if (this.open.length > 0) throw new Error(`BerBuilder.take() with ${this.open.length} element(s) still open`);
    const out = Buffer.from(this.buf.subarray(0, this.pos));
    this.pos = 0;
    return out;
  }
}
