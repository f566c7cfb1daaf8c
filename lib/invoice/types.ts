/**
 * The invoice of one direction of a roaming pair for one period: what is read from the chain to make it
 * (`InvoiceChainData`, see ./chain) and the model the JSON, CSV and PDF renderers print (`InvoiceModel`,
 * see ./model). Every line names the batches and transactions that prove it.
 */
import type { Token } from "../core/amount";
import type { TermsLike } from "../agreements/terms";
import type { SettlementPayment, SettlementShortfall } from "../settlement/escrow";
import type { Rating } from "../settlement/rating";
import type { Hex } from "../util/hex";
import type { ClassTotals } from "../usage/types";

// Chain data (input)

/** A consortium member as the registry names it. */
export interface Party {
  /** bytes3 TBCD, lower case. */
  plmn: Hex;
  name: string;
}

/** Where a batch is (ledger `BatchStatus`, without None). */
export type BatchState = "submitted" | "accepted" | "rejected";

/** One committed batch of the period and what happened to it, with the transactions. */
export interface BatchEvidence {
  batchId: Hex;
  state: BatchState;
  /** Unix seconds. */
  submittedAt: number;
  submitTx: Hex;
  recordCount: number;
  /** Billable totals as submitted (the `UsageBatchSubmitted` event). */
  totals: ClassTotals[];
  /** Usage taken off by disputes, per class (`disputedTotals(batchId)`). */
  disputed: ClassTotals[];
  /** Records disputed (`getBatch(batchId).disputedRecords`). */
  disputedRecords: number;
  /** `UsageRecordDisputed` transactions, oldest first, and the reasons given. */
  disputeTxs: Hex[];
  disputeReasons: { reason: number; name: string; records: number }[];
  acceptTx?: Hex;
  rejectTx?: Hex;
  rejectReason?: { code: number; name: string };
}

/** The on-chain settlement of the pair and period (`PeriodSettled` and what followed in its transaction). */
export interface SettlementEvidence {
  tx: Hex;
  /** Unix seconds (the block's). */
  at: number;
  /** `SettlementPaid` of the transaction: after netting, who paid whom. */
  payments: SettlementPayment[];
  /** `SettlementShortfall` of the transaction. */
  shortfalls: SettlementShortfall[];
  /** The two invoices' amounts as `PeriodSettled` gives them: what the payer owed the payee and back. */
  payerOwed: bigint;
  payeeOwed: bigint;
}

/** Records that were committed but not billed, counted from the decrypted payloads. */
export type NotBillableData =
  | {
      available: true;
      batchesRead: number;
      records: number;
      byReason: { code: number; reason: string; records: number; perClass: { tariffClass: number; records: number }[] }[];
    }
  | { available: false; why: string };

/** Everything the invoice document says, as read from the chain (see ./chain `readInvoiceData`). */
export interface InvoiceChainData {
  chainId: bigint;
  escrow: string;
  payer: Party;
  payee: Party;
  /** yyyymm. */
  period: number;
  /** Which side the document is printed for. */
  perspective: "payer" | "payee";
  /** `invoice(payer, payee, period)` (status Open or Settled). */
  invoice: {
    status: "open" | "settled";
    token: string;
    agreementVersion: number;
    closedAt: number;
    amount: bigint;
    subtotal: bigint;
    credit: bigint;
  };
  token: Token;
  /** The terms of `invoice.agreementVersion`. */
  terms: TermsLike;
  /** The rating of the `InvoiceClosed` event. */
  rating: Rating;
  closeTx: Hex;
  /** `periodTotals(payer, payee, period)`: final, net of disputes and rejected batches. */
  periodTotals: ClassTotals[];
  /** The period's batches, ascending by id. */
  batches: BatchEvidence[];
  settlement?: SettlementEvidence;
  notBillable: NotBillableData;
}

// The model (output)

/** An amount in token base units and as text in token units (exact, e.g. "1801.5"). */
export interface Money {
  units: bigint;
  text: string;
}

export const CHARGE_TYPES = ["data", "signalling", "sms", "voice", "monthly", "surcharge"] as const;
export type ChargeType = (typeof CHARGE_TYPES)[number];

