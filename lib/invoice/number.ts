import { AbiCoder, keccak256 } from "ethers";
import { formatPlmn } from "../core/plmn";
import type { Hex } from "../util/hex";

export interface InvoiceNumberParts {
  chainId: bigint;
  /** The settlement escrow's address. */
  escrow: string;
  payer: Hex;
  payee: Hex;
  /** yyyymm. */
  period: number;
}

/**
 * The invoice number: readable parts (chain, payer, payee, period) and a check of 6 hex digits over the
 * escrow too, so two deployments on one chain never share a number. Deterministic: both carriers (and
 * an auditor) derive the same number from the chain.
 */
export function invoiceNumber({ chainId, escrow, payer, payee, period }: InvoiceNumberParts): string {
  const hash = keccak256(
    AbiCoder.defaultAbiCoder().encode(
      ["string", "uint256", "address", "bytes3", "bytes3", "uint32"],
      ["roamledger/invoice/v1", chainId, escrow, payer, payee, period],
    ),
  );
  const digits = (plmn: Hex) => formatPlmn(plmn).replace("-", "");
  return `RL-${chainId}-${digits(payer)}-${digits(payee)}-${period}-${hash.slice(2, 8).toUpperCase()}`;
}
