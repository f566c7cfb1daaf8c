/**
 * The invoice and report tasks on the v2 contracts, each carrier with its own key store and payloads
 * (test/helpers/invoiceParty.ts): propose, status, co-sign (and a refusal with the differences), claim,
 * a claim decided by proof (escrow:claim, zk:verifier:*), reveal behind its flag, the invoice's renderings and the report as a party
 * and as a third member.
 */
import fs from "node:fs";
import path from "node:path";
import hre from "hardhat";
import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { PLMN } from "../../helpers/fixtures";
import { FROM, captured, useDeploymentForTasks } from "../../helpers/tasks";
import { BR_BILLING as billing, pdfPagesText, usageOfBatches } from "../../helpers/invoice";
import { partyWorld, type PartyWorld } from "../../helpers/invoiceParty";
import { draftInvoice } from "../../../lib/invoice/draft";
import { CSV_COLUMNS } from "../../../lib/invoice/render";
import { parseReferenceRate, referenceAmount } from "../../../lib/invoice/billingModel";
import { proposeInvoice } from "../../../lib/settlement/invoices";
import { formatPeriod } from "../../../lib/core/period";
import { ensureDevCeremony } from "../../../lib/zk/ceremony";
import { verifierConstructorArgs } from "../../../lib/zk/prover";
import type { PeriodUsage } from "../../../lib/invoice/usage";

const { DE, BR } = PLMN;

/** `usage` with the first class of the first batch carrying 1,000 more SMS: an over-billing payee's. */
function inflated(usage: PeriodUsage): PeriodUsage {
  const [first, ...rest] = usage.batches;
  const totals = first.totals.map((t, i) => (i === 0 ? { ...t, smsCount: t.smsCount + 1_000n } : t));
  return { ...usage, batches: [{ ...first, totals }, ...rest] };
}

