/**
 * A claim decided by zero-knowledge proof on the real contracts (RoamLedger's Ignition module, the real ledger
 * and agreements), with the deterministic development ceremony's key (lib/zk/ceremony ensureDevCeremony) behind
 * a Groth16Verifier the governors trusted by quorum: the payee proves that the invoice's net is the rating-v1
 * rating of its committed totals, the escrow closes the claim at exactly that net after the payer's contest
 * window, settlement moves it, and what is sent on chain is commitments and proof points only.
 */
import hre from "hardhat";
import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { Amount } from "../../../lib/core/amount";
import { InputError, MismatchError } from "../../../lib/core/errors";
import { tokenInfo } from "../../../lib/agreements/chain";
import { connectRoamLedger, type RoamLedgerClient } from "../../../lib/chain/client";
import { draftInvoice } from "../../../lib/invoice/draft";
import type { PeriodUsage } from "../../../lib/invoice/usage";
import { closeSignedInvoice, escrowDomainOf, escrowInvoiceStatus, proposeInvoice } from "../../../lib/settlement/invoices";
import { fileClaim } from "../../../lib/settlement/claims";
import { depositToEscrow, settlePeriod } from "../../../lib/settlement/escrow";
import { signInvoice } from "../../../lib/settlement/invoiceSignature";
import { adjudicatorOf } from "../../../lib/zk/adjudicator";
import { ensureDevCeremony, type DevCeremony } from "../../../lib/zk/ceremony";
import { adjudicatorAccepts, buildClaimProof, fileClaimProof, requireTrustedKey, type ProvingKit } from "../../../lib/zk/claim";
import { zkTermsCommitment, zkTotalsCommitment } from "../../../lib/zk/encoding";
import { proofFromBytes, proofToBytes, verifierConstructorArgs } from "../../../lib/zk/prover";
import { addressesOf, PLMN } from "../../helpers/fixtures";
import { invoiceWorld, usageOfBatches, type InvoiceWorld } from "../../helpers/invoice";

const { DE, BR } = PLMN;
const RLST = 1_000_000n;
const RESOLUTION_PROVEN = 2n;

interface Setup extends InvoiceWorld {
  deClient: RoamLedgerClient;
  brClient: RoamLedgerClient;
  brBillsDe: PeriodUsage;
  deBillsBr: PeriodUsage;
  verifier: string;
}

