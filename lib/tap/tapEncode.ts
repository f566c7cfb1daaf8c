/**
 * Writing TAP 3.12 with the BER encoder: the groups of a TransferBatch and the call events RoamLedger maps
 * (mobile-originated/terminated calls with one teleservice, GPRS calls). Used to generate test and benchmark
 * files; the TAP generator of issue 17 builds on it.
 */
import { ber } from "./berEncode";
import { T } from "./tags";

export interface TapBatchHead {
  sender: string;
  recipient: string;
  fileSequenceNumber: string;
  /** CCYYMMDDhhmmss, with `utcOffset`. */
  created: string;
  utcOffset: string;
  currency: string;
  tapDecimalPlaces: number;
  /** UtcTimeOffsetCode -> offset. */
  offsets: ReadonlyMap<number, string>;
  release?: number;
}

const longTime = (tag: number, local: string, offset: string) =>
  ber.seq(tag, [ber.str(T.LocalTimeStamp, local), ber.str(T.UtcTimeOffset, offset)]);
const codedTime = (tag: number, local: string, code: number) =>
  ber.seq(tag, [ber.str(T.LocalTimeStamp, local), ber.int(T.UtcTimeOffsetCode, code)]);

/** BatchControlInfo, AccountingInfo and NetworkInfo, in file order. */
export function encodeBatchHead(h: TapBatchHead): Buffer {
  const bci = ber.seq(T.BatchControlInfo, [
    ber.str(T.Sender, h.sender),
    ber.str(T.Recipient, h.recipient),
    ber.str(T.FileSequenceNumber, h.fileSequenceNumber),
    longTime(T.FileCreationTimeStamp, h.created, h.utcOffset),
    longTime(T.TransferCutOffTimeStamp, h.created, h.utcOffset),
    longTime(T.FileAvailableTimeStamp, h.created, h.utcOffset),
    ber.int(T.SpecificationVersionNumber, 3),
    ber.int(T.ReleaseVersionNumber, h.release ?? 12),
  ]);
  const acc = ber.seq(T.AccountingInfo, [ber.str(T.LocalCurrency, h.currency), ber.int(T.TapDecimalPlaces, h.tapDecimalPlaces)]);
  const offsets = [...h.offsets].map(([code, off]) =>
    ber.seq(T.UtcTimeOffsetInfo, [ber.int(T.UtcTimeOffsetCode, code), ber.str(T.UtcTimeOffset, off)]),
  );
  const net = ber.seq(T.NetworkInfo, [ber.seq(234, offsets)]);
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
}

function chargeInformation(item: string, charge: number): Buffer {
  return ber.seq(70, [
    ber.seq(T.ChargeInformation, [
      ber.str(T.ChargedItem, item),
      ber.seq(64, [ber.seq(T.ChargeDetail, [ber.str(T.ChargeType, "00"), ber.int(T.Charge, charge)])]),
    ]),
  ]);
}

/** One call event (a CallEventDetail). */
export function encodeCallEvent(e: TapEventSpec): Buffer {
  const subscriber = ber.seq(427, [ber.seq(199, [ber.tbcd(T.Imsi, e.imsi)])]);
  const start = codedTime(T.CallEventStartTimeStamp, e.local, e.offsetCode);
  if (e.kind === "gprsCall") {
    const basic = ber.seq(114, [
      ber.seq(115, [subscriber]),
      start,
      ber.int(T.TotalCallEventDuration, e.duration),
      ber.int(T.ChargingId, 0),
    ]);
    const used = ber.seq(121, [
      ber.int(T.DataVolumeIncoming, e.volumeIncoming ?? 0),
      ber.int(T.DataVolumeOutgoing, e.volumeOutgoing ?? 0),
      chargeInformation(e.chargedItem ?? "X", e.charge),
    ]);
    return ber.seq(T.GprsCall, [basic, used]);
  }
  const mo = e.kind === "mobileOriginatedCall";
  const basic = ber.seq(mo ? 147 : 153, [subscriber, start, ber.int(T.TotalCallEventDuration, e.duration)]);
  const service = ber.seq(36, [ber.seq(426, [ber.str(T.TeleServiceCode, e.teleService ?? "11")])]);
  const used = ber.seq(38, [ber.seq(T.BasicServiceUsed, [service, chargeInformation(e.chargedItem ?? "D", e.charge)])]);
  return ber.seq(mo ? T.MobileOriginatedCall : T.MobileTerminatedCall, [basic, used]);
}

/** AuditControlInfo with the totals the call events add up to. */
export function encodeAuditControl(count: number, totalCharge: number): Buffer {
  return ber.seq(T.AuditControlInfo, [
    ber.int(T.TotalCharge, totalCharge),
    ber.int(T.TotalTaxValue, 0),
    ber.int(T.TotalDiscountValue, 0),
    ber.int(T.CallEventDetailsCount, count),
  ]);
}
