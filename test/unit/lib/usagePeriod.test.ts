import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { ingestWorld, ingestUsage, type IngestWorld } from "../../helpers/ingest";
import { PLMN } from "../../helpers/fixtures";
import { verifyBatch, verifyBatches, fetchBatchSummary, type VerifyOptions } from "../../../lib/usage/verify";
import { openPayload, sealPayload, type Payload } from "../../../lib/usage/payload";
import { batchTotalsCommitment } from "../../../lib/crypto/commitment";
import { ledgerDomain, signBatch, toContractBatch, batchId, type UsageBatchHeader } from "../../../lib/usage/batch";
import { closePeriod, countedPeriod, expireBatches } from "../../../lib/usage/period";
import { bytes32ToRecordId, RECORD_BYTES, unpackRecord } from "../../../lib/usage/leaf";
import { ConfigError } from "../../../lib/core/errors";
import type { Hex } from "../../../lib/util/hex";
import { connectRoamLedger, type RoamLedgerClient } from "../../../lib/chain/client";

const Status = { Submitted: 1n, Accepted: 2n, Rejected: 3n, Expired: 4n };

async function world(): Promise<IngestWorld> {
  return ingestWorld({ devices: 60 });
}

function asHome(w: IngestWorld, over: Partial<VerifyOptions> = {}) {
  return { client: w.de, self: PLMN.DE, pairKeyFor: async () => w.pairKey, store: w.store, imsiKey: w.deImsiKey, ...over };
}

/** The error a promise fails with (fails the test when it does not). */
function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => expect.fail("no error"),
    (e: unknown) => e,
  );
}

/** BR signs and submits a header for `payload` as it is (its totals committed under `commitTotals`). */
async function submitForged(
  w: IngestWorld,
  of: { header: UsageBatchHeader; payload: Payload; commitTotals: Payload["header"]["totals"] },
): Promise<Hex> {
  const sealed = sealPayload(w.pairKey, of.payload);
  const header: UsageBatchHeader = {
    ...of.header,
    payloadHash: await w.store.put(sealed),
    totalsCommitment: batchTotalsCommitment({
      recordCount: of.payload.header.recordCount,
      totals: of.commitTotals,
      salt: of.payload.header.totalsSalt,
    }),
  };
  const domain = ledgerDomain(w.chainId, await w.c.ledger.getAddress());
  await w.c.ledger.connect(w.c.br).submitBatch(toContractBatch(header), await signBatch(w.c.br, domain, header));
  return batchId(header);
}

/** What an ingest that was refused must have left: no batch on chain, no journal, no local state. */
async function expectNothingCommitted(w: IngestWorld): Promise<void> {
  const workDir = w.ingestOptions().workDir;
  expect(await w.c.ledger.queryFilter(w.c.ledger.filters.UsageBatchSubmitted(), 0)).to.deep.equal([]);
  const runs = path.join(workDir, "runs");
  expect(fs.existsSync(runs) ? fs.readdirSync(runs) : []).to.deep.equal([]);
  expect(fs.existsSync(path.join(workDir, "state.json"))).to.equal(false);
  expect(fs.existsSync(workDir) ? fs.readdirSync(workDir).filter((f) => f.includes("pending")) : []).to.deep.equal([]);
}

