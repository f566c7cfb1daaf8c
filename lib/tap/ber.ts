/**
 * A streaming BER decoder (ITU-T X.690 Basic Encoding Rules) for files of any size: TAP and RAP files.
 *
 * The reader pulls chunks from an async iterator of Buffers (a `fs.ReadStream` is one) and hands out one event
 * at a time: the start of a constructed element, a primitive element with its value, or the end of a
 * constructed element. Only the bytes not yet consumed stay in memory (plus the chunk being read), so memory is
 * flat whatever the file size. Definite and indefinite lengths, long-form tags and long-form lengths are read;
 * every structural problem (a truncated file, a length that overflows its parent or the file, nesting deeper
 * than allowed, a stray end-of-contents) is a `BerError` naming the byte offset and what to do.
 *
 * Speed: `next()` is async, but most of its work is the synchronous `nextSync()`; a caller that wants whole
 * small elements (a TAP call event) takes them with `readElement()` and walks them with a reader over that
 * buffer (`BerReader.fromBuffer`), with no await per element.
 */
import fs from "node:fs";
import { InputError } from "../core/errors";

export enum TagClass {
  Universal = 0,
  Application = 1,
  Context = 2,
  Private = 3,
}

export interface BerHeader {
  cls: TagClass;
  constructed: boolean;
  tag: number;
  /** Content length in bytes, or -1 for the indefinite form (content ends with 00 00). */
  length: number;
  /** Absolute byte offset of the identifier octet in the file. */
  offset: number;
  /** Bytes of identifier and length octets. */
  headerLength: number;
}

/** What `nextToken()` read. */
export enum Token {
  /** The end of the input (or of the bytes of a reader from `fromBuffer`). */
  None = 0,
  Start = 1,
  End = 2,
  Primitive = 3,
  /** More bytes must be read first (`await next()`). */
  NeedMore = 4,
}

export type BerEvent =
  | { type: "start"; header: BerHeader }
  | { type: "end"; header: BerHeader }
  | { type: "primitive"; header: BerHeader; value: Buffer };

/** A structural or value problem in a BER file, at a byte offset. */
export class BerError extends InputError {
  override name = "BerError";
  readonly offset: number;

  constructor(problem: string, offset: number, options: { file?: string; hint?: string; what?: string } = {}) {
    super(problem, {
      location: { file: options.file ?? "input", field: `byte ${offset}${options.what ? `, ${options.what}` : ""}` },
      hint: options.hint,
    });
    this.offset = offset;
  }
}

export interface BerReaderOptions {
  /** File name for error messages. */
  file?: string;
  /** The file's size when known: a length reaching past it is reported at once, not at the end. */
  fileSize?: number;
  /** Deepest nesting of constructed elements allowed (TAP 3.12 needs 10; default 24). */
  maxDepth?: number;
  /** Largest primitive value or whole element read into memory (default 1 MiB). */
  maxElementBytes?: number;
  /** Names of tags for messages (`tag number -> name`, APPLICATION class). */
  names?: ReadonlyMap<number, string>;
  /** Absolute offset of the first byte (for a reader over part of a file). */
  base?: number;
  /** What the bytes are, when they are one element's content ("MobileOriginatedCall at byte 383"). */
  within?: string | (() => string);
  /** How deep that element's content sits in the file (counts toward `maxDepth`). */
  outerDepth?: number;
}

/** Where BER bytes come from: a file path, bytes in memory, or a stream of chunks (a ReadStream). */
export type BerSource = string | Buffer | AsyncIterable<Buffer | Uint8Array | string>;

/** A reader over any source (a path is read in chunks, see `openBerFile`). */
export function berReader(source: BerSource, options: BerReaderOptions & { chunkSize?: number }): BerReader {
  if (typeof source === "string") return openBerFile(source, options);
  if (Buffer.isBuffer(source)) return BerReader.fromBuffer(source, options);
  return new BerReader(source, options);
}

interface Open {
  header: BerHeader;
  /** Absolute end offset, or -1 (indefinite). */
  end: number;
}

/** `nextSync()` and `readElementSync()` need more bytes than are in memory: `await` the async form. */
export const NEED_MORE: unique symbol = Symbol("need more bytes");
const TRUNCATED_HINT = "the file is incomplete (cut off in transfer or still being written); ask the sender for the complete file.";
const CORRUPT_HINT =
  "the file is not valid BER; check it is the file the sender sent (not a damaged or converted copy) and ask for a new one.";

