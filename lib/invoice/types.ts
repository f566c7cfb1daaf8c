/**
 * The invoice of one direction of a roaming pair for one period: what a party gathers to make it
 * (`InvoiceChainData`, see ./chain: its own full terms and counted usage, rated off chain, plus the
 * escrow's public facts) and the model the JSON, CSV and PDF renderers print (`InvoiceModel`, see
 * ./model). Every line names the batches and transactions that prove it.
 */
import type { Token } from "../core/amount";
import type { TermsLike } from "../agreements/terms";
import type { SettlementPayment, SettlementShortfall } from "../settlement/escrow";
import type { Rating } from "../settlement/rating";
import type { EscrowInvoiceStatus, ResolutionName } from "../settlement/invoices";
import type { Hex } from "../util/hex";
import type { ClassTotals } from "../usage/types";

// Chain data (input)

/** A consortium member as the registry names it. */
export interface Party {
  /** bytes3 TBCD, lower case. */
  plmn: Hex;
  name: string;
}

/** Where a batch is (ledger `BatchStatus`, without None). Accepted and expired batches count. */
export type BatchState = "submitted" | "accepted" | "rejected" | "expired";

/** One committed batch of the period and what happened to it, with the transactions. */
export interface BatchEvidence {
  batchId: Hex;
  state: BatchState;
  /** Unix seconds. */
  submittedAt: number;
  submitTx: Hex;
  /** From the payload (our copy); 0 when it could not be opened. */
  recordCount: number;
  /** Billable totals the batch committed, opened from its payload (never on chain); empty when not opened. */
  totals: ClassTotals[];
  /** Usage taken off by its disputed records (their measured contribution, RevealLib's rule), per class. */
  disputed: ClassTotals[];
  /** Records disputed (`getBatch(batchId).disputeCount`). */
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

/** The escrow's public facts of the invoice (any member reads them) and the transactions behind them. */
export interface EscrowFacts {
  status: EscrowInvoiceStatus;
  resolution: ResolutionName;
  agreementVersion: number;
  /** Unix seconds; 0 when not yet. */
  proposedAt: number;
  closedAt: number;
  /** The net the payee signed (0 when not proposed) and what the payer owes once closed (0 before). */
  net: bigint;
  amount: bigint;
  /** The signed struct's commitment to the period's rated totals (zero when not proposed). */
  totalsCommitment: Hex;
  proposeTx?: Hex;
  closeTx?: Hex;
}

/** How our own invoice (rated from our copies) compares with what the escrow holds. */
export interface Reconciliation {
  /** Our `Invoice` struct's net and totals commitment. */
  net: bigint;
  totalsCommitment: Hex;
  /** null: nothing proposed yet to compare with. */
  agrees: boolean | null;
  /** One line per figure that differs ("net: escrow 5, ours 6"). */
  differences: string[];
}

/**
 * Everything the invoice document says, for one of its two parties (see ./chain `readInvoiceData`): the
 * figures come from the party's own full terms and counted usage, rated with lib/settlement/rating.ts; the
 * chain adds only public facts (escrow status, nets, batch states, transactions, settlement).
 */
export interface InvoiceChainData {
  chainId: bigint;
  escrowAddress: string;
  payer: Party;
  payee: Party;
  /** yyyymm. */
  period: number;
  /** Which side the document is printed for. */
  perspective: "payer" | "payee";
  /** Chain time the data was read at (unix seconds): the issue date of an invoice not proposed yet. */
  readAt: number;
  /** `invoice(payer, payee, period)` on the escrow: public facts only. */
  escrow: EscrowFacts;
  /** Our invoice against the escrow's. */
  reconciliation: Reconciliation;
  /** The agreement version the invoice rates with (the escrow's rule, or the proposal's). */
  agreementVersion: number;
  token: Token;
  /** The FULL terms of that version, from the party's key store (or opened from the sealed event). */
  terms: TermsLike;
  /** lib/settlement/rating.ts on `periodTotals` with `terms` (RatingLib's reference). */
  rating: Rating;
  /** The period's rated totals: counted batches less their billable disputed records (RevealLib's rule). */
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
  /** The amount in the reference currency (`--rate`), rounded to cents; absent without a rate. */
  referenceAmount?: string;
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

/** A party's block on the invoice: the registry's name and PLMN, and its billing details (./billing). */
export interface BillingParty {
  /** MCC-MNC. */
  plmn: string;
  registryName: string;
  legalName?: string;
  address: string[];
  country?: string;
  taxId?: string;
  /** TADIG codes printed beside the PLMN id. */
  tadig: string[];
}

/** What makes the settlement statement an invoice a finance team can file (from the member's billing.json). */
export interface BillingSection {
  /** The billing file read, or why none. */
  source: string;
  /** The payee (visited carrier) and the payer (home carrier). */
  seller: BillingParty;
  buyer: BillingParty;
  paymentTermsDays?: number;
  /** YYYY-MM-DD: the issue date + the seller's payment terms. */
  dueDate?: string;
  /** Deterministic from the invoice number (the seller's pattern, default the number itself). */
  paymentReference: string;
  tax: {
    treatment: "reverse-charge" | "rate" | "none" | "unknown";
    percent?: string;
    amount?: Money;
    totalWithTax?: Money;
    note: string;
  };
  disputeContact?: string;
  bank?: string;
  /** Details a finance team needs that the billing file does not give, with where they go. */
  missing: string[];
  /** Reference-currency amounts (cents, exact rounding half up) when an exchange rate is given. */
  reference?: {
    currency: string;
    rate: string;
    note: string;
    subtotal: string;
    credit: string;
    net: string;
    tax?: string;
    totalWithTax?: string;
  };
}

export interface InvoiceModel {
  format: "roamledger-invoice/1";
  invoiceNumber: string;
  chainId: bigint;
  escrow: string;
  /** ISO time of the issue: closed on the escrow, else proposed, else when the data was read (a draft). */
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
    /** The escrow's status of the invoice ("none": not proposed yet, this document is a draft). */
    state: EscrowInvoiceStatus;
    /** How it closed (co-signed, proven, revealed), "none" before. */
    resolution: ResolutionName;
    proposedAt?: string;
    proposeTx?: Hex;
    closedAt?: string;
    closeTx?: Hex;
    /** The escrow's public figures: the net the payee signed and the amount owed once closed. */
    escrowNet: Money;
    escrowAmount: Money;
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
    batches: {
      ref: string;
      batchId: Hex;
      records: number;
      /** Per reason: its name ("VOLUME_MISMATCH"), what it means, and the records disputed for it. */
      reasons: { reason: string; text: string; records: number }[];
      txHashes: Hex[];
    }[];
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
  /**
   * Where the figures come from (our own terms and usage, rated with lib/settlement/rating.ts) and whether
   * our net and totals commitment equal the escrow's (null: nothing proposed to compare with).
   */
  verification: { source: string; agreesWithEscrow: boolean | null; differences: string[] };
  billing: BillingSection;
}
