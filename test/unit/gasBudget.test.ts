/**
 * The gas per item behind the commands' batch sizes (lib/chain/gasBudget.ts), measured again: a batch of a
 * few items and one of many give the fixed cost and the cost per item; each must be at most what the
 * module says, so that the batch sizes derived from it still fit 3/4 of EIP-7825's cap.
 */
import hre from "hardhat";
import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { agreeDeBr, type Consortium, deployConsortium, deviceId, localId, meterPolicy, PLMN } from "../helpers/fixtures";
import { checkBatchSize, GAS_BUDGET, itemsPerTx, itemsUnderCap, MEASURED_GAS, TX_GAS_CAP, type BatchGas } from "../../lib/chain/gasBudget";
import { DEFAULT_REGISTER_BATCH } from "../../lib/devices/registration";
import { FLAGS_PER_TX } from "../../lib/usage/ingest";
import { MAX_BATCH_SIZE } from "../../lib/usage/ingest/types";
import { treeDepth } from "../../lib/usage/merkle";
import { DISPUTES_PER_TX } from "../../lib/usage/verify";
import { batchId, ledgerDomain, signBatch, toContractBatch, type UsageBatchHeader } from "../../lib/usage/batch";
import type { Hex } from "../../lib/util/hex";
import { periodOf } from "../helpers/usage";

async function world() {
  const c = await deployConsortium();
  await agreeDeBr(c);
  await c.devices.connect(c.de).definePolicy(meterPolicy(PLMN.DE));
  await c.devices
    .connect(c.de)
    .definePolicy(meterPolicy(PLMN.DE, { services: 0b111, missionCritical: true, allowedNetworks: [PLMN.BR, PLMN.US] }));
  return c;
}

const registration = (i: number) => ({
  localId: localId(i),
  deviceClass: i % 4,
  maker: i % 2 ? PLMN.MAKER : "0x000000",
  policyId: 1 + (i % 2),
});
const range = (from: number, n: number) => Array.from({ length: n }, (_, k) => from + k);

/** The deepest tree a batch may have: 2^24 leaf positions (lib/usage/merkle), a proof of 24 siblings (~1 KB). */
const DEPTH = 24;

/**
 * A tree of depth DEPTH holding a leaf at each of `positions` and zero padding elsewhere, built sparsely
 * (level by level, only the nodes above a leaf): its root and each leaf's proof, as the ledger checks them.
 */
function sparseTree(positions: number[]) {
  const zero: string[] = [hre.ethers.ZeroHash];
  const levels: Map<number, string>[] = [new Map(positions.map((i) => [i, hre.ethers.id(`leaf ${i}`)]))];
  const hash = (left: string, right: string) => hre.ethers.keccak256(hre.ethers.concat([left, right]));
  for (let l = 0; l < DEPTH; l++) {
    const next = new Map<number, string>();
    for (const i of levels[l].keys()) {
      const p = i >> 1;
      if (!next.has(p)) next.set(p, hash(levels[l].get(2 * p) ?? zero[l], levels[l].get(2 * p + 1) ?? zero[l]));
    }
    levels.push(next);
    zero.push(hash(zero[l], zero[l]));
  }
  const proof = (i: number) => Array.from({ length: DEPTH }, (_, l) => levels[l].get((i >> l) ^ 1) ?? zero[l]);
  const dispute = (i: number) => ({ leafIndex: i, leaf: levels[0].get(i)!, proof: proof(i), reason: 1 });
  return { root: levels[DEPTH].get(0)! as Hex, dispute };
}

/** BR submits a usage batch header for DE in the current period (`k` tells headers apart): its id and gas. */
async function submitHeader(c: Consortium, k: number, merkleRoot: Hex, treeDepth: number) {
  const domain = ledgerDomain((await hre.ethers.provider.getNetwork()).chainId, await c.ledger.getAddress());
  const header: UsageBatchHeader = {
    visited: PLMN.BR,
    home: PLMN.DE,
    period: periodOf(await time.latest()),
    merkleRoot,
    treeDepth,
    payloadHash: hre.ethers.id(`payload ${k}`) as Hex,
    totalsCommitment: hre.ethers.id(`totals ${k}`) as Hex,
  };
  const tx = await c.ledger.connect(c.br).submitBatch(toContractBatch(header), await signBatch(c.br, domain, header));
  return { id: batchId(header), gasUsed: (await tx.wait())!.gasUsed };
}