describe("A claim decided by proof (rating-v1, development ceremony)", function () {
  this.timeout(600_000);
  let dev: DevCeremony;
  let kit: ProvingKit;

  before(async function () {
    this.timeout(40 * 60_000); // a fresh machine builds the development setup first (npm run zk:dev)
    dev = await ensureDevCeremony({ onProgress: (line) => console.log(`      ${line}`) });
    kit = { wasm: dev.wasm, zkey: dev.zkey, vkey: dev.vkey };
  });

  /** invoiceWorld, deposits, and the development verifier trusted by DE's proposal and US's approval. */
  async function setup(): Promise<Setup> {
    const w = await invoiceWorld({ brBatches: 3, records: 40, disputes: 2 });
    const addresses = await addressesOf(w);
    const deClient = connectRoamLedger(addresses, w.de);
    const brClient = connectRoamLedger(addresses, w.br);
    const token = await tokenInfo(await w.token.getAddress(), w.de);
    for (const [who, client, member] of [
      [w.de, deClient, DE],
      [w.br, brClient, BR],
    ] as const) {
      await w.token.connect(w.deployer).mint(who.address, 10_000n * RLST);
      await depositToEscrow(client, { member, amount: Amount.fromUnits(token, 5_000n * RLST) });
    }
    const verifier = await hre.ethers.deployContract("Groth16Verifier", [verifierConstructorArgs(dev.vkey)]);
    const address = await verifier.getAddress();
    const adjudicator = await adjudicatorOf(deClient);
    await adjudicator.connect(w.de).proposeVerifier(1, address, dev.transcriptHash);
    await adjudicator.connect(w.us).approveVerifier(1, address, dev.transcriptHash);
    const brBillsDe = await usageOfBatches(w, DE, BR, w.brBatches);
    const deBillsBr = await usageOfBatches(w, BR, DE, w.deBatches);
    return { ...w, deClient, brClient, brBillsDe, deBillsBr, verifier: address };
  }

  /** BR proposes its invoice of DE; DE does not sign; BR claims after the sign window. */
  async function claimed(): Promise<Setup> {
    const s = await loadFixture(setup);
    await proposeInvoice(s.brClient, { key: s.key, usage: s.brBillsDe, terms: s.terms });
    await time.increase(Number(await s.escrow.SIGN_WINDOW()));
    await fileClaim(s.brClient, { payer: DE, payee: BR, period: s.period });
    return s;
  }

  it("the agreement names rating-v1 with both directions' commitments, and the invoice commits to its totals with Poseidon", async function () {
    const s = await loadFixture(setup);
    const v = await s.agreements.getVersion(DE, BR, s.terms.version);
    expect(v.terms.ratingCircuit).to.equal(1n);
    // BR (0x27f450) is lo, DE hi.
    expect(v.terms.ratingCommitmentLo).to.equal(zkTermsCommitment(s.terms.terms, s.terms.termsSalt, BR));
    expect(v.terms.ratingCommitmentHi).to.equal(zkTermsCommitment(s.terms.terms, s.terms.termsSalt, DE));
    const { draft } = await proposeInvoice(s.brClient, { key: s.key, usage: s.brBillsDe, terms: s.terms });
    const poseidon = zkTotalsCommitment({
      totals: draft.totals,
      terms: s.terms.terms,
      payer: DE,
      payee: BR,
      period: s.period,
      totalsSalt: draft.contents.totalsSalt,
    });
    expect((await s.escrow.invoice(DE, BR, s.period)).totalsCommitment).to.equal(poseidon);
  });

  it("closes the claim at exactly the proven net after the contest window, and settlement moves exactly it", async function () {
    const s = await claimed();
    const tokenAddress = await s.token.getAddress();
    await requireTrustedKey(s.brClient, kit);
    const proof = await buildClaimProof(s.brClient, { key: s.key, usage: s.brBillsDe, terms: s.terms, kit });
    const net = draftInvoice({ key: s.key, usage: s.brBillsDe, terms: s.terms }).rating.net;
    expect(proof.net).to.equal(net);
    expect(net > 0n).to.equal(true);
    expect(proof.publicSignals[2]).to.equal(String(net));
    expect(await adjudicatorAccepts(s.brClient, { payer: DE, payee: BR, period: s.period, proof })).to.equal(true);
    const gasOfVerify = await (await adjudicatorOf(s.brClient)).verify.estimateGas(
      DE,
      BR,
      s.terms.version,
      (await s.escrow.invoice(DE, BR, s.period)).totalsCommitment,
      net,
      proof.proof,
    );

    // The payer's contest window: the proof waits.
    await expect(fileClaimProof(s.brClient, { key: s.key, usage: s.brBillsDe, terms: s.terms, proof: proof.proof })).to.be.rejectedWith(
      InputError,
      /may co-sign or contest .* until/,
    );
    await time.increase(Number(await s.escrow.SIGN_WINDOW()));
    const bondBefore = (await s.escrow.invoice(DE, BR, s.period)).bond;
    expect(bondBefore > 0n).to.equal(true);
    const r = await fileClaimProof(s.brClient, { key: s.key, usage: s.brBillsDe, terms: s.terms, proof: proof.proof });
    const state = await s.escrow.invoice(DE, BR, s.period);
    expect([state.resolution, state.amount, state.net]).to.deep.equal([RESOLUTION_PROVEN, net, net]);
    expect(await escrowInvoiceStatus(s.brClient, { payer: DE, payee: BR, period: s.period })).to.equal("closed");
    expect(await s.escrow.reserved(BR, tokenAddress)).to.equal(0n); // the bond is released
    expect(await s.escrow.reserved(DE, tokenAddress)).to.equal(net);
    console.log(`      gas: proveClaim ${r.gasUsed} (adjudicator.verify ${gasOfVerify}); prove ${proof.proveMs} ms`);
    expect(r.gasUsed < 16_777_216n).to.equal(true);

    // DE's direction closes by both signatures; the period nets: exactly the proven net less DE's moves.
    const draft = draftInvoice({ key: s.key, usage: s.deBillsBr, terms: s.terms });
    const domain = await escrowDomainOf(s.deClient);
    await closeSignedInvoice(s.deClient, {
      invoice: draft.invoice,
      payerSignature: await signInvoice(s.br, domain, draft.invoice),
      payeeSignature: await signInvoice(s.de, domain, draft.invoice),
    });
    const settled = await settlePeriod(s.deClient, { self: DE, partner: BR, period: s.period });
    expect([settled.mode, settled.selfOwed, settled.partnerOwed]).to.deep.equal(["netted", net, draft.invoice.net]);
    const moved = net - draft.invoice.net;
    expect(await s.escrow.deposits(DE, tokenAddress)).to.equal(5_000n * RLST - moved);
    expect(await s.escrow.deposits(BR, tokenAddress)).to.equal(5_000n * RLST + moved);
  });

  it("refuses a proof for another net, another pair or period, or altered points; nothing is closed", async function () {
    const s = await claimed();
    const proof = await buildClaimProof(s.brClient, { key: s.key, usage: s.brBillsDe, terms: s.terms, kit });
    const adjudicator = await adjudicatorOf(s.brClient);
    const state = await s.escrow.invoice(DE, BR, s.period);
    const verify = (o: { payer?: string; payee?: string; totals?: string; net?: bigint; bytes?: string }) =>
      adjudicator.verify(
        o.payer ?? DE,
        o.payee ?? BR,
        s.terms.version,
        o.totals ?? state.totalsCommitment,
        o.net ?? state.net,
        o.bytes ?? proof.proof,
      );
    expect(await verify({})).to.equal(true);
    expect(await verify({ net: state.net + 1n }), "net + 1").to.equal(false);
    expect(await verify({ net: state.net - 1n }), "net - 1").to.equal(false);
    // The other direction of the pair is rated by the other commitment.
    expect(await verify({ payer: BR, payee: DE }), "the other direction").to.equal(false);
    // Another period's invoice commits to other totals (its period is in the commitment, its salt differs).
    const otherPeriod = zkTotalsCommitment({
      totals: draftInvoice({ key: s.key, usage: s.brBillsDe, terms: s.terms }).totals,
      terms: s.terms.terms,
      payer: DE,
      payee: BR,
      period: s.period + 1,
      totalsSalt: draftInvoice({ key: s.key, usage: s.brBillsDe, terms: s.terms }).contents.totalsSalt,
    });
    expect(await verify({ totals: otherPeriod }), "another period").to.equal(false);
    const points = proofFromBytes(proof.proof);
    const tampered = proofToBytes({ ...points, pi_a: [String(BigInt(points.pi_a[0]) + 1n), points.pi_a[1], points.pi_a[2] ?? "1"] });
    expect(await verify({ bytes: tampered }), "a point moved").to.equal(false);
    await time.increase(Number(await s.escrow.SIGN_WINDOW()));
    await expect(s.escrow.connect(s.br).proveClaim(DE, BR, s.period, tampered)).to.be.revertedWithCustomError(
      s.escrow,
      "SettlementEscrowInvalidProof",
    );
    expect(await escrowInvoiceStatus(s.brClient, { payer: DE, payee: BR, period: s.period })).to.equal("claimed");
  });

  it("builds no proof for an invoice that is not the one proposed, nor for totals the payee did not commit to", async function () {
    const s = await claimed();
    const [first, ...rest] = s.brBillsDe.batches;
    const inflated = {
      ...s.brBillsDe,
      batches: [{ ...first, totals: first.totals.map((t) => ({ ...t, dataBytes: t.dataBytes + 1_000_000_000n })) }, ...rest],
    };
    await expect(buildClaimProof(s.brClient, { key: s.key, usage: inflated, terms: s.terms, kit })).to.be.rejectedWith(
      MismatchError,
      /totalsCommitment/,
    );
  });

  it("refuses a proving key the governors did not approve", async function () {
    const s = await loadFixture(setup);
    const forged = { ...kit, vkey: { ...kit.vkey, vk_delta_2: kit.vkey.vk_gamma_2 } };
    await expect(requireTrustedKey(s.brClient, forged)).to.be.rejectedWith(MismatchError, /verificationKeyHash/);
  });
});
