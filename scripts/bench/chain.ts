import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { keccak256, type Wallet } from "ethers";
import { connectRoamLedger, type RoamLedgerClient } from "../../lib/chain/client";
import type { RoamLedgerAddresses } from "../../lib/chain/deployment";
import { pairwiseKey } from "../../lib/crypto/pairwise";
import { ledgerDomain, signBatch, toContractBatch } from "../../lib/usage/batch";
import { FolderStore } from "../../lib/usage/store";
import type { Hex } from "../../lib/util/hex";
import { rpc, startAnvil, type LocalNode } from "../../test/helpers/node";
import { deployDeBr, devWallets } from "../../test/helpers/crash";
import type { GasFreeProvider } from "../../test/helpers/integration";
import { PLMN, simpleTerms, testEncryptionKey } from "../../test/helpers/fixtures";
import { testPrivateKey } from "../../test/helpers/ingest";
import { monthOf } from "../../test/helpers/period";
import { mined, present } from "../util";
import { buildSyntheticBatch, registerFleet } from "./gas";
import { median } from "./util";

/**
 * Chain throughput of usage batches on a separate node: anvil (test/helpers/node.ts) mining a block every
 * `blockTime` seconds like the consortium's QBFT chain, gas price and base fee 0, 500M block gas limit.
 */

export interface ChainThroughputResult {
  description: string;
  batches: number;
  recordsPerBatch: number;
  /** batches / (first send until the last receipt). */
  batchesPerSec: number;
  /** batchesPerSec * recordsPerBatch. */
  recordsPerSec: number;
  /** First send until the last receipt seen, ms. */
  elapsedMs: number;
  /** First send until the node accepted every transaction, ms. */
  sendMs: number;
  /** Blocks that hold the batches, and the most batches one of them holds. */
  blocksUsed: number;
  maxBatchesPerBlock: number;
  /** The node's configured block interval, s, and the mean interval of its blocks during the run. */
  blockTimeSec: number;
  observedBlockIntervalSec: number;
  /** Median gasUsed of one batch, the block gas limit, and how many batches of that gas one block holds. */
  gasPerBatch: number;
  blockGasLimit: number;
  batchesPerBlockByGas: number;
  /** Building, signing and pre-signing the transactions of all batches, ms (not part of elapsedMs). */
  prepareMs: number;
}

interface AnvilWorld {
  addresses: RoamLedgerAddresses;
  de: RoamLedgerClient;
  br: RoamLedgerClient;
  brWallet: Wallet;
}

/** RoamLedger on the node as deployRunWorld (test/helpers/crash.ts) deploys it: DE and BR, their agreement. */
async function deployOnNode(wallets: ReturnType<typeof devWallets>["wallets"], periodStart: number): Promise<AnvilWorld> {
  const [deployer, de, br] = wallets;
  const keys = { de: testEncryptionKey(1), br: testEncryptionKey(3), dePrivateKey: testPrivateKey(1) };
  const { addresses } = await deployDeBr({ deployer, de, br }, keys, (token) =>
    simpleTerms({ a: PLMN.DE, b: PLMN.BR, from: periodStart, token }),
  );
  return {
    addresses,
    de: connectRoamLedger(addresses, de),
    br: connectRoamLedger(addresses, br),
    brWallet: br.signer as Wallet,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Transactions per JSON-RPC batch request. */
const SEND_CHUNK = 100;

/** One JSON-RPC batch request: `method` with each of `params`; the results in order, or the first error. */
async function rpcBatch<T>(url: string, method: string, params: unknown[][]): Promise<T[]> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(params.map((p, id) => ({ jsonrpc: "2.0", id, method, params: p }))),
  });
  const body = (await response.json()) as { id: number; result?: T; error?: { message: string } }[];
  if (!Array.isArray(body))
    throw new Error(`${method}: the node did not answer the batch request with a batch: ${JSON.stringify(body).slice(0, 300)}`);
  const results: T[] = new Array(params.length);
  for (const answer of body) {
    if (answer.error) throw new Error(`${method} #${answer.id}: ${answer.error.message}`);
    results[answer.id] = answer.result as T;
  }
  return results;
}

