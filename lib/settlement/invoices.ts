/**
 * The invoice of a closed period on the escrow (ISettlementEscrow v2): the payee proposes the invoice it
 * rated off chain and signed, sealed for the payer; the payer opens it, makes its own from its own terms
 * and usage, and co-signs only when both agree; both signatures at hand close it at once. Errors say what
 * to do (a period not closable yet says from when, a disagreement lists the differences).
 */
import { hexlify, type Signer } from "ethers";
import { BaseError, InputError } from "../core/errors";
import { formatPeriod, periodBounds } from "../core/period";
import { formatPlmn } from "../core/plmn";
import { isoTime } from "../agreements/terms";
import { parseRevert } from "../chain/revert";
import { providerOf, sendAndWait } from "../chain/send";
import type { RoamLedgerClient } from "../chain/client";
import { draftInvoice, invoiceDifferences, type InvoiceDifference, type InvoiceDraft } from "../invoice/draft";
import { openInvoice, sealInvoice, type InvoiceContents } from "../invoice/sealed";
import type { FullTerms, PeriodUsage } from "../invoice/usage";
import type { Hex } from "../util/hex";
import { type EscrowInvoice, escrowDomain, invoiceDigest, signInvoice } from "./invoiceSignature";
import { closability } from "./escrow";

/** `ISettlementEscrow.InvoiceStatus`, by index. */
export const ESCROW_INVOICE_STATUSES = ["none", "proposed", "claimed", "revealing", "closed", "settled"] as const;
export type EscrowInvoiceStatus = (typeof ESCROW_INVOICE_STATUSES)[number];
/** `ISettlementEscrow.Resolution`, by index. */
export const RESOLUTIONS = ["none", "co-signed", "proven", "revealed"] as const;
export type ResolutionName = (typeof RESOLUTIONS)[number];

/** One direction of a pair for one period: the home carrier (payer) owes the visited one (payee). */
export interface InvoiceKey {
  payer: Hex;
  payee: Hex;
  /** yyyymm. */
  period: number;
}

const describeKey = ({ payer, payee, period }: InvoiceKey) =>
  `the invoice of ${formatPlmn(payer)} (payer) to ${formatPlmn(payee)} (payee) for ${formatPeriod(period)}`;

/** The payer does not agree with the proposed invoice: nothing was signed. */
export class InvoiceDisagreementError extends BaseError {
  override name = "InvoiceDisagreementError";
  constructor(
    message: string,
    readonly differences: InvoiceDifference[],
    hint: string,
  ) {
    super(message, { details: differences.map((d) => `${d.field}: proposed ${d.proposed}, ours ${d.ours}`).join("\n"), hint });
  }
}

/** The status of an invoice on the escrow. */
export async function escrowInvoiceStatus(client: RoamLedgerClient, { payer, payee, period }: InvoiceKey): Promise<EscrowInvoiceStatus> {
  return ESCROW_INVOICE_STATUSES[Number((await client.escrow.invoice(payer, payee, period)).status)];
}

/** The escrow's EIP-712 domain (chain id and address). */
export async function escrowDomainOf(client: RoamLedgerClient) {
  return escrowDomain((await providerOf(client.runner).getNetwork()).chainId, client.addresses.settlementEscrow);
}

/** The agreement version an invoice of `key` must name, by the escrow's rule. */
export interface VersionInForce {
  version: number;
  termsCommitment: Hex;
  token: string;
}

async function tryTermsAt(client: RoamLedgerClient, key: InvoiceKey, time: number): Promise<VersionInForce | undefined> {
  try {
    const [terms, version] = await client.agreements.termsAt(key.payer, key.payee, time);
    return { version: Number(version), termsCommitment: terms.termsCommitment.toLowerCase() as Hex, token: terms.settlementToken };
  } catch (err) {
    if (parseRevert(err)?.name === "RoamingAgreementsNoAgreementAt") return undefined;
    throw err;
  }
}

