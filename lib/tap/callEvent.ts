/**
 * One TAP 3.12 call event (a CallEventDetail of the CallEventDetailList), decoded from its bytes in one
 * synchronous pass: every kind of call event is walked the same way, keeping the fields RoamLedger maps
 * (subscriber, start time, duration, services, volumes) and the ones it keeps for reconciliation (charges,
 * taxes, discounts, exchange rate codes). A malformed value (a bad IMSI, an unknown offset code) does not stop
 * the file: it becomes a problem of this call event, which the mapping rejects alone (RAP severity "severe").
 */
import { type BerHeader, type BerReader, decodeTbcd, integerAt, TagClass, Token } from "./ber";
import { T, TAP_TAG_NAMES } from "./tags";
import { codedTimestamp, type TapTimestamp } from "./tapTime";

export type CallEventKind =
  | "mobileOriginatedCall"
  | "mobileTerminatedCall"
  | "supplServiceEvent"
  | "serviceCentreUsage"
  | "gprsCall"
  | "contentTransaction"
  | "locationService"
  | "messagingEvent"
  | "mobileSession"
  | "unknown";

export const CALL_EVENT_KINDS: ReadonlyMap<number, CallEventKind> = new Map<number, CallEventKind>([
  [T.MobileOriginatedCall, "mobileOriginatedCall"],
  [T.MobileTerminatedCall, "mobileTerminatedCall"],
  [T.SupplServiceEvent, "supplServiceEvent"],
  [T.ServiceCentreUsage, "serviceCentreUsage"],
  [T.GprsCall, "gprsCall"],
  [T.ContentTransaction, "contentTransaction"],
  [T.LocationService, "locationService"],
  [T.MessagingEvent, "messagingEvent"],
  [T.MobileSession, "mobileSession"],
]);

/** One ChargeDetail with its ChargeInformation's charged item and exchange rate code. */
export interface TapCharge {
  chargedItem?: string;
  exchangeRateCode?: number;
  /** "00" is the invoiceable total of its ChargeInformation (the one the audit sums). */
  chargeType?: string;
  /** In units of 10^-TapDecimalPlaces of the TAP currency. */
  charge?: number;
  chargeableUnits?: number;
  chargedUnits?: number;
}

export interface TapTax {
  taxCode?: number;
  taxValue?: number;
  taxableAmount?: number;
}

export interface TapDiscount {
  discountCode?: number;
  discount?: number;
}

export interface TapProblem {
  offset: number;
  message: string;
}

export interface TapCallEvent {
  kind: CallEventKind;
  /** APPLICATION tag number of the call event. */
  tag: number;
  /** 1-based position in the file's CallEventDetailList (with sender and file sequence number: the record id). */
  position: number;
  /** Byte offset of the call event in the file. */
  offset: number;
  imsi?: string;
  msisdn?: string;
  /** The call event's start (CallEventStartTimeStamp; the charging or service start time for other kinds). */
  start?: TapTimestamp;
  /** TotalCallEventDuration, seconds. */
  duration?: number;
  teleServiceCodes: string[];
  bearerServiceCodes: string[];
  supplServiceCode?: string;
  /** GPRS volumes in bytes. */
  volumeIncoming?: number;
  volumeOutgoing?: number;
  accessPointName?: string;
  recEntityCode?: number;
  charges: TapCharge[];
  /** CamelInvocationFee, when CAMEL was used (part of the audit's TotalCharge). */
  camelInvocationFee?: number;
  taxes: TapTax[];
  discounts: TapDiscount[];
  /** Tags in the call event that TAP 3.12 does not define (skipped). */
  unknownTags: number;
  /** Values that could not be read; the call event should be rejected (severe), the file is still read. */
  problems: TapProblem[];
}

/** The timestamp groups that can carry a call event's start, most telling first. */
const START_TAGS = [
  T.CallEventStartTimeStamp,
  T.ServiceStartTimestamp,
  T.ChargingTimeStamp,
  T.DepositTimeStamp,
  T.LCSRequestTimestamp,
  T.OrderPlacedTimeStamp,
];
const START_SET = new Set<number>(START_TAGS);

interface OpenTime {
  tag: number;
  offset: number;
  local?: string;
  code?: number;
}

/** The walk's state: the event being filled and the group currently open. */
class Walk {
  readonly times = new Map<number, OpenTime>();
  time?: OpenTime;
  chargeInfo?: { chargedItem?: string; exchangeRateCode?: number };
  charge?: TapCharge;
  tax?: TapTax;
  discount?: TapDiscount;
  skipDepth = -1;
  ev!: TapCallEvent;