/** The world one measurement runs in: RoamLedger on anvil, a registered DE fleet, BR's pair key and domain. */
interface ChainBench {
  node: LocalNode;
  provider: GasFreeProvider;
  w: AnvilWorld;
  /** BR's batch of `recordsPerBatch` records tagged `tag`, in the current month. */
  build: (tag: string) => ReturnType<typeof buildSyntheticBatch>;
  domain: ReturnType<typeof ledgerDomain>;
  period: number;
}

/** The latest block, which a node always has. */
async function latestBlock(provider: GasFreeProvider) {
  return present(await provider.getBlock("latest"), "the latest block");
}

/** Deploys RoamLedger on the node (automatic mining), registers `devices` DE devices and readies BR's batches. */
async function setUp(
  node: LocalNode,
  provider: GasFreeProvider,
  wallets: ReturnType<typeof devWallets>["wallets"],
  o: ChainOptions,
): Promise<ChainBench> {
  const month = monthOf((await latestBlock(provider)).timestamp);
  const w = await deployOnNode(wallets, month.start);
  const fleet = await registerFleet(w.de, { home: PLMN.DE, count: o.devices, dir: o.dir });
  o.log(`anvil ${node.url}: RoamLedger deployed, ${fleet.devices.length} devices registered, period ${month.period}`);
  const pairKey = pairwiseKey({
    myPrivateKey: testPrivateKey(3),
    theirPublicKey: testEncryptionKey(1) as Hex,
    plmnA: PLMN.BR,
    plmnB: PLMN.DE,
  });
  const store = new FolderStore(path.join(o.dir, "store"));
  const now = (await latestBlock(provider)).timestamp;
  const build = (tag: string) =>
    buildSyntheticBatch({
      visited: PLMN.BR,
      home: PLMN.DE,
      period: month.period,
      records: o.recordsPerBatch,
      devices: fleet.devices,
      tag,
      from: month.start,
      to: now,
      pairKey,
      store,
    });
  return { node, provider, w, build, domain: ledgerDomain(node.chainId, w.addresses.usageLedger), period: month.period };
}

/**
 * The period's first batch through the product's path (typechain binding, estimated gas), as a warm-up;
 * the gas limit of the measured batches is half as much again (the first of a period costs the most).
 */
async function warmUp(b: ChainBench): Promise<bigint> {
  const warm = await b.build("chain-warmup");
  const receipt = await mined(b.w.br.ledger.submitBatch(toContractBatch(warm.batch), await signBatch(b.w.brWallet, b.domain, warm.batch)));
  return (receipt.gasUsed * 3n) / 2n;
}

/** `count` real batches, signed by BR, and their submitBatch transactions signed with consecutive nonces, gas price 0. */
async function presign(b: ChainBench, count: number, gasLimit: bigint): Promise<string[]> {
  const { w } = b;
  // "latest": BR has nothing pending (the warm-up is mined), and anvil's "pending" count lags behind.
  const nonce0 = await b.provider.getTransactionCount(await w.brWallet.getAddress(), "latest");
  const raws: string[] = [];
  for (let i = 0; i < count; i++) {
    const { batch } = await b.build(`chain-${i}`);
    const signature = await signBatch(w.brWallet, b.domain, batch);
    const data = w.br.ledger.interface.encodeFunctionData("submitBatch", [toContractBatch(batch), signature]);
    raws.push(
      await w.brWallet.signTransaction({
        type: 0,
        to: w.addresses.usageLedger,
        data,
        nonce: nonce0 + i,
        gasLimit,
        gasPrice: 0n,
        chainId: b.node.chainId,
      }),
    );
  }
  return raws;
}