/** The version in force at the period's first second, else at its last second (the escrow's rule). */
export async function versionInForce(client: RoamLedgerClient, key: InvoiceKey): Promise<VersionInForce> {
  const [start, end] = periodBounds(key.period);
  const found = (await tryTermsAt(client, key, start)) ?? (await tryTermsAt(client, key, end - 1));
  if (!found) {
    throw new InputError(
      `no agreement version between ${formatPlmn(key.payer)} and ${formatPlmn(key.payee)} is in force in ${formatPeriod(key.period)}`,
      {
        location: { param: "period" },
        hint: "an invoice rates a period under the version in force at its first (else its last) second; check the period.",
        next: { operation: "agreement:show", args: { partner: formatPlmn(key.payee) } },
      },
    );
  }
  return found;
}

/**
 * The ledger's accumulator of the closed period: closes it first when it can be (anyone may), else an
 * InputError that says from when.
 */
export async function closedAccumulator(client: RoamLedgerClient, key: InvoiceKey): Promise<Hex> {
  const info = await client.ledger.getPeriod(key.payer, key.payee, key.period);
  if (info.closed) return info.accumulator.toLowerCase() as Hex;
  try {
    await sendAndWait(() => client.ledger.closePeriod(key.payer, key.payee, key.period));
  } catch (err) {
    const revert = parseRevert(err);
    if (!revert) throw err;
    // The same rule and second as the report's "closable at" (closableFrom).
    const c = await closability(client, { home: key.payer, visited: key.payee, period: key.period });
    const pending = c.openBatches.length;
    throw new InputError(
      `the ledger cannot close ${formatPeriod(key.period)} of ${formatPlmn(key.payer)} in ${formatPlmn(key.payee)} yet (${revert.name}): closable from ${isoTime(c.earliest)}`,
      {
        hint:
          `a period closes from its submission deadline (${isoTime(c.anyoneAt)}) once no batch is pending` +
          (pending > 0
            ? `; ${pending} batch(es) are: the home carrier decides them (usage:verify), or anyone expires them from the end of their dispute window (usage:expire).`
            : "."),
      },
    );
  }
  return (await client.ledger.getPeriod(key.payer, key.payee, key.period)).accumulator.toLowerCase() as Hex;
}

/** InputError unless `usage` and `terms` are the ones the escrow will check the invoice against. */
async function checkInputs(client: RoamLedgerClient, usage: PeriodUsage, terms: FullTerms): Promise<void> {
  const key = { payer: usage.home, payee: usage.visited, period: usage.period };
  const [accumulator, inForce] = await Promise.all([closedAccumulator(client, key), versionInForce(client, key)]);
  if (accumulator !== usage.accumulator.toLowerCase()) {
    throw new InputError(
      `the usage given for ${describeKey(key)} is not the ledger's: accumulator ${usage.accumulator}, ledger ${accumulator}`,
      {
        hint: "read the period's counted batches again from the ledger once it is closed.",
      },
    );
  }
  if (inForce.version !== terms.version || inForce.termsCommitment !== terms.termsCommitment.toLowerCase()) {
    throw new InputError(
      `${describeKey(key)} is rated under agreement version ${inForce.version}, the terms given are of version ${terms.version}`,
      {
        hint: `open the full terms of version ${inForce.version} (commitment ${inForce.termsCommitment}).`,
      },
    );
  }
}

/** What {@link proposeInvoice} and {@link cosignInvoice} take. */
export interface RateInvoiceOptions {
  /** The pair's key (pairwiseKey), to seal or open the invoice and derive its totals salt. */
  key: Uint8Array;
  /** The period's usage from our own copies (counted batches, disputes, accumulator). */
  usage: PeriodUsage;
  /** Our full terms of the version in force. */
  terms: FullTerms;
}

export interface ProposeResult {
  draft: InvoiceDraft;
  digest: Hex;
  payeeSignature: Hex;
  txHash: string;
  gasUsed: bigint;
}

/**
 * The payee's proposal: closes the ledger's period when needed, checks the version in force, rates the
 * period, signs the invoice (the client's signer: an operator of the payee), seals its contents for the
 * payer and sends `proposeInvoice`. A new proposal replaces a pending one and restarts the sign window.
 */