/** Reads one identifier+length header at `pos`, or NEED_MORE when the buffer ends first. */
function parseHeader(
  buf: Buffer,
  pos: number,
  end: number,
  abs: number,
  fail: (m: string, o: number) => never,
): BerHeader | typeof NEED_MORE {
  if (pos >= end) return NEED_MORE;
  const b0 = buf[pos];
  let p = pos + 1;
  let tag = b0 & 0x1f;
  if (tag === 0x1f) {
    tag = 0;
    for (let n = 0; ; n++) {
      if (p >= end) return NEED_MORE;
      const b = buf[p++];
      if (n === 4) fail("a tag number longer than 4 bytes (larger than any standard uses)", abs);
      tag = tag * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) break;
    }
  }
  if (p >= end) return NEED_MORE;
  const l0 = buf[p++];
  let length = l0;
  if (l0 === 0x80) {
    if ((b0 & 0x20) === 0) fail("a primitive element with the indefinite length form (only constructed ones may have it)", abs);
    length = -1;
  } else if (l0 > 0x80) {
    const n = l0 & 0x7f;
    if (n > 6) fail(`a length of ${n} bytes (over 2^48 bytes; reserved or corrupt)`, abs);
    if (p + n > end) return NEED_MORE;
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + buf[p++];
  }
  return { cls: b0 >> 6, constructed: (b0 & 0x20) !== 0, tag, length, offset: abs, headerLength: p - pos };
}

export class BerReader {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  /** Absolute offset of buf[0]. */
  private base: number;
  private done = false;
  private readonly stack: Open[] = [];
  private readonly iterator?: AsyncIterator<Buffer | Uint8Array | string>;
  readonly file: string;
  private readonly fileSize: number;
  private limit: number;
  private readonly maxDepth: number;
  private readonly maxElementBytes: number;
  private readonly names?: ReadonlyMap<number, string>;
  private within?: string | (() => string);
  private readonly outerDepth: number;

  constructor(source: AsyncIterable<Buffer | Uint8Array | string> | null, options: BerReaderOptions = {}) {
    this.iterator = source ? source[Symbol.asyncIterator]() : undefined;
    this.file = options.file ?? "input";
    this.fileSize = options.fileSize ?? Number.POSITIVE_INFINITY;
    this.base = options.base ?? 0;
    this.limit = this.fileSize;
    this.maxDepth = options.maxDepth ?? 24;
    this.maxElementBytes = options.maxElementBytes ?? 1 << 20;
    this.names = options.names;
    this.within = options.within;
    this.outerDepth = options.outerDepth ?? 0;
    if (!source) this.done = true;
  }

  /** A reader over bytes already in memory (`base`: their offset in the file, for messages). */
  static fromBuffer(bytes: Buffer, options: BerReaderOptions = {}): BerReader {
    const base = options.base ?? 0;
    const reader = new BerReader(null, { ...options, fileSize: base + bytes.length });
    reader.buf = bytes;
    return reader;
  }

  /** Points a reader from `fromBuffer` at other bytes (one per call event, without a new reader each time). */
  reset(bytes: Buffer, base: number, within?: string | (() => string)): void {
    this.buf = bytes;
    this.pos = 0;
    this.base = base;
    this.limit = base + bytes.length;
    this.stack.length = 0;
    this.within = within;
  }

  /** Absolute offset of the next unread byte. */
  get offset(): number {
    return this.base + this.pos;
  }

  get depth(): number {
    return this.stack.length;
  }

  /** The name of an APPLICATION tag for messages ("Imsi (APPLICATION 129)"), or its class and number. */
  describe(h: Pick<BerHeader, "cls" | "tag">): string {
    const cls = ["UNIVERSAL", "APPLICATION", "CONTEXT", "PRIVATE"][h.cls];
    const name = h.cls === TagClass.Application ? this.names?.get(h.tag) : undefined;
    return name ? `${name} (${cls} ${h.tag})` : `${cls} ${h.tag}`;
  }

