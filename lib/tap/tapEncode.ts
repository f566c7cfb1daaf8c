/**
 * Writing TAP 3.12 with the BER encoder: the groups of a TransferBatch and the call events RoamLedger maps
 * (mobile-originated/terminated calls with one teleservice, GPRS calls), in the order TD.57 defines. The TAP
 * generator (`fromUsage.ts`) writes its files with these; tests and the benchmark too.
 */
import { BerBuilder, ber } from "./berEncode";
import { T } from "./tags";

export interface TapBatchHead {
  sender: string;
  recipient: string;
  fileSequenceNumber: string;
  /** CCYYMMDDhhmmss, with `utcOffset`. */
  created: string;
  /** TransferCutOffTimeStamp and FileAvailableTimeStamp (CCYYMMDDhhmmss, `utcOffset`); `created` when absent. */
  cutOff?: string;
  available?: string;
  utcOffset: string;
  /** LocalCurrency (the sender's). */
  currency: string;
  /** TapCurrency (SDR when absent, as TD.57 has it). */
  tapCurrency?: string;
  tapDecimalPlaces: number;
  /** CurrencyConversion entries: the rate (scaled by 10^numberOfDecimalPlaces) from the TAP to the local currency. */
  exchangeRates?: readonly { code: number; numberOfDecimalPlaces: number; rate: number }[];
  /** UtcTimeOffsetCode -> offset. */
  offsets: ReadonlyMap<number, string>;
  /** RecEntityInformation: the MSCs, SGSNs... the call events name by RecEntityCode. */
  recEntities?: readonly { code: number; type: number; id: string }[];
  release?: number;
  /** "T" for test data. */
  fileTypeIndicator?: string;
}

const longTime = (tag: number, local: string, offset: string) =>
  ber.seq(tag, [ber.str(T.LocalTimeStamp, local), ber.str(T.UtcTimeOffset, offset)]);

/** BatchControlInfo, AccountingInfo and NetworkInfo, in file order. */
export function encodeBatchHead(h: TapBatchHead): Buffer {
  const bci = ber.seq(T.BatchControlInfo, [
    ber.str(T.Sender, h.sender),
    ber.str(T.Recipient, h.recipient),
    ber.str(T.FileSequenceNumber, h.fileSequenceNumber),
    longTime(T.FileCreationTimeStamp, h.created, h.utcOffset),
    longTime(T.TransferCutOffTimeStamp, h.cutOff ?? h.created, h.utcOffset),
    longTime(T.FileAvailableTimeStamp, h.available ?? h.created, h.utcOffset),
    ber.int(T.SpecificationVersionNumber, 3),
    ber.int(T.ReleaseVersionNumber, h.release ?? 12),
    h.fileTypeIndicator === undefined ? undefined : ber.str(T.FileTypeIndicator, h.fileTypeIndicator),
  ]);
  const rates = h.exchangeRates ?? [];
  const acc = ber.seq(T.AccountingInfo, [
    ber.str(T.LocalCurrency, h.currency),
    h.tapCurrency === undefined ? undefined : ber.str(T.TapCurrency, h.tapCurrency),
    rates.length === 0
      ? undefined
      : ber.seq(
          80,
          rates.map((r) =>
            ber.seq(T.CurrencyConversion, [
              ber.int(T.ExchangeRateCode, r.code),
              ber.int(T.NumberOfDecimalPlaces, r.numberOfDecimalPlaces),
              ber.int(T.ExchangeRate, r.rate),
            ]),
          ),
        ),
    ber.int(T.TapDecimalPlaces, h.tapDecimalPlaces),
  ]);
  const offsets = [...h.offsets].map(([code, off]) =>
    ber.seq(T.UtcTimeOffsetInfo, [ber.int(T.UtcTimeOffsetCode, code), ber.str(T.UtcTimeOffset, off)]),
  );
  const entities = (h.recEntities ?? []).map((e) =>
    ber.seq(T.RecEntityInformation, [ber.int(T.RecEntityCode, e.code), ber.int(T.RecEntityType, e.type), ber.str(T.RecEntityId, e.id)]),
  );
  const net = ber.seq(T.NetworkInfo, [ber.seq(234, offsets), entities.length === 0 ? undefined : ber.seq(188, entities)]);
  return Buffer.concat([bci, acc, net]);
}