/** fixed and per-item gas from two batch sizes; checked against the module's figures. */
function fit(name: string, small: [number, bigint], large: [number, bigint], written: BatchGas): void {
  const perItem = (large[1] - small[1]) / BigInt(large[0] - small[0]);
  const fixed = small[1] - perItem * BigInt(small[0]);
  console.log(
    `      ${name}: ${fixed.toLocaleString("en-US")} + ${perItem.toLocaleString("en-US")} per item (module: ${written.fixed} + ${written.perItem})`,
  );
  expect(perItem, `${name} per item`).to.be.at.most(written.perItem);
  expect(fixed, `${name} fixed`).to.be.at.most(written.fixed);
}

describe("lib/chain/gasBudget: batch sizes from measured gas per item", function () {
  before(function () {
    if (process.env.SOLIDITY_COVERAGE) this.skip(); // instrumented bytecode costs more
  });

  it("derives items per transaction from the budget (3/4 of the cap), at most the contract's limit", function () {
    expect(GAS_BUDGET).to.equal(12_582_912n);
    expect(itemsPerTx({ fixed: 0n, perItem: 1_000_000n, measured: "" }, 100)).to.equal(12);
    expect(itemsPerTx({ fixed: 0n, perItem: 1_000n, measured: "" }, 100)).to.equal(100);
    expect(itemsPerTx({ fixed: 0n, perItem: 20_000_000n, measured: "" }, 100)).to.equal(1);
    for (const [size, gas] of [
      [DEFAULT_REGISTER_BATCH, MEASURED_GAS.registerDevice],
      [FLAGS_PER_TX, MEASURED_GAS.flagFraud],
      [DISPUTES_PER_TX, MEASURED_GAS.disputeRecord],
    ] as const) {
      expect(gas.fixed + gas.perItem * BigInt(size)).to.be.at.most(GAS_BUDGET);
    }
  });

  it("refuses a batch size over the contract's limit or over the cap at the measured gas, naming the largest", function () {
    const limit = { param: "batchSize", gas: MEASURED_GAS.registerDevice, contract: "the registry", unit: "devices" };
    expect(itemsUnderCap(MEASURED_GAS.registerDevice)).to.equal(208); // (16,777,216 - 120,000) / 80,000
    // The registry's 170 binds before the cap: refused as the contract's limit.
    expect(() => checkBatchSize(170, { ...limit, contractMax: 170 })).to.not.throw();
    expect(() => checkBatchSize(171, { ...limit, contractMax: 170 })).to.throw(
      /from 1 to 170, found 171: the registry takes at most 170 devices/,
    );
    // A registry that took 1,000: the cap binds at 208, and the error says why.
    expect(() => checkBatchSize(208, { ...limit, contractMax: 1_000 })).to.not.throw();
    expect(() => checkBatchSize(209, { ...limit, contractMax: 1_000 })).to.throw(
      /from 1 to 208, found 209: at about 80,000 gas each .* over 16,777,216 gas, the most one transaction may use on a network at Osaka \(EIP-7825\)/,
    );
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => checkBatchSize(bad, { ...limit, contractMax: 170 })).to.throw(/from 1 to 170/);
  });

  it("device registration: measured per device, and a default batch under the budget", async function () {
    const c = await loadFixture(world);
    const gasOf = async (ids: number[]) => (await (await c.devices.connect(c.de).registerDevices(ids.map(registration))).wait())!.gasUsed;
    const small = await gasOf(range(1, 20));
    const large = await gasOf(range(1_000, 120));
    fit("registerDevices", [20, small], [120, large], MEASURED_GAS.registerDevice);
    const full = await gasOf(range(10_000, DEFAULT_REGISTER_BATCH));
    console.log(`      registerDevices x ${DEFAULT_REGISTER_BATCH} (the default): ${full.toLocaleString("en-US")} gas`);
    expect(full).to.be.at.most(GAS_BUDGET);
    expect(full).to.be.lessThan(TX_GAS_CAP);
  });

  it("fraud flags: measured per flag, and a full FLAGS_PER_TX under the budget", async function () {
    const c = await loadFixture(world);
    const n = FLAGS_PER_TX;
    for (let k = 0; k < 20 + 100 + n; k += 150) {
      await c.devices.connect(c.de).registerDevices(range(k, Math.min(150, 20 + 100 + n - k)).map(registration));
    }
    const flags = (ids: number[]) =>
      c.br.sendTransaction({
        to: c.devices.target,
        data: c.devices.interface.encodeFunctionData("flagFraud", [
          ids.map((i) => ({ id: deviceId(i), reason: 1, evidenceHash: hre.ethers.id(`e${i}`) })),
        ]),
      });
    const gasOf = async (ids: number[]) => (await (await flags(ids)).wait())!.gasUsed;
    const small = await gasOf(range(0, 20));
    const large = await gasOf(range(20, 100));
    fit("flagFraud", [20, small], [100, large], MEASURED_GAS.flagFraud);
    // The next UTC day for the full batch: the registry takes FLAGS_PER_TX per reporter and day.
    await time.increase(86_400);
    const full = await gasOf(range(120, n));
    console.log(`      flagFraud x ${n} (FLAGS_PER_TX): ${full.toLocaleString("en-US")} gas`);
    expect(full).to.be.at.most(GAS_BUDGET);
  });

  it("record disputes at depth 24: measured per record, and a full DISPUTES_PER_TX under the budget", async function () {
    const c = await loadFixture(world);
    const n = DISPUTES_PER_TX;
    // Spread over the tree (every 65,537th position of 2^24): 1 record, then n.
    const positions = range(0, 1 + n).map((k) => (k * 65_537) % 2 ** DEPTH);
    const tree = sparseTree(positions);
    // A batch per measurement, so that each pays a batch's first dispute (its index list, its count).
    const batch = async (k: number) => (await submitHeader(c, k, tree.root, DEPTH)).id;
    const gasOf = async (k: number, at: number[]) =>
      (await (await c.ledger.connect(c.de).disputeRecords(await batch(k), at.map(tree.dispute))).wait())!.gasUsed;
    const one = await gasOf(1, positions.slice(0, 1));
    const full = await gasOf(2, positions.slice(1));
    console.log(`      disputeRecords x ${n} (DISPUTES_PER_TX) at depth ${DEPTH}: ${full.toLocaleString("en-US")} gas`);
    fit("disputeRecords", [1, one], [n, full], MEASURED_GAS.disputeRecord);
    expect(full).to.be.at.most(GAS_BUDGET);
  });

  it("usage:ingest --batch-size and usage:stream --batch-records: a batch's records do not enter its transaction", async function () {
    // A batch goes on chain as its header (root, depth, hashes): 1 record and MAX_BATCH_SIZE records cost
    // the same, so these flags need no gas bound (lib/usage/ingest/submit.ts sends nothing else per batch).
    const c = await loadFixture(world);
    await submitHeader(c, 0, hre.ethers.id("root 0") as Hex, 10); // the period's first batch opens its record
    const one = await submitHeader(c, 1, hre.ethers.id("root 1") as Hex, treeDepth(1));
    const most = await submitHeader(c, 2, hre.ethers.id("root 2") as Hex, treeDepth(MAX_BATCH_SIZE));
    console.log(
      `      submitBatch: ${one.gasUsed.toLocaleString("en-US")} gas (1 record), ${most.gasUsed.toLocaleString("en-US")} (${MAX_BATCH_SIZE.toLocaleString("en-US")} records)`,
    );
    const diff = one.gasUsed > most.gasUsed ? one.gasUsed - most.gasUsed : most.gasUsed - one.gasUsed;
    expect(diff, "the depth is one byte of calldata").to.be.at.most(100n);
    expect(most.gasUsed).to.be.below(GAS_BUDGET / 10n);
  });
});
