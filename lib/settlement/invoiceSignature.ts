/**
 * EIP-712 of the invoice both carriers sign (ISettlementEscrow `Invoice`): the payee signs it with its
 * proposal, the payer with its agreement, and the escrow recovers both (OpenZeppelin EIP712 and ECDSA).
 * The domain binds the chain and the escrow; the message binds the pair, the period, the agreement version
 * and its terms commitment, the ledger's period accumulator, the salted commitment to the rated period
 * totals, the token and the net. Only the net is a plain figure.
 */
import { TypedDataEncoder, verifyTypedData, type Signer, type TypedDataDomain, type TypedDataField } from "ethers";
import { CryptoError } from "../core/errors";
import type { Hex } from "../util/hex";

/** EIP-712 domain name and version of the SettlementEscrow contract. */
export const ESCROW_DOMAIN_NAME = "RoamLedger SettlementEscrow";
export const ESCROW_DOMAIN_VERSION = "2";

/**
 * ethers typed-data types of `Invoice` (PlmnId is bytes3), field for field:
 * `Invoice(bytes3 payer,bytes3 payee,uint32 period,uint32 agreementVersion,bytes32 termsCommitment,
 * bytes32 ledgerAccumulator,bytes32 totalsCommitment,address token,uint256 net)`.
 */
export const INVOICE_TYPES: Record<string, TypedDataField[]> = {
  Invoice: [
    { name: "payer", type: "bytes3" },
    { name: "payee", type: "bytes3" },
    { name: "period", type: "uint32" },
    { name: "agreementVersion", type: "uint32" },
    { name: "termsCommitment", type: "bytes32" },
    { name: "ledgerAccumulator", type: "bytes32" },
    { name: "totalsCommitment", type: "bytes32" },
    { name: "token", type: "address" },
    { name: "net", type: "uint256" },
  ],
};

/** The escrow's `Invoice` struct. */
export interface EscrowInvoice {
  /** The home carrier, which owes (bytes3). */
  payer: Hex;
  /** The visited carrier, which bills. */
  payee: Hex;
  /** yyyymm. */
  period: number;
  /** The agreement version the period is rated with. */
  agreementVersion: number;
  /** That version's terms commitment. */
  termsCommitment: Hex;
  /** The ledger's accumulator of the closed period (home = payer, visited = payee). */
  ledgerAccumulator: Hex;
  /** `CommitmentLib.periodTotals(totals, salt)` of the rated period totals. */
  totalsCommitment: Hex;
  /** The settlement token. */
  token: string;
  /** What the payer owes, in token base units. */
  net: bigint;
}

/** The EIP-712 domain of a SettlementEscrow deployment. */
export function escrowDomain(chainId: bigint | number, escrowAddress: string): TypedDataDomain {
  return { name: ESCROW_DOMAIN_NAME, version: ESCROW_DOMAIN_VERSION, chainId, verifyingContract: escrowAddress };
}

/** The EIP-712 struct hash of `invoice`. */
export function invoiceStructHash(invoice: EscrowInvoice): Hex {
  return TypedDataEncoder.hashStruct("Invoice", INVOICE_TYPES, invoice) as Hex;
}

/** The digest each carrier signs (the escrow's `invoiceDigest`). */
export function invoiceDigest(domain: TypedDataDomain, invoice: EscrowInvoice): Hex {
  return TypedDataEncoder.hash(domain, INVOICE_TYPES, invoice) as Hex;
}

/** Signs `invoice` with an operator key of the signing carrier (EIP-712 `eth_signTypedData_v4`), as batches are signed. */
export async function signInvoice(signer: Signer, domain: TypedDataDomain, invoice: EscrowInvoice): Promise<Hex> {
  return (await signer.signTypedData(domain, INVOICE_TYPES, invoice)) as Hex;
}

/**
 * The address that signed `invoice` under `domain`. Like OpenZeppelin's ECDSA.recover, refuses a malformed
 * signature and a high-s one (CryptoError); a valid signature of another message recovers another address,
 * so the caller compares the result with the operator it expects.
 */
export function recoverInvoiceSigner(domain: TypedDataDomain, invoice: EscrowInvoice, signature: Hex): string {
  try {
    return verifyTypedData(domain, INVOICE_TYPES, invoice, signature);
  } catch (cause) {
    throw new CryptoError("the invoice signature is malformed or not canonical (high s)", {
      cause,
      hint: "ask the signer to sign the invoice again with a standard EIP-712 signer.",
    });
  }
}