export interface TapEventSpec {
  kind: "mobileOriginatedCall" | "mobileTerminatedCall" | "gprsCall";
  imsi: string;
  /** CCYYMMDDhhmmss local time, with its UtcTimeOffsetCode. */
  local: string;
  offsetCode: number;
  duration: number;
  /** Teleservice code ("11" telephony, "21"/"22" SMS); MO/MT only. */
  teleService?: string;
  volumeIncoming?: number;
  volumeOutgoing?: number;
  /** Charge type "00", in TAP currency units. */
  charge: number;
  chargedItem?: string;
  /** ChargeableUnits of the charge (seconds, events or bytes as the charged item says). */
  chargeableUnits?: number;
  /** The CurrencyConversion entry of the charge. */
  exchangeRateCode?: number;
  /** The MSC (MO/MT) or SGSN (GPRS) that recorded the call event, from NetworkInfo's RecEntityInformation. */
  recEntityCode?: number;
}

function writeCharge(b: BerBuilder, e: TapEventSpec, item: string): void {
  b.start(70)
    .start(T.ChargeInformation)
    .str(T.ChargedItem, e.chargedItem ?? item);
  if (e.exchangeRateCode !== undefined) b.int(T.ExchangeRateCode, e.exchangeRateCode);
  b.start(64).start(T.ChargeDetail).str(T.ChargeType, "00").int(T.Charge, e.charge);
  if (e.chargeableUnits !== undefined) b.int(T.ChargeableUnits, e.chargeableUnits);
  b.end().end().end().end();
}

function writeSubscriber(b: BerBuilder, e: TapEventSpec): void {
  b.start(427).start(199).tbcd(T.Imsi, e.imsi).end().end();
}

/** One call event (a CallEventDetail) appended to `b`. */
export function writeCallEvent(b: BerBuilder, e: TapEventSpec): void {
  if (e.kind === "gprsCall") {
    b.start(T.GprsCall).start(114).start(115);
    writeSubscriber(b, e);
    b.end();
    b.start(T.CallEventStartTimeStamp).str(T.LocalTimeStamp, e.local).int(T.UtcTimeOffsetCode, e.offsetCode).end();
    b.int(T.TotalCallEventDuration, e.duration).int(T.ChargingId, 0).end();
    if (e.recEntityCode !== undefined) b.start(117).start(118).start(185).int(T.RecEntityCode, e.recEntityCode).end().end().end();
    b.start(121)
      .int(T.DataVolumeIncoming, e.volumeIncoming ?? 0)
      .int(T.DataVolumeOutgoing, e.volumeOutgoing ?? 0);
    writeCharge(b, e, "X");
    b.end().end();
    return;
  }
  const mo = e.kind === "mobileOriginatedCall";
  b.start(mo ? T.MobileOriginatedCall : T.MobileTerminatedCall).start(mo ? 147 : 153);
  writeSubscriber(b, e);
  b.start(T.CallEventStartTimeStamp).str(T.LocalTimeStamp, e.local).int(T.UtcTimeOffsetCode, e.offsetCode).end();
  b.int(T.TotalCallEventDuration, e.duration).end();
  if (e.recEntityCode !== undefined) b.start(138).start(156).int(T.RecEntityCode, e.recEntityCode).end().end();
  b.start(38)
    .start(T.BasicServiceUsed)
    .start(36)
    .start(426)
    .str(T.TeleServiceCode, e.teleService ?? "11")
    .end()
    .end();
  writeCharge(b, e, "D");
  b.end().end().end();
}

/** One call event (a CallEventDetail), on its own. */
export function encodeCallEvent(e: TapEventSpec): Buffer {
  const b = new BerBuilder(256);
  writeCallEvent(b, e);
  return b.take();
}

/** The earliest and latest call event start in a batch (local times with their offset). */
export interface TapCallSpan {
  earliest: string;
  latest: string;
  utcOffset: string;
}

/** AuditControlInfo with the totals the call events add up to (and their span, when given). */
export function encodeAuditControl(count: number, totalCharge: number, span?: TapCallSpan): Buffer {
  return ber.seq(T.AuditControlInfo, [
    span ? longTime(T.EarliestCallTimeStamp, span.earliest, span.utcOffset) : undefined,
    span ? longTime(T.LatestCallTimeStamp, span.latest, span.utcOffset) : undefined,
    ber.int(T.TotalCharge, totalCharge),
    ber.int(T.TotalTaxValue, 0),
    ber.int(T.TotalDiscountValue, 0),
    ber.int(T.CallEventDetailsCount, count),
  ]);
}
