/**
 * What the payee (visited carrier) sends the payer with its invoice proposal, sealed with the pair's key:
 * the period's rated `ClassTotals[]` (counted batches less disputed records), the salt of the invoice's
 * `totalsCommitment`, and the summary the payer recomputes and compares (agreement version, subtotal,
 * credit, net). The payer opens it, checks that it opens the signed invoice's commitment, rates the
 * totals itself from the terms and the payloads it holds, and signs only when both agree.
 *
 * Format (lib/crypto/sealed): "RLSI", version 1, then AES-256-GCM of abi.encode(ClassTotals[] totals,
 * bytes32 salt, (uint32 agreementVersion, uint256 subtotal, uint256 credit, uint256 net) summary) padded
 * with zeros to a multiple of 1,024 bytes: the encoding is 224 bytes plus 352 per class, so the length
 * tells only a bucket of the number of classes billed (up to 2 in the first bucket, 3 per bucket after).
 * The additional data binds the chain id, the escrow's address, payer, payee, period and the invoice's
 * EIP-712 digest: a sealed invoice cannot be replayed for another chain, escrow, pair, period or invoice.
 */
import { AbiCoder, isAddress, type Result } from "ethers";
import { InputError, MismatchError } from "../core/errors";
import { CLASS_TOTALS_TUPLE_TYPE, checkSalt, totalsFromAbi } from "../crypto/commitment";
import { openAbi, type SealedKind, sealAbi } from "../crypto/sealed";
import { type EscrowInvoice, escrowDomain, invoiceDigest } from "../settlement/invoiceSignature";
import type { ClassTotals } from "../usage/types";
import type { Hex } from "../util/hex";
import type { TermsLike } from "../agreements/terms";
import { invoiceTotalsCommitment } from "./totalsCommitment";

/** Header of a sealed invoice. */
export const SEALED_INVOICE_KIND: SealedKind = { magic: "RLSI", version: 1, what: "sealed invoice" };

const SUMMARY_TUPLE = "tuple(uint32 agreementVersion, uint256 subtotal, uint256 credit, uint256 net)";
const TYPES = [`${CLASS_TOTALS_TUPLE_TYPE}[]`, "bytes32", SUMMARY_TUPLE] as const;
const AAD_TYPES = ["string", "uint256", "address", "bytes3", "bytes3", "uint32", "bytes32"];
const AAD_DOMAIN = "roamledger/sealed-invoice/v1";

/** Where a sealed invoice belongs: the chain and the escrow (the invoice names the pair and the period). */
export interface InvoiceContext {
  chainId: bigint | number;
  /** Address of the SettlementEscrow contract. */
  escrow: string;
}

/** The payee's rating of the period, which the payer recomputes. */
export interface InvoiceSummary {
  agreementVersion: number;
  /** Charges before the SLA credit, in token base units. */
  subtotal: bigint;
  credit: bigint;
  /** subtotal - credit: the invoice's net. */
  net: bigint;
}

/** What a sealed invoice carries. */
export interface InvoiceContents {
  /** The period's rated totals, classes ascending. */
  totals: ClassTotals[];
  /** The salt of the invoice's `totalsCommitment`. */
  totalsSalt: Hex;
  summary: InvoiceSummary;
}

/** The additional data: abi.encode of the domain string, chain id, escrow, payer, payee, period and digest. */
function invoiceAad(context: InvoiceContext, invoice: EscrowInvoice): Uint8Array {
  if (!isAddress(context.escrow)) throw new InputError(`${context.escrow} is not a contract address`, { location: { param: "escrow" } });
  const digest = invoiceDigest(escrowDomain(context.chainId, context.escrow), invoice);
  const values = [AAD_DOMAIN, context.chainId, context.escrow, invoice.payer, invoice.payee, invoice.period, digest];
  return Buffer.from(AbiCoder.defaultAbiCoder().encode(AAD_TYPES, values).slice(2), "hex");
}

