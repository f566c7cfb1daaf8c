/**
 * The fast path of the TAP mapping (docs/tap.md, "Throughput"): walks one call event's bytes once and keeps
 * what a usage record and its charges need in plain numeric fields (the open groups in typed arrays, values
 * read straight from the bytes: no object per element, no Buffer per value, no `TapCallEvent`).
 *
 * It only ever *accepts*: whenever a call event is anything but a plain, valid MobileOriginatedCall,
 * MobileTerminatedCall or GprsCall (an unknown or nested group, a value that is not valid, a structure error,
 * a second start time group inside the first...), `walk` returns false and the caller decodes the call event
 * the full way (lib/tap/callEvent.ts decodeCallEvent, then TapMapper.map), which finds the problem, the
 * reject and its words. Both ways give the same record, charges and audit totals (test/unit/tap/fastMap.test.ts).
 */
import { START_TAGS } from "./callEvent";
import { T, TAP_TAG_NAMES } from "./tags";

/** Tags TAP 3.12 defines (APPLICATION class), by number: the others make the full decoder count and skip them. */
const KNOWN = new Uint8Array(1024);
for (const tag of TAP_TAG_NAMES.keys()) if (tag < KNOWN.length) KNOWN[tag] = 1;

/** Groups that can carry a call event's start (lib/tap/callEvent.ts START_TAGS). */
const START = new Uint8Array(KNOWN.length);
for (const tag of START_TAGS) START[tag] = 1;

const SESSION_CHARGE_INFORMATION = 449;
/** Open groups a call event may nest (the full decoder allows 16 levels less the 3 above a call event's content; one spare). */
const MAX_NESTING = 12;
/** "00" */
const ZERO = 0x30;

/** A BER INTEGER at `at` (1 to 6 bytes, so always a safe integer), or NaN: lib/tap/ber.ts integerAt, stricter. */
function intAt(b: Buffer, at: number, length: number): number {
  if (length === 0 || length > 6) return Number.NaN;
  let v = b[at] >= 0x80 ? b[at] - 256 : b[at];
  for (let i = at + 1; i < at + length; i++) v = v * 256 + b[i];
  return v;
}

/** True when the `length` bytes at `at` are TBCD digits 0-9, with an F filler only in the last nibble. */
function tbcdDigits(b: Buffer, at: number, length: number): boolean {
  for (let i = at; i < at + length; i++) {
    const hi = b[i] >> 4;
    const lo = b[i] & 0x0f;
    if (hi > 9) return false;
    if (lo > 9 && !(lo === 0x0f && i === at + length - 1)) return false;
  }
  return true;
}

const DIGIT_PAIRS: string[] = [];
for (let i = 0; i < 256; i++) DIGIT_PAIRS.push(`${i >> 4}${i & 0x0f}`);

/**
 * One walk at a time (synchronous): `walk` fills the fields, the caller reads them. Positions are into the
 * walked bytes; -1 or NaN: not there.
 */
export class CallEventWalker {
  private readonly ends = new Int32Array(MAX_NESTING);
  private readonly tags = new Int32Array(MAX_NESTING);
  private b: Buffer = Buffer.alloc(0);

  /** The first Imsi's value. */
  imsiAt = -1;
  imsiLength = 0;
  /** The first CallEventStartTimeStamp's LocalTimeStamp (14 bytes) and UtcTimeOffsetCode. */
  localAt = -1;
  offsetCode = Number.NaN;
  /** The first TotalCallEventDuration; the GPRS volumes added up. */
  duration = Number.NaN;
  volumeIncoming = 0;
  volumeOutgoing = 0;
  /** Of the first TeleServiceCode that is speech (10-12) or a short message (20-22): 1 or 2; 0 for none. */
  teleService = 0;
  /** Charges of type "00" added up, the CAMEL invocation fees, taxes, discounts; the first charge's exchange rate code. */
  charge = 0;
  camelFee = 0;
  tax = 0;
  discount = 0;
  rateCode = Number.NaN;

  // The open groups.
  private timeTag = 0;
  private timeLocalAt = -1;
  private timeCode = Number.NaN;
  private startDone = false;
  private inInfo = false;
  private infoRate = Number.NaN;
  private inCharge = false;
  private chargeRate = Number.NaN;
  private charge00 = false;
  private chargeValue = Number.NaN;
  private inTax = false;
  private taxValue = 0;
  private inDiscount = false;
  private discountValue = 0;