export async function proposeInvoice(client: RoamLedgerClient, { key, usage, terms }: RateInvoiceOptions): Promise<ProposeResult> {
  await checkInputs(client, usage, terms);
  const draft = draftInvoice({ key, usage, terms });
  const domain = await escrowDomainOf(client);
  const payeeSignature = await signInvoice(client.runner as Signer, domain, draft.invoice);
  const sealed = sealInvoice({
    key,
    context: { chainId: domain.chainId as bigint, escrow: client.addresses.settlementEscrow },
    invoice: draft.invoice,
    contents: draft.contents,
    terms: terms.terms,
  });
  const receipt = await sendAndWait(() => client.escrow.proposeInvoice(draft.invoice, payeeSignature, hexlify(sealed)));
  return { draft, digest: invoiceDigest(domain, draft.invoice), payeeSignature, txHash: receipt.hash, gasUsed: receipt.gasUsed };
}

/** A proposed invoice as the payer reads it back: the signed struct, its sealed contents and the status. */
export interface Proposal {
  invoice: EscrowInvoice;
  sealed: Uint8Array;
  status: EscrowInvoiceStatus;
  proposedAt: number;
  txHash: Hex;
}

/**
 * The invoice proposed for `key`: rebuilt from the escrow's stored state and the ledger's accumulator
 * (checked against the stored digest), with the sealed contents of its `InvoiceProposed` event.
 */
export async function readProposal(client: RoamLedgerClient, key: InvoiceKey & { fromBlock?: number }): Promise<Proposal> {
  const state = await client.escrow.invoice(key.payer, key.payee, key.period);
  const status = ESCROW_INVOICE_STATUSES[Number(state.status)];
  if (status === "none") {
    throw new InputError(`${describeKey(key)} has not been proposed`, {
      hint: "the payee proposes it once the ledger has closed the period.",
    });
  }
  const ledger = await client.ledger.getPeriod(key.payer, key.payee, key.period);
  const invoice: EscrowInvoice = {
    payer: key.payer.toLowerCase() as Hex,
    payee: key.payee.toLowerCase() as Hex,
    period: key.period,
    agreementVersion: Number(state.agreementVersion),
    termsCommitment: state.termsCommitment.toLowerCase() as Hex,
    ledgerAccumulator: ledger.accumulator.toLowerCase() as Hex,
    totalsCommitment: state.totalsCommitment.toLowerCase() as Hex,
    token: state.token,
    net: state.net,
  };
  const digest = state.digest.toLowerCase();
  if (invoiceDigest(await escrowDomainOf(client), invoice) !== digest) {
    throw new InputError(`${describeKey(key)} as stored does not rebuild to its digest ${digest}`, {
      hint: "the escrow or ledger address is not the deployment's; check the deployment record.",
    });
  }
  const filter = client.escrow.filters.InvoiceProposed(key.payer, key.payee, key.period);
  const logs = (await client.escrow.queryFilter(filter, key.fromBlock ?? 0)).filter((l) => l.args.digest.toLowerCase() === digest);
  const last = logs.at(-1);
  if (!last) {
    throw new InputError(`no InvoiceProposed event of ${describeKey(key)} with digest ${digest} from block ${key.fromBlock ?? 0}`, {
      location: { param: "fromBlock" },
      hint: "search from an earlier block (the escrow's deployment block).",
    });
  }
  return {
    invoice,
    sealed: Buffer.from(last.args.sealedInvoice.slice(2), "hex"),
    status,
    proposedAt: Number(state.proposedAt),
    txHash: last.transactionHash as Hex,
  };
}

export interface CosignResult {
  proposal: Proposal;
  contents: InvoiceContents;
  draft: InvoiceDraft;
  payerSignature: Hex;
  txHash: string;
  gasUsed: bigint;
}

/**
 * The payer's side: opens the proposed invoice, makes its own from `usage` and `terms`, and co-signs only
 * when they agree (net, totals commitment and every figure); otherwise InvoiceDisagreementError listing the
 * differences line by line, and nothing is sent.
 */