/** What a charge's quantity counts and what its rate is per. */
export const CHARGE_UNITS: Record<ChargeType, { quantity: string; rate: string; label: string }> = {
  data: { quantity: "byte", rate: "MB", label: "Data" },
  signalling: { quantity: "event", rate: "event", label: "Signalling" },
  sms: { quantity: "SMS", rate: "SMS", label: "SMS" },
  voice: { quantity: "second", rate: "minute", label: "Voice" },
  monthly: { quantity: "device", rate: "device-month", label: "Monthly fee, active devices" },
  surcharge: { quantity: "device-day", rate: "device-day", label: "Permanent-roaming surcharge" },
};

export interface LineItem {
  tariffClass: number;
  /** False when the agreement has no plan for the class in this direction: reported, not billed. */
  priced: boolean;
  chargeType: ChargeType;
  /** "Data, 0 - 1,000 MB", "SMS" and the like. */
  description: string;
  /** Data lines only: the tier band, in MB (`toMb` null: open-ended). */
  band?: { fromMb: bigint; toMb: bigint | null };
  /** In CHARGE_UNITS[chargeType].quantity (bytes for data, seconds for voice). */
  quantity: bigint;
  /** Per CHARGE_UNITS[chargeType].rate, before the discount. */
  rate: Money;
  discountBps: number;
  amount: Money;
  /** Short references into `batches` ("B1"), the batches whose usage the line bills. */
  batchRefs: string[];
  batchIds: Hex[];
  /** Their submission (and dispute) transactions, the invoice's close and, when settled, the settlement. */
  txHashes: Hex[];
}

export interface ClassSummary {
  tariffClass: number;
  priced: boolean;
  /** The final usage of the class (period totals). */
  usage: ClassTotals;
  /** The line total of the chain's rating. */
  total: Money;
}

export interface BatchRef {
  ref: string;
  batchId: Hex;
  state: BatchState;
  submittedAt: string;
  submitTx: Hex;
  recordCount: number;
  acceptTx?: Hex;
  rejectTx?: Hex;
}

export interface DisputedClass {
  tariffClass: number;
  records: number;
  dataBytes: bigint;
  signallingEvents: bigint;
  smsCount: bigint;
  voiceSeconds: bigint;
}

export interface InvoiceModel {
  format: "roamledger-invoice/1";
  invoiceNumber: string;
  chainId: bigint;
  escrow: string;
  /** ISO time the invoice was closed on-chain (its issue date). */
  issueDate: string;
  perspective: "payer" | "payee";
  period: { id: number; text: string; start: string; end: string };
  /** The home carrier, who pays. */
  payer: Party & { plmnText: string };
  /** The visited carrier, who bills. */
  payee: Party & { plmnText: string };
  agreement: { version: number; disputeWindowDays: number };
  token: Token;
  /** Fraction digits every amount of the document is printed with (>= 2, <= decimals), so decimal points align. */
  amountDigits: number;
  /** Fraction digits of the rates (which may be finer than any amount). */
  rateDigits: number;
  status: {
    state: "open" | "settled";
    closedAt: string;
    closeTx: Hex;
    settledAt?: string;
    settleTx?: Hex;
    payments: { debtor: string; creditor: string; owed: Money; paid: Money; payout: string }[];
    shortfalls: { debtor: string; creditor: string; paid: Money; owed: Money }[];
    /** One sentence: where the money is. */
    summary: string;
  };
  lines: LineItem[];
  classes: ClassSummary[];
  subtotal: Money;
  sla: {
    qosSamples: bigint;
    avgLatencyMs: bigint;
    avgThroughputKbps: bigint;
    /** 0: no commitment. */
    maxLatencyMs: number;
    minThroughputKbps: number;
    latencyMissed: boolean;
    throughputMissed: boolean;
    latencyCreditBps: number;
    throughputCreditBps: number;
    creditBps: number;
  };
  credit: Money;
  net: Money;
  disputes: {
    perClass: DisputedClass[];
    records: number;
    /** What the disputed usage would have added to the subtotal at the agreement's rates (not billed). */
    value: Money;
    batches: { ref: string; batchId: Hex; records: number; reasons: { reason: string; records: number }[]; txHashes: Hex[] }[];
  };
  rejectedBatches: {
    ref: string;
    batchId: Hex;
    recordCount: number;
    reason: string;
    rejectTx?: Hex;
    submitTx: Hex;
    totals: ClassTotals[];
  }[];
  notBillable: NotBillableData;
  batches: BatchRef[];
  /** The figures were recomputed with lib/settlement/rating.ts from the period totals and the terms, and agree. */
  verification: { recomputed: true; source: string };
}