  private reset(b: Buffer): void {
    this.b = b;
    this.imsiAt = -1;
    this.imsiLength = 0;
    this.localAt = -1;
    this.offsetCode = Number.NaN;
    this.duration = Number.NaN;
    this.volumeIncoming = 0;
    this.volumeOutgoing = 0;
    this.teleService = 0;
    this.charge = 0;
    this.camelFee = 0;
    this.tax = 0;
    this.discount = 0;
    this.rateCode = Number.NaN;
    this.timeTag = 0;
    this.startDone = false;
    this.inInfo = false;
    this.inCharge = false;
    this.inTax = false;
    this.inDiscount = false;
  }

  /** Walks a call event's content; false when it needs the full decoder (see the file's comment). */
  walk(b: Buffer): boolean {
    this.reset(b);
    const ends = this.ends;
    const n = b.length;
    let depth = 0;
    let pos = 0;
    for (;;) {
      while (depth > 0 && ends[depth - 1] === pos) if (!this.end(this.tags[--depth])) return false;
      if (pos >= n) return depth === 0;
      const b0 = b[pos++];
      let tag = b0 & 0x1f;
      if (tag === 0x1f) {
        tag = 0;
        for (let k = 0; ; k++) {
          if (pos >= n || k === 4) return false;
          const x = b[pos++];
          tag = tag * 128 + (x & 0x7f);
          if ((x & 0x80) === 0) break;
        }
      }
      if (pos >= n) return false;
      let length = b[pos++];
      if (length === 0x80) length = -1;
      else if (length > 0x80) {
        const k = length & 0x7f;
        if (k > 3 || pos + k > n) return false;
        length = 0;
        for (let i = 0; i < k; i++) length = length * 256 + b[pos++];
      }
      if (b0 === 0 && length === 0) {
        // End-of-contents of an indefinite-length group.
        if (depth === 0 || ends[depth - 1] !== -1) return false;
        if (!this.end(this.tags[--depth])) return false;
        continue;
      }
      if (b0 >> 6 !== 1 || tag >= KNOWN.length || KNOWN[tag] === 0) return false;
      const end = length < 0 ? -1 : pos + length;
      if (end > n || (end >= 0 && depth > 0 && ends[depth - 1] >= 0 && end > ends[depth - 1])) return false;
      if ((b0 & 0x20) !== 0) {
        if (depth === MAX_NESTING || !this.start(tag)) return false;
        ends[depth] = end;
        this.tags[depth++] = tag;
      } else {
        if (length < 0 || !this.primitive(tag, pos, length)) return false;
        pos = end;
      }
    }
  }

  private start(tag: number): boolean {
    if (START[tag] === 1) {
      if (this.timeTag !== 0) return false;
      this.timeTag = tag;
      this.timeLocalAt = -1;
      this.timeCode = Number.NaN;
    } else if (tag === T.ChargeInformation || tag === SESSION_CHARGE_INFORMATION) {
      if (this.inInfo) return false;
      this.inInfo = true;
      this.infoRate = Number.NaN;
    } else if (tag === T.ChargeDetail) {
      if (this.inCharge) return false;
      this.inCharge = true;
      this.chargeRate = this.inInfo ? this.infoRate : Number.NaN;
      this.charge00 = false;
      this.chargeValue = Number.NaN;
    } else if (tag === T.TaxInformation) {
      if (this.inTax) return false;
      this.inTax = true;
      this.taxValue = 0;
    } else if (tag === T.DiscountInformation) {
      if (this.inDiscount) return false;
      this.inDiscount = true;
      this.discountValue = 0;
    }
    return true;
  }

  private end(tag: number): boolean {
    if (this.timeTag !== 0 && tag === this.timeTag) {
      if (tag === T.CallEventStartTimeStamp && !this.startDone) {
        this.startDone = true;
        this.localAt = this.timeLocalAt;
        this.offsetCode = this.timeCode;
      }
      this.timeTag = 0;
    } else if (tag === T.ChargeDetail) {
      if (this.charge00 && !Number.isNaN(this.chargeValue)) this.charge += this.chargeValue;
      if (Number.isNaN(this.rateCode)) this.rateCode = this.chargeRate;
      this.inCharge = false;
    } else if (tag === T.ChargeInformation || tag === SESSION_CHARGE_INFORMATION) this.inInfo = false;
    else if (tag === T.TaxInformation) {
      this.tax += this.taxValue;
      this.inTax = false;
    } else if (tag === T.DiscountInformation) {
      this.discount += this.discountValue;
      this.inDiscount = false;
    }
    return true;
  }