/** Switches the node to a block every `blockTime` seconds and returns just after the next block: every run waits alike. */
async function alignToBlock(url: string, blockTime: number): Promise<number> {
  await rpc(url, "evm_setIntervalMining", [blockTime]);
  // Plain JSON-RPC polls: ethers caches identical requests for 250 ms.
  const blockNumber = async () => Number(await rpc<string>(url, "eth_blockNumber"));
  const startBlock = await blockNumber();
  const deadline = Date.now() + (blockTime + 5) * 1000;
  for (;;) {
    const current = await blockNumber();
    if (current !== startBlock) return current;
    if (Date.now() > deadline) throw new Error(`the node mined no block within ${blockTime + 5} s of interval mining`);
    await sleep(2);
  }
}

/**
 * Sends the signed transactions in raw JSON-RPC batches of SEND_CHUNK, in nonce order: the node's time, not
 * the client's (ethers' broadcastTransaction recovers each sender in JavaScript first, ~3 ms a transaction).
 * Returns their hashes, checked against the node's answers.
 */
async function sendAll(url: string, raws: readonly string[]): Promise<string[]> {
  const hashes = raws.map((raw) => keccak256(raw));
  for (let i = 0; i < raws.length; i += SEND_CHUNK) {
    const answers = await rpcBatch<string>(
      url,
      "eth_sendRawTransaction",
      raws.slice(i, i + SEND_CHUNK).map((raw) => [raw]),
    );
    for (const [j, hash] of answers.entries()) {
      if (hash.toLowerCase() !== hashes[i + j])
        throw new Error(`the node answered hash ${hash} for batch ${i + j + 1}, expected ${hashes[i + j]}`);
    }
  }
  return hashes;
}

/** Polls until the node has a receipt for `hash`. */
async function waitForReceipt(url: string, hash: string, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await rpc<unknown>(url, "eth_getTransactionReceipt", [hash]))) {
    if (Date.now() > deadline) throw new Error(`${what} was not mined in time`);
    await sleep(2);
  }
}

/** Every batch's receipt (status 1 each), batches per block, and the ledger's count of the period's batches. */
async function checkMined(b: ChainBench, hashes: readonly string[]) {
  const receipts = await Promise.all(
    hashes.map(async (h, i) => present(await b.provider.getTransactionReceipt(h), `the receipt of batch ${i + 1} (${h})`)),
  );
  const perBlock = new Map<number, number>();
  for (const [i, r] of receipts.entries()) {
    if (r.status !== 1) throw new Error(`batch ${i + 1} (${hashes[i]}) reverted`);
    perBlock.set(r.blockNumber, (perBlock.get(r.blockNumber) ?? 0) + 1);
  }
  const period = await b.w.br.ledger.getPeriod(PLMN.DE, PLMN.BR, b.period);
  if (Number(period.batchCount) !== hashes.length + 1)
    throw new Error(`the ledger counts ${period.batchCount} batches, expected ${hashes.length + 1}`);
  return { receipts, perBlock };
}

interface ChainOptions {
  count: number;
  recordsPerBatch: number;
  blockTime: number;
  devices: number;
  log: (line: string) => void;
  dir: string;
}

function chainOptions(opts: Parameters<typeof measureBatchesPerSec>[0], dir: string): ChainOptions {
  const o = {
    count: opts.batches,
    recordsPerBatch: opts.recordsPerBatch ?? 10,
    blockTime: opts.blockTime ?? 1,
    devices: opts.devices ?? 50,
    log: opts.log ?? (() => {}),
    dir,
  };
  if (!Number.isInteger(o.count) || o.count < 1) throw new RangeError(`batches must be a positive integer, got ${o.count}`);
  if (!Number.isInteger(o.blockTime) || o.blockTime < 1)
    throw new RangeError(`blockTime must be a whole number of seconds >= 1, got ${o.blockTime}`);
  return o;
}

