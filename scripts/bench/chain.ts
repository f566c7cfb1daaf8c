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
import { buildSyntheticBatch, monthOf, registerFleet } from "./gas";
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
  const { addresses } = await deployDeBr({ deployer, de, br }, { de: testEncryptionKey(1), br: testEncryptionKey(3) }, (token) =>
    simpleTerms(PLMN.DE, PLMN.BR, periodStart, token),
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
  const count = opts.batches;
  const recordsPerBatch = opts.recordsPerBatch ?? 10;
  const blockTime = opts.blockTime ?? 1;
  const log = opts.log ?? (() => {});
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`batches must be a positive integer, got ${count}`);
  if (!Number.isInteger(blockTime) || blockTime < 1)
    throw new RangeError(`blockTime must be a whole number of seconds >= 1, got ${blockTime}`);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rl-bench-chain-"));
  let node: LocalNode | undefined;
  let provider: GasFreeProvider | undefined;
  try {
    node = await startAnvil({ blockTime: 0 });
    const dev = devWallets(node.url, node.chainId);
    provider = dev.provider;
    const latest = async () => (await provider!.getBlock("latest"))!;
    const month = monthOf((await latest()).timestamp);
    const w = await deployOnNode(dev.wallets, month.start);
    const fleet = await registerFleet(w.de, PLMN.DE, opts.devices ?? 50, { dir });
    log(`anvil ${node.url}: RoamLedger deployed, ${fleet.devices.length} devices registered, period ${month.period}`);

    const pairKey = pairwiseKey({
      myPrivateKey: testPrivateKey(3),
      theirPublicKey: testEncryptionKey(1) as Hex,
      plmnA: PLMN.BR,
      plmnB: PLMN.DE,
    });
    const store = new FolderStore(path.join(dir, "store"));
    const ledgerAddress = w.addresses.usageLedger;
    const domain = ledgerDomain(node.chainId, ledgerAddress);
    const now = (await latest()).timestamp;
    const build = (tag: string) =>
      buildSyntheticBatch({
        visited: PLMN.BR,
        home: PLMN.DE,
        period: month.period,
        records: recordsPerBatch,
        devices: fleet.devices,
        tag,
        from: month.start,
        to: now,
        pairKey,
        store,
      });

    // Warm-up through the product's path (typechain binding, estimated gas): the period's first batch.
    const warm = await build("chain-warmup");
    const warmReceipt = (await (
      await w.br.ledger.submitBatch(toContractBatch(warm.batch), await signBatch(w.brWallet, domain, warm.batch))
    ).wait())!;
    const gasLimit = (warmReceipt.gasUsed * 3n) / 2n; // the first of a period costs the most

    const t0 = performance.now();
    const brAddress = await w.brWallet.getAddress();
    // "latest": BR has nothing pending (the warm-up is mined), and anvil's "pending" count lags behind.
    const nonce0 = await provider.getTransactionCount(brAddress, "latest");
    const raws: string[] = [];
    for (let i = 0; i < count; i++) {
      const { batch } = await build(`chain-${i}`);
      const signature = await signBatch(w.brWallet, domain, batch);
      const data = w.br.ledger.interface.encodeFunctionData("submitBatch", [toContractBatch(batch), signature]);
      raws.push(
        await w.brWallet.signTransaction({
          type: 0,
          to: ledgerAddress,
          data,
          nonce: nonce0 + i,
          gasLimit,
          gasPrice: 0n,
          chainId: node.chainId,
        }),
      );
    }
    const prepareMs = performance.now() - t0;
    log(`prepared ${count} signed batches of ${recordsPerBatch} records in ${Math.round(prepareMs)} ms`);

    // Interval mining from here on; start just after a block so that every run waits alike.
    await rpc(node.url, "evm_setIntervalMining", [blockTime]);
    // Plain JSON-RPC polls: ethers caches identical requests for 250 ms.
    const blockNumber = async () => Number(await rpc<string>(node!.url, "eth_blockNumber"));
    const startBlock = await blockNumber();
    const alignDeadline = Date.now() + (blockTime + 5) * 1000;
    let firstNumber: number;
    while ((firstNumber = await blockNumber()) === startBlock) {
      if (Date.now() > alignDeadline) throw new Error(`the node mined no block within ${blockTime + 5} s of interval mining`);
      await sleep(2);
    }

    // Raw JSON-RPC batches of SEND_CHUNK transactions, in nonce order: the node's time, not the client's
    // (ethers' broadcastTransaction recovers each sender in JavaScript first, ~3 ms a transaction).
    const hashes = raws.map((raw) => keccak256(raw));
    const sendStart = performance.now();
    for (let i = 0; i < raws.length; i += SEND_CHUNK) {
      const answers = await rpcBatch<string>(
        node.url,
        "eth_sendRawTransaction",
        raws.slice(i, i + SEND_CHUNK).map((raw) => [raw]),
      );
      answers.forEach((hash, j) => {
        if (hash.toLowerCase() !== hashes[i + j])
          throw new Error(`the node answered hash ${hash} for batch ${i + j + 1}, expected ${hashes[i + j]}`);
      });
    }
    const sendMs = performance.now() - sendStart;
    const lastHash = hashes[hashes.length - 1];
    const deadline = Date.now() + Math.max(60_000, 10 * blockTime * 1000);
    while (!(await rpc<unknown>(node.url, "eth_getTransactionReceipt", [lastHash]))) {
      if (Date.now() > deadline) throw new Error(`batch ${count} was not mined in time`);
      await sleep(2);
    }
    const elapsedMs = performance.now() - sendStart;
    const last = (await provider.getTransactionReceipt(lastHash))!;

    const receipts = await Promise.all(hashes.map((h) => provider!.getTransactionReceipt(h)));
    const perBlock = new Map<number, number>();
    for (const [i, r] of receipts.entries()) {
      if (r?.status !== 1) throw new Error(`batch ${i + 1} (${hashes[i]}) ${r ? "reverted" : "has no receipt"}`);
      perBlock.set(r.blockNumber, (perBlock.get(r.blockNumber) ?? 0) + 1);
    }
    const period = await w.br.ledger.getPeriod(PLMN.DE, PLMN.BR, month.period);
    if (Number(period.batchCount) !== count + 1) throw new Error(`the ledger counts ${period.batchCount} batches, expected ${count + 1}`);
    const first = (await provider.getBlock(firstNumber))!;
    const lastBlock = (await provider.getBlock(last.blockNumber))!;
    const gasPerBatch = median(receipts.map((r) => Number(r!.gasUsed)));
    const blockGasLimit = Number(lastBlock.gasLimit);
    const batchesPerSec = count / (elapsedMs / 1000);
    log(`${count} batches in ${Math.round(elapsedMs)} ms (sent in ${Math.round(sendMs)} ms), ${perBlock.size} block(s)`);
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
  } finally {
    provider?.destroy();
    if (node) await node.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