  /** One value; false when it is not valid (the full decoder makes it a problem of the call event). */
  private primitive(tag: number, at: number, length: number): boolean {
    const b = this.b;
    switch (tag) {
      case T.Imsi:
        if (!tbcdDigits(b, at, length)) return false;
        if (this.imsiAt < 0) {
          this.imsiAt = at;
          this.imsiLength = length;
        }
        return true;
      case T.Msisdn:
        return tbcdDigits(b, at, length);
      case T.LocalTimeStamp:
        if (this.timeTag === 0) return true;
        if (length !== 14) return false;
        this.timeLocalAt = at;
        return true;
      case T.UtcTimeOffsetCode:
        if (this.timeTag === 0) return true;
        this.timeCode = intAt(b, at, length);
        return !Number.isNaN(this.timeCode);
      case T.TotalCallEventDuration: {
        const v = intAt(b, at, length);
        if (Number.isNaN(this.duration)) this.duration = v;
        return !Number.isNaN(v);
      }
      case T.TeleServiceCode:
        return this.teleServiceCode(at, length);
      case T.DataVolumeIncoming:
        this.volumeIncoming += intAt(b, at, length);
        return !Number.isNaN(this.volumeIncoming);
      case T.DataVolumeOutgoing:
        this.volumeOutgoing += intAt(b, at, length);
        return !Number.isNaN(this.volumeOutgoing);
      case T.RecEntityCode:
        return !Number.isNaN(intAt(b, at, length));
      default:
        return this.amount(tag, at, length);
    }
  }

  private teleServiceCode(at: number, length: number): boolean {
    if (length !== 2) return false;
    const b = this.b;
    const c0 = b[at];
    const c1 = b[at + 1];
    if (this.teleService === 0 && c1 >= 0x30 && c1 <= 0x32) {
      if (c0 === 0x31) this.teleService = 1;
      else if (c0 === 0x32) this.teleService = 2;
    }
    return true;
  }

  /** Charges, taxes and discounts (lib/tap/callEvent.ts Walk.amount). */
  private amount(tag: number, at: number, length: number): boolean {
    const b = this.b;
    switch (tag) {
      case T.ExchangeRateCode:
        if (!this.inInfo || this.inCharge) return true;
        this.infoRate = intAt(b, at, length);
        return !Number.isNaN(this.infoRate);
      case T.ChargeType:
        if (!this.inCharge) return true;
        if (length !== 2) return false;
        this.charge00 = b[at] === ZERO && b[at + 1] === ZERO;
        return true;
      case T.Charge:
        if (!this.inCharge) return true;
        this.chargeValue = intAt(b, at, length);
        return !Number.isNaN(this.chargeValue);
      case T.ChargeableUnits:
      case T.ChargedUnits:
        return !this.inCharge || !Number.isNaN(intAt(b, at, length));
      case T.CamelInvocationFee:
        this.camelFee += intAt(b, at, length);
        return !Number.isNaN(this.camelFee);
      case T.TaxCode:
      case T.TaxableAmount:
        return !this.inTax || !Number.isNaN(intAt(b, at, length));
      case T.TaxValue:
        if (!this.inTax) return true;
        this.taxValue = intAt(b, at, length);
        return !Number.isNaN(this.taxValue);
      case T.DiscountCode:
        return !this.inDiscount || !Number.isNaN(intAt(b, at, length));
      case T.Discount:
        if (!this.inDiscount) return true;
        this.discountValue = intAt(b, at, length);
        return !Number.isNaN(this.discountValue);
      default:
        return true;
    }
  }

  /** The Imsi's digits (after a walk that found one: TAP's TBCD, the high nibble first, F filling the last). */
  imsi(): string {
    const b = this.b;
    const last = this.imsiAt + this.imsiLength - 1;
    let s = "";
    for (let i = this.imsiAt; i < last; i++) s += DIGIT_PAIRS[b[i]];
    return (b[last] & 0x0f) === 0x0f ? s + String(b[last] >> 4) : s + DIGIT_PAIRS[b[last]];
  }

  /** `n` ASCII digits of the start's LocalTimeStamp from `from`, or -1. */
  localDigits(from: number, n: number): number {
    const b = this.b;
    let v = 0;
    for (let i = this.localAt + from; i < this.localAt + from + n; i++) {
      const d = b[i] - 0x30;
      if (d < 0 || d > 9) return -1;
      v = v * 10 + d;
    }
    return v;
  }
}
