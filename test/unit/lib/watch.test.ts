/**
 * lib/watch on the v2 contracts: what each party of a pair sees of a whole period (batches, disputes by leaf
 * position, the close, the invoice proposed and co-signed, the netted settlement, a withdrawal request),
 * and what a third member sees: nothing by default, and with `observer` the same public facts, none of
 * the pair's sealed figures.
 */
import hre from "hardhat";
import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { Amount } from "../../../lib/core/amount";
import { formatPlmn } from "../../../lib/core/plmn";
import { tokenInfo } from "../../../lib/agreements/chain";
import { connectRoamLedger, type RoamLedgerClient } from "../../../lib/chain/client";
import type { PeriodUsage } from "../../../lib/invoice/usage";
import { cosignInvoice, proposeInvoice } from "../../../lib/settlement/invoices";
import { depositToEscrow, requestWithdrawal, settlePeriod } from "../../../lib/settlement/escrow";
import { fileClaim } from "../../../lib/settlement/claims";
import { watchChain, type WatchEvent } from "../../../lib/watch/watch";
import type { Hex } from "../../../lib/util/hex";
import { addressesOf, PLMN } from "../../helpers/fixtures";
import { invoiceWorld, usageOfBatches, type InvoiceWorld } from "../../helpers/invoice";

const { DE, BR, US } = PLMN;
const RLST = 1_000_000n;

interface Period extends InvoiceWorld {
  clients: Record<"de" | "br" | "us", RoamLedgerClient>;
  brBillsDe: PeriodUsage;
  nets: { deOwes: bigint; brOwes: bigint };
  startBlock: number;
}

/** A whole period between DE and BR: 2 of BR's batches (2 records disputed), invoiced both ways, settled; DE asks to withdraw. */
async function period(): Promise<Period> {
  const startBlock = (await hre.ethers.provider.getBlockNumber()) + 1;
  const w = await invoiceWorld({ brBatches: 2, records: 40, disputes: 2 });
  const addresses = await addressesOf(w);
  const clients = {
    de: connectRoamLedger(addresses, w.de),
    br: connectRoamLedger(addresses, w.br),
    us: connectRoamLedger(addresses, w.us),
  };
  const token = await tokenInfo(await w.token.getAddress(), w.de);
  for (const [who, client, member] of [
    [w.de, clients.de, DE],
    [w.br, clients.br, BR],
  ] as const) {
    await w.token.connect(w.deployer).mint(who.address, 10_000n * RLST);
    await depositToEscrow(client, { member, amount: Amount.fromUnits(token, 5_000n * RLST) });
  }
  const brBillsDe = await usageOfBatches(w, DE, BR, w.brBatches);
  const deBillsBr = await usageOfBatches(w, BR, DE, w.deBatches);
  const deOwes = (await proposeInvoice(clients.br, { key: w.key, usage: brBillsDe, terms: w.terms })).draft.rating.net;
  await cosignInvoice(clients.de, { key: w.key, usage: brBillsDe, terms: w.terms });
  const brOwes = (await proposeInvoice(clients.de, { key: w.key, usage: deBillsBr, terms: w.terms })).draft.rating.net;
  await cosignInvoice(clients.br, { key: w.key, usage: deBillsBr, terms: w.terms });
  await settlePeriod(clients.de, { self: DE, partner: BR, period: w.period });
  await requestWithdrawal(clients.de, { member: DE, amount: Amount.fromUnits(token, 100n * RLST) });
  return { ...w, clients, brBillsDe, nets: { deOwes, brOwes }, startBlock };
}

/** BR proposes its invoice of DE, DE lets the sign window pass, BR files a claim. */
async function claimedPeriod(): Promise<Period> {
  const startBlock = (await hre.ethers.provider.getBlockNumber()) + 1;
  const w = await invoiceWorld({ brBatches: 1, records: 20, disputes: 0 });
  const addresses = await addressesOf(w);
  const clients = {
    de: connectRoamLedger(addresses, w.de),
    br: connectRoamLedger(addresses, w.br),
    us: connectRoamLedger(addresses, w.us),
  };
  const token = await tokenInfo(await w.token.getAddress(), w.de);
  await w.token.connect(w.deployer).mint(w.br.address, 1_000n * RLST);
  await depositToEscrow(clients.br, { member: BR, amount: Amount.fromUnits(token, 1_000n * RLST) });
  const brBillsDe = await usageOfBatches(w, DE, BR, w.brBatches);
  const deOwes = (await proposeInvoice(clients.br, { key: w.key, usage: brBillsDe, terms: w.terms })).draft.rating.net;
  await time.increase(Number(await w.escrow.SIGN_WINDOW()));
  await fileClaim(clients.br, { payer: DE, payee: BR, period: w.period });
  return { ...w, clients, brBillsDe, nets: { deOwes, brOwes: 0n }, startBlock };
}

/** Everything `self` is shown from the period's first block to now. */
async function watched(p: Period, self: Hex, observer = false): Promise<WatchEvent[]> {
  const events: WatchEvent[] = [];
  await watchChain({
    client: p.clients.us,
    provider: hre.ethers.provider,
    self,
    observer,
    fromBlock: p.startBlock,
    once: true,
    onEvent: (e) => events.push(e),
  });
  return events;
}