describe("lib/usage: verify, expire and close on UsageLedger v2", function () {
  it("rejects a batch whose payload does not open its totals commitment, or whose committed totals are not its records'", async function () {
    const w = (await loadFixture(world)).freshLocal();
    const [b] = (await ingestUsage(w.ingestOptions())).batches;
    const { batch } = await fetchBatchSummary(w.de, b.id);
    const payload = openPayload(w.pairKey, await w.store.get(batch.payloadHash), batch);
    const inflated = payload.header.totals.map((t, i) => (i === 0 ? { ...t, dataBytes: t.dataBytes + 1_000_000n } : t));
    const tampered: Payload = { ...payload, header: { ...payload.header, totals: inflated } };

    // The payload's totals were changed after the header committed the real ones.
    const opened = await submitForged(w, { header: batch, payload: tampered, commitTotals: payload.header.totals });
    const notOpening = await verifyBatch({ ...asHome(w), batchId: opened });
    expect(notOpening).to.include({ payload: "COMMITMENT_MISMATCH", action: "rejected" });
    expect(notOpening.problems[0]).to.match(/^totalsCommitment does not match/);
    // The header committed the inflated totals too: they open, but the records do not add up to them.
    const committed = await submitForged(w, { header: batch, payload: tampered, commitTotals: inflated });
    const wrongSums = await verifyBatch({ ...asHome(w), batchId: committed });
    expect(wrongSums).to.include({ payload: "TOTALS_MISMATCH", action: "rejected" });
    expect(wrongSums.problems.join("\n")).to.match(/dataBytes claimed/);
    for (const id of [opened, committed]) expect((await w.c.ledger.getBatch(id)).status).to.equal(Status.Rejected);
    // The honest batch still verifies.
    expect(await verifyBatch({ ...asHome(w), batchId: b.id })).to.include({ payload: "ok", action: "accepted" });
  });

  it("decides many batches together: accepts in one acceptBatches, rejects by reason", async function () {
    const w = (await loadFixture(world)).freshLocal();
    const batches = (await ingestUsage(w.ingestOptions({ batchSize: 300 }))).batches;
    expect(batches.length).to.be.greaterThan(3);
    const missing = batches[1];
    fs.rmSync(path.join(w.store.dir, `${missing.payloadHash.slice(2)}.bin`));
    const reports = await verifyBatches({ ...asHome(w, { rejectMissing: true }), batchIds: batches.map((b) => b.id) });
    expect(reports.map((r) => r.action)).to.deep.equal(batches.map((b) => (b === missing ? "rejected" : "accepted")));
    const accepted = reports.filter((r) => r.action === "accepted");
    expect(new Set(accepted.map((r) => r.txHashes[0])).size).to.equal(1);
    expect((await w.c.ledger.getBatch(missing.id)).status).to.equal(Status.Rejected);
    const rejected = await w.c.ledger.queryFilter(w.c.ledger.filters.UsageBatchRejected(missing.id), 0);
    expect(rejected.map((e) => Number(e.args.reason))).to.deep.equal([4]);
  });

  it("refuses a file for a period past its submission deadline before sealing anything, and says what becomes of late usage", async function () {
    const w = (await loadFixture(world)).freshLocal();
    await time.increaseTo(await w.c.ledger.submissionDeadline(w.period));
    const block = await w.c.ledger.runner!.provider!.getBlockNumber();
    const error = await failure(ingestUsage(w.ingestOptions()));
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as ConfigError).shortMessage).to.match(/takes no more batches: its submission deadline .* has passed/);
    expect((error as ConfigError).hint).to.match(
      /the period is over for billing: usage it did not take before its submission deadline is not billed/,
    );
    expect(await w.c.ledger.runner!.provider!.getBlockNumber()).to.equal(block);
    await expectNothingCommitted(w);
  });

  it("refuses a file that needs more batches than the period has left, after reading it and before its journal: the same file ingests cleanly after", async function () {
    const w = (await loadFixture(world)).freshLocal();
    // A ledger that reports a cap of 2 batches: the file makes more.
    const ledger = new Proxy(w.br.ledger, {
      get(target, prop, receiver) {
        if (prop === "MAX_BATCHES_PER_PERIOD") return async () => 2n;
        const value = Reflect.get(target, prop, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const client: RoamLedgerClient = { ...w.br, ledger };
    const error = await failure(ingestUsage(w.ingestOptions({ batchSize: 300, client })));
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as ConfigError).shortMessage).to.match(/has 0 of its 2 batches; this file needs \d+ more/);
    await expectNothingCommitted(w);
    const summary = await ingestUsage(w.ingestOptions({ batchSize: 300 }));
    expect(summary.batches.every((b) => b.submitted === "new")).to.equal(true);
  });

  it("expires the batches past their windows in chunks, closes the period only when it can, and refuses a file for it after", async function () {
    const w = (await loadFixture(world)).freshLocal();
    const key = { home: PLMN.DE, visited: PLMN.BR, period: w.period };
    const batches = (await ingestUsage(w.ingestOptions({ batchSize: 300 }))).batches;
    await verifyBatch({ ...asHome(w), batchId: batches[0].id });

    const early = await failure(closePeriod(w.br, key));
    expect((early as ConfigError).shortMessage).to.match(/cannot close before its submission deadline/);
    const nothingYet = await expireBatches(w.br, key);
    expect(nothingYet).to.deep.include({ expired: [], stillPending: batches.length - 1 });

    await time.increaseTo(await w.c.ledger.submissionDeadline(w.period));
    const pending = await failure(closePeriod(w.br, key));
    expect((pending as ConfigError).shortMessage).to.match(new RegExp(`${batches.length - 1} batch\\(es\\) are still pending`));
    expect((pending as ConfigError).next?.operation).to.equal("usage:expire");

    const { windowEnd } = await w.c.ledger.getBatch(batches.at(-1)!.id);
    if ((await time.latest()) < Number(windowEnd)) await time.increaseTo(windowEnd);
    // Anyone may expire: an account of no member does.
    const expired = await expireBatches(connectRoamLedger(w.c.addresses, w.c.outsider), key);
    expect([...expired.expired].sort()).to.deep.equal(
      batches
        .slice(1)
        .map((b) => b.id)
        .sort(),
    );
    expect(expired.stillPending).to.equal(0);
    for (const b of batches.slice(1)) expect((await w.c.ledger.getBatch(b.id)).status).to.equal(Status.Expired);

    const closed = await closePeriod(w.br, key);
    expect(closed).to.include({ alreadyClosed: false, countedBatches: batches.length, rejectedBatches: 0 });
    const counted = await countedPeriod(w.de, { ...key, store: w.store, pairKey: w.pairKey });
    expect(counted.closed).to.equal(true);
    expect(counted.accumulator).to.equal(closed.accumulator);
    expect(counted.batches.reduce((s, b) => s + b.recordCount, 0)).to.equal(batches.reduce((s, b) => s + b.records, 0));
    expect(await closePeriod(w.br, key)).to.include({ alreadyClosed: true, accumulator: closed.accumulator });

    const late = await failure(ingestUsage(w.freshLocal().ingestOptions()));
    expect((late as ConfigError).shortMessage).to.match(/is closed: it takes no more batches/);
  });

  it("prints the gas of the flow: submit, a dispute by index, accept and reject in one transaction each, expire, close", async function () {
    const w = (await loadFixture(world)).freshLocal();
    const key = { home: PLMN.DE, visited: PLMN.BR, period: w.period };
    const batches = (await ingestUsage(w.ingestOptions({ batchSize: 300 }))).batches;
    const gasOf = async (hash: string) => (await w.c.ledger.runner!.provider!.getTransactionReceipt(hash))!.gasUsed;
    const figures: Record<string, bigint> = {};
    figures[`submitBatch (${batches[0].records} records)`] = BigInt(batches[0].gasUsed!);
    // One record of the first batch disputed (DE's own records lack it), the batch accepted with the next two.
    const lines = fs.readFileSync(w.generated.usageFile, "utf8").split("\n");
    const { batch } = await fetchBatchSummary(w.de, batches[0].id);
    const first = openPayload(w.pairKey, await w.store.get(batch.payloadHash), batch);
    const billable = Array.from({ length: first.header.recordCount }, (_, i) => unpackRecord(first.records, i * RECORD_BYTES)).find(
      (r) => r.billing === 0,
    )!;
    const firstId = bytes32ToRecordId(billable.recordId);
    const own = path.join(w.dir, "own.csv");
    fs.writeFileSync(own, lines.filter((l) => !l.startsWith(`${firstId},`)).join("\n"));
    const decided = await verifyBatches({ ...asHome(w, { ownFile: own }), batchIds: batches.slice(0, 3).map((b) => b.id) });
    expect(decided[0].disputed.map((d) => d.recordId)).to.include(firstId);
    figures[`disputeRecords, ${decided[0].disputed.length} record(s) at depth ${batch.treeDepth}`] = await gasOf(decided[0].txHashes[0]);
    figures["acceptBatches, 3 batches"] = await gasOf(decided[1].txHashes[0]);
    fs.rmSync(path.join(w.store.dir, `${batches[3].payloadHash.slice(2)}.bin`));
    const [rejected] = await verifyBatches({ ...asHome(w, { rejectMissing: true }), batchIds: [batches[3].id] });
    figures["rejectBatches, 1 batch"] = await gasOf(rejected.txHashes[0]);
    await time.increaseTo(await w.c.ledger.submissionDeadline(w.period));
    const expired = await expireBatches(w.br, key);
    figures[`expireBatches, ${expired.expired.length} batches`] = await gasOf(expired.txHashes[0]);
    const closed = await closePeriod(w.br, key);
    figures[`closePeriod, ${closed.countedBatches} counted batches`] = await gasOf(closed.txHash!);
    for (const [what, gas] of Object.entries(figures)) {
      console.log(`      ${what}: ${gas} gas`);
      expect(gas, what).to.be.below(16_777_216n);
    }
  });
});