export async function cosignInvoice(client: RoamLedgerClient, opts: RateInvoiceOptions & { fromBlock?: number }): Promise<CosignResult> {
  const { key, usage, terms } = opts;
  const invoiceKey = { payer: usage.home, payee: usage.visited, period: usage.period };
  const proposal = await readProposal(client, { ...invoiceKey, fromBlock: opts.fromBlock });
  if (!["proposed", "claimed", "revealing"].includes(proposal.status)) {
    throw new InputError(`${describeKey(invoiceKey)} is ${proposal.status}: there is nothing to co-sign`, {
      hint: "its status shows what is left to do.",
    });
  }
  const domain = await escrowDomainOf(client);
  const context = { chainId: domain.chainId as bigint, escrow: client.addresses.settlementEscrow };
  const contents = openInvoice({ key, context, sealed: proposal.sealed, invoice: proposal.invoice, terms: terms.terms });
  const draft = draftInvoice({ key, usage, terms });
  const differences = invoiceDifferences({ invoice: proposal.invoice, contents }, draft);
  if (differences.length > 0) {
    throw new InvoiceDisagreementError(
      `${describeKey(invoiceKey)} differs from ours in ${differences.length} figure(s): not co-signed`,
      differences,
      "talk to the payee and have it propose the corrected invoice (a new proposal replaces this one); after the sign window it may file a claim, which ends by your signature, a proof, or a reveal.",
    );
  }
  const payerSignature = await signInvoice(client.runner as Signer, domain, proposal.invoice);
  const receipt = await sendAndWait(() => client.escrow.cosignInvoice(usage.home, usage.visited, usage.period, payerSignature));
  return { proposal, contents, draft, payerSignature, txHash: receipt.hash, gasUsed: receipt.gasUsed };
}

/** Closes an invoice both parties signed off chain in one transaction (`closeInvoice`). */
export async function closeSignedInvoice(
  client: RoamLedgerClient,
  { invoice, payerSignature, payeeSignature }: { invoice: EscrowInvoice; payerSignature: Hex; payeeSignature: Hex },
): Promise<{ txHash: string; gasUsed: bigint }> {
  const receipt = await sendAndWait(() => client.escrow.closeInvoice(invoice, payerSignature, payeeSignature));
  return { txHash: receipt.hash, gasUsed: receipt.gasUsed };
}

/** The public facts of an invoice, as any member reads them (no figure but the nets). */
export interface InvoicePublicView extends InvoiceKey {
  status: EscrowInvoiceStatus;
  resolution: ResolutionName;
  agreementVersion: number;
  token: string;
  /** The net the payee signed (claimed). */
  net: bigint;
  /** What the payer owes once closed. */
  amount: bigint;
  bond: bigint;
  proposedAt: number;
  claimedAt: number;
  closedAt: number;
  /** When the payer's sign window ends (0 when not proposed). */
  signWindowEndsAt: number;
  /** The signed invoice's commitments and EIP-712 digest (zero when not proposed): hashes, salted. */
  termsCommitment: Hex;
  totalsCommitment: Hex;
  digest: Hex;
}

/** What the escrow says of the invoice of `key`. */
export async function invoicePublicView(client: RoamLedgerClient, key: InvoiceKey): Promise<InvoicePublicView> {
  const [s, window] = await Promise.all([client.escrow.invoice(key.payer, key.payee, key.period), client.escrow.SIGN_WINDOW()]);
  const proposedAt = Number(s.proposedAt);
  return {
    ...key,
    status: ESCROW_INVOICE_STATUSES[Number(s.status)],
    resolution: RESOLUTIONS[Number(s.resolution)],
    agreementVersion: Number(s.agreementVersion),
    token: s.token,
    net: s.net,
    amount: s.amount,
    bond: s.bond,
    proposedAt,
    claimedAt: Number(s.claimedAt),
    closedAt: Number(s.closedAt),
    signWindowEndsAt: proposedAt === 0 ? 0 : proposedAt + Number(window),
    termsCommitment: s.termsCommitment.toLowerCase() as Hex,
    totalsCommitment: s.totalsCommitment.toLowerCase() as Hex,
    digest: s.digest.toLowerCase() as Hex,
  };
}