const pairs = (events: readonly WatchEvent[], kind: WatchEvent["kind"]) => events.filter((e) => e.kind === kind).map((e) => e.as);

describe("watchChain (lib/watch) on v2 events", function () {
  this.timeout(300_000);

  it("shows the home carrier its partner's batches by tree depth, its disputes by leaf position, the close and its invoice", async function () {
    const p = await loadFixture(period);
    const events = await watched(p, DE);
    const billed = events.filter((e) => e.kind === "batch-submitted" && e.as === "home");
    expect(billed.map((e) => e.data.batchId)).to.deep.equal(p.brBatches.map((b) => b.id));
    for (const e of billed) {
      expect(e.data).to.include({ visited: formatPlmn(BR), home: formatPlmn(DE), period: p.period, treeDepth: 6 });
      expect(e.data).to.not.have.property("records");
      expect(e.text).to.match(/up to 64 records \(tree depth 6\)/);
    }
    const disputed = events.filter((e) => e.kind === "record-disputed");
    expect(disputed.map((e) => [e.as, e.data.leafIndex, e.data.reasonName])).to.deep.equal(
      p.brBatches[0].disputed.map((i) => ["home", i, "VOLUME_MISMATCH"]),
    );
    // The text names the reason and what it means, never a bare code ("reason 2").
    for (const e of disputed) expect(e.text).to.match(/: VOLUME_MISMATCH \(the home carrier's record of this id has another volume\)$/);
    expect(pairs(events, "batch-accepted").sort()).to.deep.equal(["home", "home", "visited"]);
    expect(pairs(events, "period-closed").sort()).to.deep.equal(["home", "visited"]);
    const proposed = events.find((e) => e.kind === "invoice-proposed" && e.as === "payer");
    expect(proposed?.data.net).to.equal(p.nets.deOwes.toString());
    const closed = events.filter((e) => e.kind === "invoice-closed");
    expect(closed.map((e) => [e.as, e.data.resolution]).sort()).to.deep.equal([
      ["payee", "co-signed"],
      ["payer", "co-signed"],
    ]);
    expect(events.filter((e) => e.kind === "settled").map((e) => [e.as, e.data.aOwedB, e.data.bOwedA])).to.have.length(1);
    expect(pairs(events, "payment")).to.deep.equal(["payer"]);
    expect(pairs(events, "withdrawal-requested")).to.deep.equal(["member"]);
  });

  it("tells the payer of a claim what to do: co-sign, or contest the totals by a reveal in the window; the payee only the claim", async function () {
    const p = await loadFixture(claimedPeriod);
    const ofDe = (await watched(p, DE)).filter((e) => e.kind === "claim-filed");
    expect(ofDe.map((e) => e.as)).to.deep.equal(["payer"]);
    expect(ofDe[0].text).to.match(/^CLAIM 724-05 claims .* from 262-01 .*What to do, within the sign window/);
    expect(ofDe[0].text).to.match(/invoice:cosign --partner 724-05 --period \d{4}-\d{2}.*invoice:reveal.*escrow:claim/);
    const ofBr = (await watched(p, BR)).filter((e) => e.kind === "claim-filed");
    expect(ofBr.map((e) => e.as)).to.deep.equal(["payee"]);
    expect(ofBr[0].text).to.not.match(/What to do/);
  });

  it("shows the visited carrier its own batches, the disputes against them and its partner's withdrawal request", async function () {
    const p = await loadFixture(period);
    const events = await watched(p, BR);
    expect(pairs(events, "batch-submitted").sort()).to.deep.equal(["home", "visited", "visited"]);
    expect(pairs(events, "record-disputed")).to.deep.equal(["visited", "visited"]);
    const withdrawal = events.find((e) => e.kind === "withdrawal-requested");
    expect(withdrawal).to.deep.include({ as: "partner" });
    expect(withdrawal?.text).to.match(/^WITHDRAWAL 262-01 asked to withdraw up to 100 RLST from its deposit, from \S+ on/);
  });

  it("shows a third member nothing of the pair, and with observer only public facts: no sealed figure of the pair", async function () {
    const p = await loadFixture(period);
    expect(await watched(p, US)).to.deep.equal([]);
    const observed = await watched(p, US, true);
    const ofDe = await watched(p, DE);
    expect(observed.map((e) => e.as)).to.satisfy((roles: string[]) => roles.every((r) => r === "observer"));
    // The same events as a party sees (the withdrawal included: deposits are public), told the same way.
    expect(observed.map((e) => [e.kind, e.text])).to.deep.equal(ofDe.map((e) => [e.kind, e.text]));
    // Whole numbers only, hex (ids, hashes, addresses) left out: a figure's digits turn up inside times and
    // hashes by chance.
    const seen = new Set(
      JSON.stringify(observed)
        .replace(/0x[0-9a-f]+/gi, "")
        .match(/\d+/g) ?? [],
    );
    const figures = p.brBillsDe.batches.flatMap((b) =>
      b.totals.flatMap((t) => [t.dataBytes, t.voiceSeconds, t.signallingEvents, t.smsCount, t.latencyMsSum]),
    );
    expect(figures.map(String).filter((f) => f.length >= 4 && seen.has(f))).to.deep.equal([]);
  });
});