/** Sends the pre-signed batches just after a block and measures until the last receipt. */
async function measureBurst(b: ChainBench, o: ChainOptions, raws: readonly string[], prepareMs: number): Promise<ChainThroughputResult> {
  const { count, blockTime, recordsPerBatch } = o;
  const firstNumber = await alignToBlock(b.node.url, blockTime);
  const sendStart = performance.now();
  const hashes = await sendAll(b.node.url, raws);
  const sendMs = performance.now() - sendStart;
  await waitForReceipt(b.node.url, hashes[hashes.length - 1], Math.max(60_000, 10 * blockTime * 1000), `batch ${count}`);
  const elapsedMs = performance.now() - sendStart;
  const { receipts, perBlock } = await checkMined(b, hashes);
  const first = present(await b.provider.getBlock(firstNumber), `block ${firstNumber}`);
  const lastNumber = receipts[receipts.length - 1].blockNumber;
  const lastBlock = present(await b.provider.getBlock(lastNumber), `block ${lastNumber}`);
  const gasPerBatch = median(receipts.map((r) => Number(r.gasUsed)));
  const blockGasLimit = Number(lastBlock.gasLimit);
  const batchesPerSec = count / (elapsedMs / 1000);
  o.log(`${count} batches in ${Math.round(elapsedMs)} ms (sent in ${Math.round(sendMs)} ms), ${perBlock.size} block(s)`);
  return {
    description:
      `UsageLedger.submitBatch throughput on anvil mining a block every ${blockTime} s (gas price 0, ${blockGasLimit.toLocaleString("en-US")} gas blocks): ` +
      `${count} real signed batches of ${recordsPerBatch} records, pre-signed from one account, sent at once (raw JSON-RPC batches of ${SEND_CHUNK}) just after a block; ` +
      "batchesPerSec = batches / (first send until the last receipt). batchesPerBlockByGas = block gas limit / gas per batch.",
    batches: count,
    recordsPerBatch,
    batchesPerSec,
    recordsPerSec: batchesPerSec * recordsPerBatch,
    elapsedMs: Math.round(elapsedMs),
    sendMs: Math.round(sendMs),
    blocksUsed: perBlock.size,
    maxBatchesPerBlock: Math.max(...perBlock.values()),
    blockTimeSec: blockTime,
    observedBlockIntervalSec:
      lastBlock.number > first.number ? (lastBlock.timestamp - first.timestamp) / (lastBlock.number - first.number) : NaN,
    gasPerBatch,
    blockGasLimit,
    batchesPerBlockByGas: Math.floor(blockGasLimit / gasPerBatch),
    prepareMs: Math.round(prepareMs),
  };
}

/**
 * Starts anvil, deploys RoamLedger there (automatic mining while setting up), registers a small DE fleet,
 * submits a warm-up batch (the first of the period), then switches the node to a block every `blockTime`
 * seconds (default 1, like QBFT). Prepares `batches` real batches of `recordsPerBatch` records (default 10;
 * BatchBuilder leaves, Merkle root and sealed payload, BR's EIP-712 signature) and pre-signs their
 * `submitBatch` transactions from BR's account (consecutive nonces, gas price 0). Just after a block is
 * mined, sends them all at once (raw JSON-RPC batch requests, in nonce order) and waits for the last receipt: batchesPerSec =
 * batches / (first send until the last receipt). Every receipt is checked (status 1). The node and the
 * temporary folder are always removed.
 */
export async function measureBatchesPerSec(opts: {
  batches: number;
  recordsPerBatch?: number;
  blockTime?: number;
  devices?: number;
  log?: (line: string) => void;
}): Promise<ChainThroughputResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rl-bench-chain-"));
  let node: LocalNode | undefined;
  let provider: GasFreeProvider | undefined;
  try {
    const o = chainOptions(opts, dir);
    node = await startAnvil({ blockTime: 0 });
    const dev = devWallets(node.url, node.chainId);
    provider = dev.provider;
    const b = await setUp(node, provider, dev.wallets, o);
    const gasLimit = await warmUp(b);
    const t0 = performance.now();
    const raws = await presign(b, o.count, gasLimit);
    const prepareMs = performance.now() - t0;
    o.log(`prepared ${o.count} signed batches of ${o.recordsPerBatch} records in ${Math.round(prepareMs)} ms`);
    return await measureBurst(b, o, raws, prepareMs);
  } finally {
    provider?.destroy();
    if (node) await node.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