  /** Starts the walk of `ev` (one Walk serves every call event: decoding is synchronous). */
  reset(ev: TapCallEvent): this {
    this.ev = ev;
    this.times.clear();
    this.time = undefined;
    this.chargeInfo = undefined;
    this.charge = undefined;
    this.tax = undefined;
    this.discount = undefined;
    this.skipDepth = -1;
    return this;
  }

  problem(h: BerHeader, message: string): void {
    this.ev.problems.push({ offset: h.offset, message: `${TAP_TAG_NAMES.get(h.tag) ?? `tag ${h.tag}`}: ${message}` });
  }

  int(r: BerReader): number | undefined {
    const h = r.token;
    const v = integerAt(r.bytes, r.valueAt, h.length);
    if (Number.isNaN(v)) {
      this.problem(h, `not a valid INTEGER (${h.length} bytes)`);
      return undefined;
    }
    return v;
  }

  text(r: BerReader): string {
    return r.bytes.toString("latin1", r.valueAt, r.valueAt + r.token.length).trim();
  }

  start(h: BerHeader): void {
    if (START_SET.has(h.tag)) this.time = { tag: h.tag, offset: h.offset };
    else if (h.tag === T.ChargeInformation || h.tag === 449) this.chargeInfo = {};
    else if (h.tag === T.ChargeDetail) {
      // Every field set at once: one object shape for all charges (the decoder's hot path).
      const info = this.chargeInfo;
      this.charge = {
        chargedItem: info?.chargedItem,
        exchangeRateCode: info?.exchangeRateCode,
        chargeType: undefined,
        charge: undefined,
        chargeableUnits: undefined,
        chargedUnits: undefined,
      };
    } else if (h.tag === T.TaxInformation) this.tax = { taxCode: undefined, taxValue: undefined, taxableAmount: undefined };
    else if (h.tag === T.DiscountInformation) this.discount = { discountCode: undefined, discount: undefined };
  }

  end(h: BerHeader): void {
    if (this.time && h.tag === this.time.tag) {
      if (!this.times.has(h.tag)) this.times.set(h.tag, this.time);
      this.time = undefined;
    } else if (h.tag === T.ChargeDetail && this.charge) {
      this.ev.charges.push(this.charge);
      this.charge = undefined;
    } else if (h.tag === T.ChargeInformation || h.tag === 449) this.chargeInfo = undefined;
    else if (h.tag === T.TaxInformation && this.tax) {
      this.ev.taxes.push(this.tax);
      this.tax = undefined;
    } else if (h.tag === T.DiscountInformation && this.discount) {
      this.ev.discounts.push(this.discount);
      this.discount = undefined;
    }
  }

  primitive(r: BerReader): void {
    const ev = this.ev;
    const h = r.token;
    switch (h.tag) {
      case T.Imsi:
      case T.Msisdn: {
        const value = r.bytes.subarray(r.valueAt, r.valueAt + h.length);
        const digits = decodeTbcd(value);
        if (digits === null) this.problem(h, `0x${value.toString("hex")} is not a BCD digit string (F only as the last filler)`);
        else if (h.tag === T.Imsi) ev.imsi ??= digits;
        else ev.msisdn ??= digits;
        break;
      }
      case T.LocalTimeStamp:
        if (this.time) this.time.local = this.text(r);
        break;
      case T.UtcTimeOffsetCode:
        if (this.time) this.time.code = this.int(r);
        break;
      case T.TotalCallEventDuration:
        ev.duration ??= this.int(r);
        break;
      case T.TeleServiceCode:
        ev.teleServiceCodes.push(this.text(r));
        break;
      case T.BearerServiceCode:
        ev.bearerServiceCodes.push(this.text(r));
        break;
      case T.SupplServiceCode:
        ev.supplServiceCode ??= this.text(r);
        break;
      case T.DataVolumeIncoming:
        ev.volumeIncoming = (ev.volumeIncoming ?? 0) + (this.int(r) ?? 0);
        break;
      case T.DataVolumeOutgoing:
        ev.volumeOutgoing = (ev.volumeOutgoing ?? 0) + (this.int(r) ?? 0);
        break;
      case T.AccessPointNameNI:
        ev.accessPointName ??= this.text(r);
        break;
      case T.RecEntityCode:
        ev.recEntityCode ??= this.int(r);
        break;
      default:
        this.amount(r);
    }
  }

