import hre from "hardhat";
import { takeSnapshot, time } from "@nomicfoundation/hardhat-network-helpers";
import { getBytes } from "ethers";
import { sealTerms } from "../../lib/agreements/sealed";
import { connectRoamLedger, type RoamLedgerClient } from "../../lib/chain/client";
import { randomSalt } from "../../lib/crypto/commitment";
import { pairwiseKey } from "../../lib/crypto/pairwise";
import { draftInvoice } from "../../lib/invoice/draft";
import { fileClaim, revealClaim } from "../../lib/settlement/claims";
import { settlePeriod } from "../../lib/settlement/escrow";
import { closeSignedInvoice, cosignInvoice, escrowDomainOf, proposeInvoice } from "../../lib/settlement/invoices";
import { signInvoice } from "../../lib/settlement/invoiceSignature";
import type { Hex } from "../../lib/util/hex";
import { fixturePrivateKey } from "../../test/helpers/agreement";
import { addressesOf, deployConsortium, PLMN, testEncryptionKey } from "../../test/helpers/fixtures";
import { invoiceWorld, periodTerms, usageOfBatches, type InvoiceWorld } from "../../test/helpers/invoice";
import { mined, present } from "../util";
import { isolated } from "./gas";

/**
 * Gas of agreements and settlement v2 on the in-process Hardhat network, on the real contracts (the
 * Ignition module) through the product's library where it has the step (lib/settlement): a sealed
 * proposal and its acceptance; an invoice proposed, co-signed, or closed with both signatures in one
 * transaction; a claim ended by a reveal in two openBatches calls (10 batches, then 1) and finishReveal;
 * settle netted and solo; a withdrawal requested and executed after the delay. Every figure is the receipt
 * gasUsed of one transaction sent here.
 */

export interface SettlementGasResult {
  description: string;
  agreementPropose: number;
  agreementAccept: number;
  /** Bytes of the sealed terms `propose` carried (padded to 1,024-byte buckets) and the rate plans in them. */
  sealedTermsBytes: number;
  ratePlans: number;
  proposeInvoice: number;
  cosignInvoice: number;
  closeInvoice: number;
  fileClaim: number;
  /** gasUsed of openBatches by the number of batches it opened. */
  openBatches: Record<string, number>;
  finishReveal: number;
  settleNetted: number;
  settleSolo: number;
  requestWithdrawal: number;
  withdraw: number;
  /** Counted batches of the invoiced period, records in each, disputed records in the first. */
  batches: number;
  recordsPerBatch: number;
  disputes: number;
}

const { DE, BR } = PLMN;
const RLST = 1_000_000n;

/** DE proposes `periodTerms` (4 rate plans) sealed for BR, BR accepts: both receipts' gas. */
async function measureAgreement() {
  const c = await deployConsortium();
  const now = await time.latest();
  const terms = periodTerms(await c.token.getAddress(), now);
  const key = pairwiseKey({ myPrivateKey: fixturePrivateKey(1), theirPublicKey: testEncryptionKey(3) as Hex, plmnA: DE, plmnB: BR });
  const context = {
    chainId: (await hre.ethers.provider.getNetwork()).chainId,
    agreements: await c.agreements.getAddress(),
    proposer: DE,
    counterparty: BR,
  };
  const { sealed, publicTerms } = sealTerms({ key, context, terms, salt: randomSalt() });
  const propose = await mined(c.agreements.connect(c.de).propose(BR, publicTerms, sealed));
  const version = Number(await c.agreements.versionCount(DE, BR));
  const accept = await mined(c.agreements.connect(c.br).accept(DE, version, publicTerms.termsCommitment));
  return {
    agreementPropose: Number(propose.gasUsed),
    agreementAccept: Number(accept.gasUsed),
    sealedTermsBytes: getBytes(sealed).length,
    ratePlans: terms.ratePlans.length,
  };
}

interface SettleBench {
  w: InvoiceWorld;
  de: RoamLedgerClient;
  br: RoamLedgerClient;
  token: string;
}

/** Both carriers funded: 10,000 RLST minted, 5,000 deposited each. */
async function funded(batches: number): Promise<SettleBench> {
  const w = await invoiceWorld({ brBatches: batches, records: 40, disputes: 2 });
  const addresses = await addressesOf(w);
  const token = await w.token.getAddress();
  for (const who of [w.de, w.br]) {
    await mined(w.token.connect(w.deployer).mint(who.address, 10_000n * RLST));
    await mined(w.token.connect(who).approve(addresses.settlementEscrow, hre.ethers.MaxUint256));
    await mined(w.escrow.connect(who).deposit(token, 5_000n * RLST));
  }
  return { w, de: connectRoamLedger(addresses, w.de), br: connectRoamLedger(addresses, w.br), token };
}

const receiptGas = async (hash: string) =>
  Number(present(await hre.ethers.provider.getTransactionReceipt(hash), `receipt ${hash}`).gasUsed);