  /** Throws a BerError at `offset` (hint: what to do). */
  fail(problem: string, offset: number, hint: string = CORRUPT_HINT, what?: string): never {
    throw new BerError(problem, offset, { file: this.file, hint, what });
  }

  private readonly failHeader = (m: string, o: number): never => this.fail(m, o);

  /** The next event, or null at the end of the input. */
  async next(): Promise<BerEvent | null> {
    for (;;) {
      const e = this.nextSync();
      if (e !== NEED_MORE) return e;
      await this.fill();
    }
  }

  /**
   * The next event from the bytes in memory, or NEED_MORE when more must be read first (never for a reader
   * from `fromBuffer`: it reports truncation instead).
   */
  nextSync(): BerEvent | null | typeof NEED_MORE {
    const t = this.nextToken();
    if (t === Token.Start) return { type: "start", header: this.token };
    if (t === Token.End) return { type: "end", header: this.token };
    if (t === Token.Primitive)
      return { type: "primitive", header: this.token, value: this.buf.subarray(this.valueAt, this.valueAt + this.token.length) };
    return t === Token.None ? null : NEED_MORE;
  }

  /** `nextToken()`, reading more of the input when needed (never NeedMore). */
  async nextTokenAsync(): Promise<Token> {
    for (;;) {
      const t = this.nextToken();
      if (t !== Token.NeedMore) return t;
      await this.fill();
    }
  }

  /** The element of the last token (start, end or primitive). */
  token!: BerHeader;
  /** For a primitive token: where its value starts in `bytes` (it is `token.length` long). */
  valueAt = 0;

  /** The bytes in memory (for a primitive token, its value is `bytes[valueAt, valueAt + token.length)`). */
  get bytes(): Buffer {
    return this.buf;
  }

  /**
   * `nextSync` without allocating an event or a value Buffer: the element is in `token` (and `valueAt`),
   * for the tight loop that walks a call event.
   */
  nextToken(): Token {
    const top = this.stack.length > 0 ? this.stack[this.stack.length - 1] : undefined;
    const abs = this.base + this.pos;
    if (top && top.end === abs) {
      this.stack.pop();
      this.token = top.header;
      return Token.End;
    }
    const h = parseHeader(this.buf, this.pos, this.buf.length, abs, this.failHeader);
    if (h === NEED_MORE) return this.atBufferEnd(abs) === null ? Token.None : Token.NeedMore;
    if (h.tag === 0 && h.cls === TagClass.Universal) {
      this.token = this.endOfContents(h, top);
      return Token.End;
    }
    const end = h.length < 0 ? -1 : abs + h.headerLength + h.length;
    this.checkFits(h, end, top);
    this.token = h;
    if (h.constructed) {
      if (this.stack.length + this.outerDepth >= this.maxDepth) {
        const depth = this.stack.length + this.outerDepth + 1;
        this.fail(`${this.describe(h)} is nested ${depth} deep, deeper than the ${this.maxDepth} levels allowed`, abs, CORRUPT_HINT);
      }
      this.pos += h.headerLength;
      this.stack.push({ header: h, end });
      return Token.Start;
    }
    if (h.length > this.maxElementBytes) {
      this.fail(`${this.describe(h)} holds ${h.length} bytes, more than the ${this.maxElementBytes} a value may have`, abs);
    }
    const valueAt = this.pos + h.headerLength;
    if (valueAt + h.length > this.buf.length) return this.atBufferEnd(abs) === null ? Token.None : Token.NeedMore;
    this.pos = valueAt + h.length;
    this.valueAt = valueAt;
    return Token.Primitive;
  }

  private atBufferEnd(abs: number): null | typeof NEED_MORE {
    if (!this.done) return NEED_MORE;
    if (this.pos >= this.buf.length && this.stack.length === 0) return null;
    const open = this.stack[this.stack.length - 1];
    const inside = open ? `, inside ${this.describe(open.header)} that starts at byte ${open.header.offset}` : "";
    const at = this.base + this.buf.length;
    const partial = abs < at ? `, in the middle of the element at byte ${abs}` : "";
    return this.fail(`the input ends at byte ${at}${partial}${inside}`, abs, TRUNCATED_HINT);
  }