  /** Charges, taxes and discounts. */
  private amount(r: BerReader): void {
    switch (r.token.tag) {
      case T.ChargedItem:
        if (this.chargeInfo) this.chargeInfo.chargedItem = this.text(r);
        break;
      case T.ExchangeRateCode:
        if (this.chargeInfo && !this.charge) this.chargeInfo.exchangeRateCode = this.int(r);
        break;
      case T.ChargeType:
        if (this.charge) this.charge.chargeType = this.text(r);
        break;
      case T.Charge:
        if (this.charge) this.charge.charge = this.int(r);
        else if (this.ev.kind === "messagingEvent") this.ev.charges.push({ chargeType: "00", charge: this.int(r) });
        break;
      case T.ChargeableUnits:
        if (this.charge) this.charge.chargeableUnits = this.int(r);
        break;
      case T.ChargedUnits:
        if (this.charge) this.charge.chargedUnits = this.int(r);
        break;
      case T.CamelInvocationFee:
        this.ev.camelInvocationFee = (this.ev.camelInvocationFee ?? 0) + (this.int(r) ?? 0);
        break;
      case T.TaxCode:
        if (this.tax) this.tax.taxCode = this.int(r);
        break;
      case T.TaxValue:
        if (this.tax) this.tax.taxValue = this.int(r);
        break;
      case T.TaxableAmount:
        if (this.tax) this.tax.taxableAmount = this.int(r);
        break;
      case T.DiscountCode:
        if (this.discount) this.discount.discountCode = this.int(r);
        break;
      case T.Discount:
        if (this.discount) this.discount.discount = this.int(r);
        break;
    }
  }
}

const WALK = new Walk();

/** Where a call event sits in its file, and the file's UTC offset table. */
export interface CallEventContext {
  header: BerHeader;
  content: Buffer;
  base: number;
  position: number;
  offsets: ReadonlyMap<number, string>;
  /** A reader from `BerReader.fromBuffer` (TAP names, depth limits), reused from one call event to the next. */
  reader: BerReader;
}

/** Decodes one call event (its content bytes, read whole) in one pass. Structure errors throw; value errors are problems. */
export function decodeCallEvent(ctx: CallEventContext): TapCallEvent {
  const h = ctx.header;
  const known = h.cls === TagClass.Application ? CALL_EVENT_KINDS.get(h.tag) : undefined;
  const ev: TapCallEvent = {
    kind: known ?? "unknown",
    tag: h.tag,
    position: ctx.position,
    offset: h.offset,
    imsi: undefined,
    msisdn: undefined,
    start: undefined,
    duration: undefined,
    teleServiceCodes: [],
    bearerServiceCodes: [],
    supplServiceCode: undefined,
    volumeIncoming: undefined,
    volumeOutgoing: undefined,
    accessPointName: undefined,
    recEntityCode: undefined,
    charges: [],
    camelInvocationFee: undefined,
    taxes: [],
    discounts: [],
    unknownTags: known ? 0 : 1,
    problems: [],
  };
  if (!known) return ev;
  const reader = ctx.reader;
  reader.reset(ctx.content, ctx.base, () => `${TAP_TAG_NAMES.get(h.tag)} at byte ${h.offset}`);
  const walk = WALK.reset(ev);
  for (let t = reader.nextToken(); t !== Token.None; t = reader.nextToken()) step(walk, reader, t);
  resolveStart(walk, ctx.offsets);
  return ev;
}

function step(walk: Walk, reader: BerReader, t: Token): void {
  if (walk.skipDepth >= 0) {
    if (t === Token.End && reader.depth === walk.skipDepth) walk.skipDepth = -1;
    return;
  }
  const h = reader.token;
  if (h.cls !== TagClass.Application || !TAP_TAG_NAMES.has(h.tag)) {
    walk.ev.unknownTags++;
    if (t === Token.Start) walk.skipDepth = reader.depth - 1;
    return;
  }
  if (t === Token.Start) walk.start(h);
  else if (t === Token.End) walk.end(h);
  else walk.primitive(reader);
}

function resolveStart(walk: Walk, offsets: ReadonlyMap<number, string>): void {
  const ev = walk.ev;
  let found: OpenTime | undefined;
  for (let i = 0; i < START_TAGS.length && found === undefined; i++) found = walk.times.get(START_TAGS[i]);
  if (!found) {
    ev.problems.push({ offset: ev.offset, message: "no start timestamp (CallEventStartTimeStamp or equivalent)" });
    return;
  }
  if (found.local === undefined) {
    ev.problems.push({ offset: found.offset, message: `${TAP_TAG_NAMES.get(found.tag)} has no LocalTimeStamp` });
    return;
  }
  const problems: string[] = [];
  ev.start = codedTimestamp(found.local, found.code, offsets, problems);
  for (const message of problems) ev.problems.push({ offset: found.offset, message: `${TAP_TAG_NAMES.get(found.tag)}: ${message}` });
}