/** After BR's proposal: the claim path (sign window over, claim, reveal 10 + 1 batches, finish). Undone afterwards. */
async function measureClaim(b: SettleBench, usage: Awaited<ReturnType<typeof usageOfBatches>>) {
  const snapshot = await takeSnapshot();
  const key = { payer: DE, payee: BR, period: b.w.period };
  await time.increase(Number(await b.w.escrow.SIGN_WINDOW()));
  const claim = await fileClaim(b.br, key);
  const claimGas = await receiptGas(claim.txHash);
  const revealed = await revealClaim(b.de, { usage, terms: b.w.terms, publish: true, maxBatchesPerCall: 10 });
  await snapshot.restore();
  const openBatches: Record<string, number> = {};
  for (const tx of revealed.txs) openBatches[String(tx.opened)] ??= Number(tx.gasUsed);
  return { fileClaim: claimGas, openBatches, finishReveal: Number(revealed.finishTx.gasUsed) };
}

/** DE's invoice to BR for its own usage, signed by both off chain, closed in one transaction; then settle netted, or solo. */
async function measureCloseAndSettle(b: SettleBench) {
  const usage = await usageOfBatches(b.w, BR, DE, b.w.deBatches);
  const draft = draftInvoice({ key: b.w.key, usage, terms: b.w.terms });
  const domain = await escrowDomainOf(b.de);
  const payerSignature = await signInvoice(b.w.br, domain, draft.invoice);
  const payeeSignature = await signInvoice(b.w.de, domain, draft.invoice);
  const snapshot = await takeSnapshot();
  const closed = await closeSignedInvoice(b.de, { invoice: draft.invoice, payerSignature, payeeSignature });
  const netted = await settlePeriod(b.de, { self: DE, partner: BR, period: b.w.period });
  if (netted.mode !== "netted") throw new Error(`settle with both invoices closed was ${netted.mode}`);
  await snapshot.restore();
  // Only DE -> BR closed: it settles alone from the period's end + SOLO_SETTLE_DELAY.
  await time.increaseTo(b.w.end + Number(await b.w.escrow.SOLO_SETTLE_DELAY()));
  const solo = await settlePeriod(b.de, { self: DE, partner: BR, period: b.w.period });
  if (solo.mode !== "solo") throw new Error(`settle with one invoice closed was ${solo.mode}`);
  return { closeInvoice: Number(closed.gasUsed), settleNetted: Number(netted.gasUsed), settleSolo: Number(solo.gasUsed) };
}

/** DE asks to withdraw 1,000 RLST and executes it after the escrow's delay. */
async function measureWithdrawal(b: SettleBench) {
  const escrow = b.w.escrow.connect(b.w.de);
  const request = await mined(escrow.requestWithdrawal(b.token, 1_000n * RLST, b.w.de.address));
  await time.increase(Number(await b.w.escrow.WITHDRAWAL_DELAY()));
  const withdraw = await mined(escrow.withdraw(b.token));
  return { requestWithdrawal: Number(request.gasUsed), withdraw: Number(withdraw.gasUsed) };
}

/**
 * A period between DE and BR on the real contracts (test/helpers/invoice.ts invoiceWorld: sealed terms of 4
 * plans, `batches` (default 11) of BR's batches of 40 records for DE, 2 records of the first disputed, one of
 * DE's for BR, all accepted, the period over): BR proposes its invoice (the period closed first, its own
 * transaction). Then the claim path, undone; then DE co-signs; DE's own invoice closes with both
 * signatures; settle netted, undone, and solo after the delay; a withdrawal.
 */
export async function measureSettlementGas(opts: { batches?: number; log?: (line: string) => void } = {}): Promise<SettlementGasResult> {
  const batches = opts.batches ?? 11;
  const log = opts.log ?? (() => {});
  const agreement = await isolated("agreement-gas", measureAgreement);
  log(`agreement: propose ${agreement.agreementPropose}, accept ${agreement.agreementAccept}`);
  const rest = await isolated("settle-gas", async () => {
    const b = await funded(batches);
    const usage = await usageOfBatches(b.w, DE, BR, b.w.brBatches);
    const proposed = await proposeInvoice(b.br, { key: b.w.key, usage, terms: b.w.terms });
    const claim = await measureClaim(b, usage);
    log(`claim: fileClaim ${claim.fileClaim}, openBatches ${JSON.stringify(claim.openBatches)}, finishReveal ${claim.finishReveal}`);
    const cosigned = await cosignInvoice(b.de, { key: b.w.key, usage, terms: b.w.terms });
    const settle = await measureCloseAndSettle(b);
    const withdrawal = await measureWithdrawal(b);
    return { proposeInvoice: Number(proposed.gasUsed), cosignInvoice: Number(cosigned.gasUsed), ...claim, ...settle, ...withdrawal };
  });
  log(`invoice: ${JSON.stringify(rest)}`);
  return {
    description:
      "Receipt gasUsed on the hardhat network, real contracts: RoamingAgreements.propose of sealed terms (4 rate plans) and " +
      `accept; for a period of ${batches} counted batches of 40 records (2 records of the first disputed): proposeInvoice ` +
      "(sealed invoice, payee's EIP-712 signature), cosignInvoice, closeInvoice with both signatures; fileClaim after the sign " +
      "window; the reveal (openBatches of 10 batches, then of 1, then finishReveal rating the terms on chain); settle netted " +
      "(both directions closed) and solo (one closed, after SOLO_SETTLE_DELAY); requestWithdrawal and withdraw after WITHDRAWAL_DELAY.",
    ...agreement,
    ...rest,
    batches,
    recordsPerBatch: 40,
    disputes: 2,
  };
}