  private endOfContents(h: BerHeader, top: Open | undefined): BerHeader {
    if (h.constructed || h.length !== 0) this.fail("a UNIVERSAL 0 element that is not an end-of-contents marker (00 00)", h.offset);
    if (!top || top.end !== -1) {
      const where = top ? `inside ${this.describe(top.header)}, which has a definite length` : "outside any element";
      this.fail(`an end-of-contents marker (00 00) ${where}`, h.offset);
    }
    this.pos += h.headerLength;
    this.stack.pop();
    return top.header;
  }

  private checkFits(h: BerHeader, end: number, top: Open | undefined): void {
    if (end < 0) return;
    if (top && top.end >= 0 && end > top.end) {
      this.fail(
        `${this.describe(h)} is ${h.length} bytes long and runs to byte ${end}, past the end of ${this.describe(top.header)} at byte ${top.end}`,
        h.offset,
      );
    }
    if (end > this.limit) {
      const within = typeof this.within === "function" ? this.within() : this.within;
      const what = within ? `the end of ${within} at byte ${this.limit}` : `the end of the input (${this.limit} bytes)`;
      this.fail(
        `${this.describe(h)} is ${h.length} bytes long and runs to byte ${end}, past ${what}`,
        h.offset,
        this.within ? CORRUPT_HINT : TRUNCATED_HINT,
      );
    }
  }

  /** Reads the next chunk into the buffer (dropping consumed bytes); marks the end of input. */
  private async fill(): Promise<void> {
    if (this.done || !this.iterator) {
      this.done = true;
      return;
    }
    const r = await this.iterator.next();
    if (r.done) {
      this.done = true;
      return;
    }
    const chunk = typeof r.value === "string" ? Buffer.from(r.value) : Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    const rest = this.buf.subarray(this.pos);
    this.base += this.pos;
    this.pos = 0;
    this.buf = rest.length === 0 ? chunk : Buffer.concat([rest, chunk]);
  }

  /**
   * The content of the constructed element whose "start" event was just returned, read whole into memory
   * (at most `maxElementBytes`); the element counts as ended. Returns its bytes and their absolute offset,
   * to walk with `BerReader.fromBuffer(content, { base })`. For the indefinite form the closing 00 00 is
   * not part of the content.
   */
  async readElement(start: BerHeader): Promise<{ content: Buffer; base: number }> {
    for (;;) {
      const r = this.readElementSync(start);
      if (r !== NEED_MORE) return r;
      await this.fill();
    }
  }

  /** `readElement` from the bytes in memory, or NEED_MORE when more must be read first. */
  readElementSync(start: BerHeader): { content: Buffer; base: number } | typeof NEED_MORE {
    const open = this.stack[this.stack.length - 1];
    if (!open || open.header !== start) throw new Error("readElement: not at the start of that element");
    const size = start.length >= 0 ? start.length : scanIndefinite(this.buf, this.pos, this.failHeader, this.base);
    if (size !== NEED_MORE && this.pos + size <= this.buf.length) {
      const base = this.base + this.pos;
      const content = this.buf.subarray(this.pos, this.pos + size);
      this.pos += size + (start.length >= 0 ? 0 : 2);
      this.stack.pop();
      return { content, base };
    }
    if (this.buf.length - this.pos > this.maxElementBytes) {
      this.fail(`${this.describe(start)} is larger than the ${this.maxElementBytes} bytes an element read whole may have`, start.offset);
    }
    if (this.done) this.atBufferEnd(this.base + this.buf.length);
    return NEED_MORE;
  }

  /** Skips the rest of the element whose "start" event was just returned, in flat memory whatever its size. */
  async skipElement(start: BerHeader): Promise<void> {
    const open = this.stack[this.stack.length - 1];
    if (!open || open.header !== start) throw new Error("skipElement: not at the start of that element");
    if (start.length < 0) {
      const depth = this.stack.length;
      while (this.stack.length >= depth) await this.next();
      return;
    }
    while (this.base + this.buf.length < open.end) {
      if (this.done) this.atBufferEnd(this.base + this.buf.length);
      this.pos = this.buf.length;
      await this.fill();
    }
    this.pos = open.end - this.base;
    this.stack.pop();
  }

  /** After the root element: fails unless the input ends here. */
  async expectEnd(what: string): Promise<void> {
    const e = await this.next();
    if (e !== null) {
      this.fail(`data after the end of the ${what} (a file holds one ${what})`, e.header.offset, CORRUPT_HINT);
    }
  }
}