/**
 * MismatchError unless `contents` open the invoice's totals commitment and the summary agrees with the
 * invoice (agreement version, net) and with itself (net = subtotal - credit).
 */
function checkContents(contents: InvoiceContents, invoice: EscrowInvoice, opts: { hint: string; terms?: TermsLike }): void {
  const { totals, totalsSalt, summary } = contents;
  const { hint, terms } = opts;
  const commitment = invoiceTotalsCommitment({
    totals,
    totalsSalt,
    terms,
    payer: invoice.payer,
    payee: invoice.payee,
    period: invoice.period,
  });
  const checks = [
    ["totalsCommitment", invoice.totalsCommitment.toLowerCase(), commitment],
    ["agreementVersion", BigInt(invoice.agreementVersion), BigInt(summary.agreementVersion)],
    ["net", invoice.net, summary.net],
    ["subtotal - credit", summary.net, summary.subtotal - summary.credit],
  ] as const;
  for (const [subject, expected, actual] of checks) {
    if (expected !== actual) throw new MismatchError(subject, { expected, actual }, { hint });
  }
}

/** What {@link sealInvoice} seals. */
export interface SealInvoiceArgs {
  /** The pair's key (pairwiseKey). */
  key: Uint8Array;
  context: InvoiceContext;
  /** The invoice the payee signs. */
  invoice: EscrowInvoice;
  contents: InvoiceContents;
  /** The version's full terms: with them, a rating-v1 invoice's Poseidon totals commitment (docs/zk.md). */
  terms?: TermsLike;
}

/**
 * Seals the contents of `invoice` for the payer. Refuses (MismatchError) contents that do not open the
 * invoice's commitment or disagree with its version or net: the payer would refuse them.
 */
export function sealInvoice({ key, context, invoice, contents, terms }: SealInvoiceArgs): Uint8Array {
  checkSalt(contents.totalsSalt, "totalsSalt");
  checkContents(contents, invoice, { hint: "rate the period again and make the invoice from the same totals and salt.", terms });
  const { totals, totalsSalt, summary } = contents;
  return sealAbi({
    key,
    kind: SEALED_INVOICE_KIND,
    types: TYPES,
    values: [totals, totalsSalt, summary],
    aad: invoiceAad(context, invoice),
  });
}

/** Decoded ABI contents in the library's shapes. */
function contentsFromAbi(values: Result): InvoiceContents {
  const [totals, salt, summary] = values;
  return {
    totals: totalsFromAbi(totals),
    totalsSalt: (salt as string).toLowerCase() as Hex,
    summary: { agreementVersion: Number(summary.agreementVersion), subtotal: summary.subtotal, credit: summary.credit, net: summary.net },
  };
}

/** What {@link openInvoice} opens. */
export interface OpenInvoiceArgs {
  key: Uint8Array;
  context: InvoiceContext;
  sealed: Uint8Array;
  /** The invoice the payee proposed (as the escrow holds or the proposal carries it). */
  invoice: EscrowInvoice;
  /** The version's full terms: with them, a rating-v1 invoice's Poseidon totals commitment (docs/zk.md). */
  terms?: TermsLike;
}

/**
 * Opens a sealed invoice for the payer: it must decrypt for this chain, escrow, pair, period and invoice
 * digest (CryptoError otherwise), its totals and salt must give the invoice's `totalsCommitment`, and its
 * summary must agree with the invoice's version and net (MismatchError naming what differs). The payer then
 * rates the totals itself before it signs.
 */
export function openInvoice({ key, context, sealed, invoice, terms }: OpenInvoiceArgs): InvoiceContents {
  const values = openAbi({ key, kind: SEALED_INVOICE_KIND, types: TYPES, sealed, aad: invoiceAad(context, invoice) });
  const contents = contentsFromAbi(values);
  checkContents(contents, invoice, { hint: "do not sign this invoice: ask the payee for its sealed invoice again.", terms });
  return contents;
}