describe("tasks: invoice (v2) and report", function () {
  this.timeout(300_000);
  let env: Awaited<ReturnType<typeof useDeploymentForTasks>>;
  let w: PartyWorld;
  let P: string;

  beforeEach(async function () {
    w = await loadFixture(partyWorld);
    env = await useDeploymentForTasks(w);
    P = formatPeriod(w.period);
  });
  afterEach(() => env.cleanup());

  /** The local copies of `who`: its key store and the payload store. */
  const local = (who: "de" | "br") => ({ keystore: w.keys[who].root, store: path.join(w.dir, "store") });

  /** BR's invoice to DE as the tests rate it. */
  const expectedNet = async () =>
    draftInvoice({ key: w.key, usage: await usageOfBatches(w, DE, BR, w.brBatches), terms: w.terms }).invoice.net;

  it("propose, status, co-sign: the invoice closes at the net both rated; JSON, CSV and PDF print it with its transactions", async function () {
    const net = await expectedNet();
    const proposed = await captured(() => hre.run("invoice:propose", { partner: "262-01", period: P, ...local("br"), from: FROM.br }));
    expect(proposed).to.match(new RegExp(`^Proposed the invoice of 262-01 for ${P}: net [0-9.,]+ RLST \\(tx 0x[0-9a-f]{64}\\)\\.`));
    expect(proposed).to.contain("262-01 co-signs it (invoice:cosign)");
    const status = await captured(() => hre.run("invoice:status", { payer: "262-01", payee: "724-05", period: P, from: FROM.us }));
    expect(status).to.contain(`Invoice of 262-01 to 724-05 for ${P}: proposed`);
    expect(status).to.contain("the payer's sign window ends");

    const cosigned = await captured(() => hre.run("invoice:cosign", { partner: "724-05", period: P, ...local("de"), from: FROM.de }));
    expect(cosigned).to.match(/^Co-signed the invoice of 724-05 for .*: [0-9.,]+ RLST reserved on your deposit/);
    expect((await w.escrow.invoice(DE, BR, w.period)).amount).to.equal(net);

    const file = path.join(env.dir, "invoice.json");
    await hre.run("invoice", { partner: "262-01", period: P, format: "json", out: file, ...local("br"), from: FROM.br });
    const json = JSON.parse(fs.readFileSync(file, "utf8"));
    expect([json.status.state, json.status.resolution, json.net.units, json.status.escrowAmount.units]).to.deep.equal([
      "closed",
      "co-signed",
      String(net),
      String(net),
    ]);
    expect(json.verification.agreesWithEscrow).to.equal(true);
    const csv = await captured(() => hre.run("invoice", { partner: "262-01", period: P, format: "csv", ...local("br"), from: FROM.br }));
    expect(csv.split("\n")[0]).to.equal(CSV_COLUMNS.join(","));
    expect(csv).to.match(new RegExp(`^summary,,net,.*,${net},$`, "m")); // referenceAmount empty without --rate
    const pdfFile = path.join(env.dir, "paid.pdf");
    await hre.run("invoice", { partner: "724-05", period: P, format: "pdf", out: pdfFile, as: "payer", ...local("de"), from: FROM.de });
    const text = pdfPagesText(fs.readFileSync(pdfFile));
    expect(text).to.contain("Copy of the payer (home carrier)");
    expect(text).to.contain(json.net.text);
    expect(text).to.contain(json.status.closeTx);
  });

  it("invoice: billing details from billing.json in the key store folder, --billing or ROAMLEDGER_BILLING; --rate; what is missing", async function () {
    await hre.run("invoice:propose", { partner: "262-01", period: P, ...local("br"), from: FROM.br });
    // Without a billing file: the statement as before, and a note on stderr naming what is missing.
    const notes: string[] = [];
    const error = console.error;
    console.error = (...args: unknown[]) => void notes.push(args.map(String).join(" "));
    const quiet = process.env.ROAMLEDGER_QUIET;
    process.env.ROAMLEDGER_QUIET = "0";
    try {
      await captured(() => hre.run("invoice", { partner: "262-01", period: P, format: "json", ...local("br"), from: FROM.br }));
    } finally {
      console.error = error;
      if (quiet === undefined) delete process.env.ROAMLEDGER_QUIET;
      else process.env.ROAMLEDGER_QUIET = quiet;
    }
    expect(notes.join("\n")).to.match(/lacks 13 billing detail\(s\)[\s\S]*seller tax id \(self\.taxId\)[\s\S]*docs\/invoices\.md/);

    // billing.json in the key store folder the task resolves (--keystore here; $ROAMLEDGER_HOME or a profile's otherwise).
    fs.writeFileSync(path.join(w.keys.br.root, "billing.json"), JSON.stringify(billing));
    const pdfFile = path.join(env.dir, "billed.pdf");
    const args = { partner: "262-01", period: P, ...local("br"), from: FROM.br };
    await hre.run("invoice", { ...args, out: pdfFile, rate: "EUR=1.0825" });
    const text = pdfPagesText(fs.readFileSync(pdfFile));
    for (const expected of [
      "Telekom Deutschland GmbH",
      "53227 Bonn",
      "Tax id DE122265872",
      "TADIG DEUD1",
      "TADIG BRAV2",
      "Reverse charge",
      "roaming-disputes@vivo.example",
      "(30 days net)",
      "EUR",
    ]) {
      expect(text, expected).to.contain(expected);
    }
    const plain = await captured(() => hre.run("invoice", { ...args, format: "text" }));
    expect(plain)
      .to.match(/^INVOICE RL-/)
      .and.include("Bill to (home carrier, buyer): Telekom Deutschland GmbH")
      .and.include("Reverse charge");
    const json = JSON.parse(await captured(() => hre.run("invoice", { ...args, format: "json", rate: "EUR=2" })));
    expect(json.billing.missing).to.deep.equal([]);
    expect(json.billing.paymentReference).to.equal(`VIVO-${w.period}-${json.invoiceNumber.slice(-6)}`);
    expect(json.billing.reference).to.include({ currency: "EUR", rate: "2" });
    expect(json.billing.reference.net).to.equal(referenceAmount(BigInt(json.net.units), json.token.decimals, parseReferenceRate("EUR=2")));

    // --billing (and ROAMLEDGER_BILLING) name another file; a bad field is named by file and JSON path.
    const other = path.join(env.dir, "other-billing.json");
    fs.writeFileSync(other, JSON.stringify({ ...billing, self: { ...billing.self, legalName: "Vivo Other Entity Ltda." } }));
    expect(
      JSON.parse(await captured(() => hre.run("invoice", { ...args, format: "json", billing: other }))).billing.seller.legalName,
    ).to.equal("Vivo Other Entity Ltda.");
    const bad = path.join(env.dir, "bad-billing.json");
    fs.writeFileSync(bad, JSON.stringify({ self: { tax: "sometimes" } }));
    await expect(hre.run("invoice", { ...args, format: "json", billing: bad })).to.be.rejectedWith(
      /bad-billing\.json \(self\.tax\): "sometimes" is not a tax treatment/,
    );
    await expect(hre.run("invoice", { ...args, format: "json", billing: path.join(env.dir, "none.json") })).to.be.rejectedWith(
      /none\.json does not exist/,
    );
    await expect(hre.run("invoice", { ...args, format: "json", rate: "EUR=1,08" })).to.be.rejectedWith(
      /is not <currency>=<rate per token>/,
    );
  });

  it("invoice:cosign refuses a wrong proposal with the differences line by line and what to do; nothing is signed", async function () {
    await proposeInvoice(w.clients.br, { key: w.key, usage: inflated(await usageOfBatches(w, DE, BR, w.brBatches)), terms: w.terms });
    const refused = hre.run("invoice:cosign", { partner: "724-05", period: P, ...local("de"), from: FROM.de });
    await expect(refused).to.be.rejectedWith(
      /differs from ours in \d+ figure\(s\): not co-signed[\s\S]*net: proposed \d+, ours \d+[\s\S]*smsCount: proposed \d+, ours \d+[\s\S]*propose the corrected invoice/,
    );
    expect((await w.escrow.invoice(DE, BR, w.period)).status).to.equal(1n); // Proposed
  });

  it("escrow:claim: the governors trust the development verifier, the payee files the claim, then the proof; the claim closes at the net", async function () {
    this.timeout(40 * 60_000); // a fresh machine builds the development setup first (npm run zk:dev)
    const dev = await ensureDevCeremony();
    const verifier = await hre.ethers.deployContract("Groth16Verifier", [verifierConstructorArgs(dev.vkey)]);
    const address = await verifier.getAddress();
    const shown = await captured(() => hre.run("zk:verifier:show", { from: FROM.us }));
    expect(shown).to.match(/Circuit 1: no trusted verifier yet/);
    const vote = { verifier: address, transcript: dev.transcriptHash };
    const proposed = await captured(() => hre.run("zk:verifier:propose", { ...vote, from: FROM.de }));
    expect(proposed).to.match(
      /1 approval\(s\)[\s\S]*zk:verifier:approve --circuit 1 --verifier 0x[0-9a-fA-F]{40} --transcript 0x[0-9a-f]{64}/,
    );
    await expect(hre.run("zk:verifier:approve", { ...vote, transcript: "0x12", from: FROM.us })).to.be.rejectedWith(
      /is not a transcript hash/,
    );
    expect(await captured(() => hre.run("zk:verifier:approve", { ...vote, from: FROM.us }))).to.match(/quorum is reached/);
    expect(await captured(() => hre.run("zk:verifier:show", { from: FROM.outsider }))).to.include(dev.transcriptHash);

    await captured(() => hre.run("invoice:propose", { partner: "262-01", period: P, ...local("br"), from: FROM.br }));
    const checked = await captured(() =>
      hre.run("escrow:claim", { partner: "262-01", period: P, verifyOnly: true, ...local("br"), from: FROM.br }),
    );
    expect(checked).to.match(/Proof built in \d+ ms and checked locally[\s\S]*adjudicator on chain accepts it/);
    expect((await w.escrow.invoice(DE, BR, w.period)).status).to.equal(1n); // still Proposed: nothing was sent
    await time.increase(Number(await w.escrow.SIGN_WINDOW()));
    const filed = await captured(() => hre.run("escrow:claim", { partner: "262-01", period: P, ...local("br"), from: FROM.br }));
    expect(filed).to.match(/Claim filed[\s\S]*may co-sign or contest the totals by a reveal until/);
    await expect(hre.run("escrow:claim", { partner: "262-01", period: P, ...local("br"), from: FROM.br })).to.be.rejectedWith(
      /may co-sign or contest .* until/,
    );
    await time.increase(Number(await w.escrow.SIGN_WINDOW()));
    const proven = await captured(() => hre.run("escrow:claim", { partner: "262-01", period: P, ...local("br"), from: FROM.br }));
    expect(proven).to.match(/Claim proven \(tx 0x[0-9a-f]{64}, gas \d+\): the invoice is closed at/);
    const state = await w.escrow.invoice(DE, BR, w.period);
    expect([state.status, state.resolution, state.amount]).to.deep.equal([4n, 2n, await expectedNet()]);
  });

  it("claim, no proof of an inflated invoice, reveal only with --publish-pair-data: the on-chain amount is the TypeScript rating", async function () {
    const net = await expectedNet();
    await proposeInvoice(w.clients.br, { key: w.key, usage: inflated(await usageOfBatches(w, DE, BR, w.brBatches)), terms: w.terms });
    await expect(hre.run("invoice:claim", { partner: "262-01", period: P, from: FROM.br })).to.be.rejectedWith(/sign window .* runs until/);
    await time.increase(Number(await w.escrow.SIGN_WINDOW()));
    const claimed = await captured(() => hre.run("invoice:claim", { partner: "262-01", period: P, from: FROM.br }));
    expect(claimed).to.match(/^Claim filed \(tx 0x[0-9a-f]{64}\): \d+ base units reserved on 262-01, bond \d+ on 724-05\./);
    // The payee's own copies do not give the inflated invoice it proposed: no proof of it can be built.
    await expect(hre.run("escrow:claim", { partner: "262-01", period: P, ...local("br"), from: FROM.br })).to.be.rejectedWith(
      /totalsCommitment does not match[\s\S]*propose it again/,
    );
    await expect(hre.run("invoice:reveal", { partner: "724-05", period: P, ...local("de"), from: FROM.de })).to.be.rejectedWith(
      /publishes the pair's full terms[\s\S]*--publish-pair-data/,
    );
    expect((await w.escrow.invoice(DE, BR, w.period)).status).to.equal(2n); // still Claimed
    const revealed = await captured(() =>
      hre.run("invoice:reveal", { partner: "724-05", period: P, ...local("de"), publishPairData: true, from: FROM.de }),
    );
    expect(revealed).to.match(/^Revealed in 1 openBatches transaction\(s\) and finishReveal .*claim refuted/);
    expect(revealed).to.match(/\n {2}gas: openBatches \d+; finishReveal \d+ \(each under 16,777,216\)\.$/);
    console.log(`      ${revealed.split("\n")[1].trim()}`);
    const state = await w.escrow.invoice(DE, BR, w.period);
    expect(state.amount).to.equal(net);
    const json = JSON.parse(
      await captured(() =>
        hre.run("invoice", { partner: "724-05", period: P, format: "json", as: "payer", ...local("de"), from: FROM.de }),
      ),
    );
    expect([json.status.resolution, json.status.escrowAmount.units, json.net.units]).to.deep.equal(["revealed", String(net), String(net)]);
  });

  it("report: a party's own figures per class, a third member's public facts only", async function () {
    await hre.run("invoice:propose", { partner: "262-01", period: P, ...local("br"), from: FROM.br });
    await hre.run("invoice:cosign", { partner: "724-05", period: P, ...local("de"), from: FROM.de });
    const net = await expectedNet();
    const asDe = await captured(() => hre.run("report", { period: P, ...local("de"), from: FROM.de }));
    expect(asDe).to.contain(`Accounting report of Telekom Deutschland (262-01) for ${P}`);
    expect(asDe).to.match(/Vivo Brasil \(724-05\)\s+we owe\s+closed \(co-signed\)\s+[0-9.,]+\s+[0-9.,]+, = escrow\s+RLST\s+2\s+2/);
    expect(asDe).to.contain("Our figures per tariff class");
    const asUsFile = path.join(env.dir, "us.json");
    fs.mkdirSync(w.keys.us.root, { recursive: true });
    await hre.run("report", { period: P, member: "262-01", format: "json", out: asUsFile, keystore: w.keys.us.root, from: FROM.us });
    const asUs = JSON.parse(fs.readFileSync(asUsFile, "utf8"));
    const weOwe = asUs.partners[0].weOwe;
    expect([weOwe.state, weOwe.amount, weOwe.countedBatches, weOwe.detail, weOwe.detailNote]).to.deep.equal([
      "closed",
      String(net),
      2,
      undefined,
      "public facts only: the viewer is not a party",
    ]);
    const text = fs.readFileSync(asUsFile, "utf8");
    for (const figure of ["classes", "dataBytes", "subtotal"]) expect(text, figure).to.not.contain(figure);
    const csv = await captured(() => hre.run("report", { period: P, member: "262-01", format: "csv", publicOnly: true, from: FROM.de }));
    expect(csv).to.not.match(/^class,/m);
    expect(csv).to.match(/^invoice,724-05,Vivo Brasil,we-owe,closed,co-signed,/m);
  });

  it("fails on a bad period, an unknown partner, a bad format and a non-member account", async function () {
    await expect(hre.run("invoice", { partner: "262-01", period: "11-2026", from: FROM.br })).to.be.rejectedWith(
      /--period: "11-2026" is not a billing period/,
    );
    await expect(hre.run("invoice", { partner: "234-15", period: P, from: FROM.br })).to.be.rejectedWith(/234-15 is not a member/);
    await expect(hre.run("invoice", { partner: "262-01", period: P, format: "xlsx", from: FROM.br })).to.be.rejectedWith(
      /--format must be one of json, csv, pdf/,
    );
    await expect(hre.run("invoice", { partner: "262-01", period: P, from: FROM.outsider })).to.be.rejectedWith(
      /the account is no member's operator/i,
    );
    await expect(hre.run("report", { period: P, format: "pdf", from: FROM.br })).to.be.rejectedWith(
      /--format must be one of text, json, csv/,
    );
    // A reveal decides a claim: with none filed, it says so (its side comes from the claimed direction).
    await expect(
      hre.run("invoice:reveal", { partner: "724-05", period: P, ...local("de"), publishPairData: true, from: FROM.de }),
    ).to.be.rejectedWith(/no invoice of 262-01 and 724-05 for .* is claimed[\s\S]*invoice:claim/);
  });
});