/**
 * The content size of an indefinite-length element whose content starts at `pos` (up to its closing 00 00),
 * or NEED_MORE when the buffer ends first.
 */
function scanIndefinite(buf: Buffer, start: number, fail: (m: string, o: number) => never, base: number): number | typeof NEED_MORE {
  let pos = start;
  let depth = 1;
  while (pos < buf.length) {
    const h = parseHeader(buf, pos, buf.length, base + pos, fail);
    if (h === NEED_MORE) return NEED_MORE;
    if (h.tag === 0 && h.cls === TagClass.Universal && !h.constructed && h.length === 0) {
      depth--;
      if (depth === 0) return pos - start;
      pos += h.headerLength;
      continue;
    }
    pos += h.headerLength;
    if (h.length < 0) depth++;
    else pos += h.length;
  }
  return NEED_MORE;
}

/** A reader over a file, read in chunks of `chunkSize` bytes (default 256 KiB). */
export function openBerFile(file: string, options: Omit<BerReaderOptions, "fileSize"> & { chunkSize?: number } = {}): BerReader {
  const fileSize = fs.statSync(file).size;
  const stream = fs.createReadStream(file, { highWaterMark: options.chunkSize ?? 256 * 1024 });
  return new BerReader(stream, { ...options, file: options.file ?? file, fileSize });
}

// ---- values ----

/** A BER INTEGER (two's complement, big-endian) of `length` bytes at `at`, or NaN when empty or beyond 2^53. */
export function integerAt(bytes: Buffer, at: number, length: number): number {
  if (length === 0 || length > 7) return Number.NaN;
  let v = bytes[at] >= 0x80 ? bytes[at] - 256 : bytes[at];
  for (let i = at + 1; i < at + length; i++) v = v * 256 + bytes[i];
  return Number.isSafeInteger(v) ? v : Number.NaN;
}

/** A BER INTEGER as a number, or NaN when empty or beyond 2^53. */
export function readInteger(value: Buffer): number {
  return integerAt(value, 0, value.length);
}

/** A BER INTEGER as a number; `at()` reports it when empty or beyond 2^53. */
export function decodeInteger(value: Buffer, at: () => never): number {
  const v = readInteger(value);
  return Number.isNaN(v) ? at() : v;
}

/** An OCTET STRING holding ISO 646 text (AsciiString, NumberString, HexString), trimmed as TD.57 says. */
export function decodeAscii(value: Buffer): string {
  return value.toString("latin1").trim();
}

const TBCD_DIGITS = "0123456789abcdef";

/**
 * A TBCD/BCD string (two digits a byte, high nibble first, TD.57 BCDString): digits 0-9 and a-e, one filler
 * nibble F allowed only as the very last one (odd digit count). Returns null when it is malformed.
 */
export function decodeTbcd(value: Buffer): string | null {
  let s = "";
  for (let i = 0; i < value.length; i++) {
    const hi = value[i] >> 4;
    const lo = value[i] & 0x0f;
    if (hi === 0x0f) return null;
    s += TBCD_DIGITS[hi];
    if (lo === 0x0f) {
      if (i !== value.length - 1) return null;
      break;
    }
    s += TBCD_DIGITS[lo];
  }
  return s;
}

/** One element of a small group read whole: a primitive value or the children. */
export interface BerNode {
  header: BerHeader;
  value?: Buffer;
  children?: BerNode[];
}

/** The elements in `content` (a group read with `readElement`), as a tree. For small groups only. */
export function parseTree(content: Buffer, options: BerReaderOptions): BerNode[] {
  const reader = BerReader.fromBuffer(content, options);
  const root: BerNode[] = [];
  const stack: BerNode[][] = [root];
  for (;;) {
    const e = reader.nextSync();
    if (e === null || typeof e === "symbol") break;
    const siblings = stack[stack.length - 1];
    if (e.type === "primitive") siblings.push({ header: e.header, value: e.value });
    else if (e.type === "start") {
      const node: BerNode = { header: e.header, children: [] };
      siblings.push(node);
      stack.push(node.children as BerNode[]);
    } else stack.pop();
  }
  return root;
}
