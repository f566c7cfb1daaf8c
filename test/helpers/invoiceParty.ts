/**
 * A period between DE and BR on the real contracts where each carrier has what a party has: its key
 * store (its registered encryption key, so the pair's key and the sealed terms open) and the sealed
 * payloads of every batch in a payload store, so lib/usage countedPeriod, lib/invoice readInvoiceData and
 * the report work as they do for a carrier. US, a third member, has its own key store and nothing else.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import hre from "hardhat";
import { keccak256, toUtf8Bytes, type TypedDataDomain } from "ethers";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { Amount } from "../../lib/core/amount";
import { tokenInfo } from "../../lib/agreements/chain";
import { sealTerms } from "../../lib/agreements/sealed";
import { connectRoamLedger, type RoamLedgerClient } from "../../lib/chain/client";
import { batchTotalsCommitment } from "../../lib/crypto/commitment";
import { pairwiseKey } from "../../lib/crypto/pairwise";
import type { FullTerms } from "../../lib/invoice/usage";
import { Keystore } from "../../lib/keys/keystore";
import { depositToEscrow } from "../../lib/settlement/escrow";
import { ledgerDomain, signBatch, toContractBatch, type UsageBatchHeader } from "../../lib/usage/batch";
import { LeafHasher, packRecord, RECORD_BYTES } from "../../lib/usage/leaf";
import { depthOf, merkleTree } from "../../lib/usage/merkle";
import { sealPayload, totalsSaltOf } from "../../lib/usage/payload";
import { FolderStore } from "../../lib/usage/store";
import type { UsageRecord } from "../../lib/usage/types";
import { type Hex, hexToBytes } from "../../lib/util/hex";
import { addressesOf, deployConsortium, PLMN, SUBMISSION_GRACE, testEncryptionKey, type Consortium } from "./fixtures";
import { type CommittedBatch, disputeLeaves, ENCRYPTION_PRIVATE_KEY, periodTerms } from "./invoice";
import { boundsOf, periodOf, randomRecords, totalsOf } from "./usage";

const { DE, BR } = PLMN;
export const RLST = 1_000_000n;
const US_PRIVATE_KEY = `0x${"2".padStart(64, "0")}`;

export interface PartyWorld extends Consortium {
  period: number;
  start: number;
  end: number;
  /** The DE-BR pairwise key. */
  key: Uint8Array;
  terms: FullTerms;
  brBatches: CommittedBatch[];
  deBatches: CommittedBatch[];
  /** The payload store both parties read (each would hold a copy). */
  store: FolderStore;
  keys: { de: Keystore; br: Keystore; us: Keystore };
  clients: { de: RoamLedgerClient; br: RoamLedgerClient; us: RoamLedgerClient };
  dir: string;
}

/** A key store in `dir` holding `plmn`'s encryption private key. */
function keystoreWith(dir: string, plmn: string, privateKey: string): Keystore {
  const ks = new Keystore(dir);
  fs.mkdirSync(path.dirname(ks.encryptionKeyPath(plmn)), { recursive: true });
  fs.writeFileSync(ks.encryptionKeyPath(plmn), `${privateKey}\n`);
  return ks;
}

/** Commits `records` as one batch of `visited` for `home` with its real sealed payload in `store`. */
export async function commitStoredBatch(
  at: { ledger: Consortium["ledger"]; domain: TypedDataDomain; period: number; key: Uint8Array; store: FolderStore },
  {
    records,
    visited,
    home,
    signer,
    sequence,
  }: { records: UsageRecord[]; visited: Hex; home: Hex; signer: HardhatEthersSigner; sequence: number },
): Promise<CommittedBatch> {
  const packed = new Uint8Array(records.length * RECORD_BYTES);
  for (const [i, r] of records.entries()) packRecord(r, packed, i * RECORD_BYTES);
  const totals = totalsOf(records);
  const salt = totalsSaltOf(at.key, packed);
  const hasher = await LeafHasher.create();
  const tree = await merkleTree(hasher.leavesOfRecords(records, hexToBytes(salt)));
  const payload = {
    header: {
      visited,
      home,
      period: at.period,
      sequence,
      recordCount: records.length,
      totals,
      totalsSalt: salt,
      activeDevices: [],
      roamerDays: [],
    },
    records: packed,
  };
  const header: UsageBatchHeader = {
    visited,
    home,
    period: at.period,
    merkleRoot: `0x${tree[tree.length - 1].toString("hex")}` as Hex,
    treeDepth: depthOf(tree),
    payloadHash: await at.store.put(sealPayload(at.key, payload)),
    totalsCommitment: batchTotalsCommitment({ recordCount: records.length, totals, salt }),
  };
  const tx = await at.ledger.connect(signer).submitBatch(toContractBatch(header), await signBatch(signer, at.domain, header));
  const receipt = await tx.wait();
  const event = receipt!.logs.flatMap((l) => at.ledger.interface.parseLog(l) ?? []).find((e) => e.name === "UsageBatchSubmitted");
  return { header, id: event!.args.batchId as Hex, txHash: tx.hash as Hex, records, tree, totals, salt, disputed: [] };
}

/** DE proposes `periodTerms` sealed for BR, BR accepts. */
async function agree(c: Consortium, key: Uint8Array, validFrom: number): Promise<FullTerms> {
  const full = periodTerms(await c.token.getAddress(), validFrom);
  const chainId = (await hre.ethers.provider.getNetwork()).chainId;
  const context = { chainId, agreements: await c.agreements.getAddress(), proposer: DE, counterparty: BR };
  const termsSalt = keccak256(toUtf8Bytes("party world terms salt")) as Hex;
  const { sealed, publicTerms } = sealTerms({ key, context, terms: full, salt: termsSalt });
  await c.agreements.connect(c.de).propose(BR, publicTerms, sealed);
  await c.agreements.connect(c.br).accept(DE, 1, publicTerms.termsCommitment);
  return { version: 1, terms: full, termsSalt, termsCommitment: publicTerms.termsCommitment };
}

/** Both carriers funded with 10,000 RLST, 5,000 of it deposited in the escrow. */
async function fund(w: Pick<PartyWorld, "token" | "deployer" | "de" | "br" | "clients">): Promise<void> {
  const token = await tokenInfo(await w.token.getAddress(), w.de);
  for (const [who, client, member] of [
    [w.de, w.clients.de, DE],
    [w.br, w.clients.br, BR],
  ] as const) {
    await w.token.connect(w.deployer).mint(who.address, 10_000n * RLST);
    await depositToEscrow(client, { member, amount: Amount.fromUnits(token, 5_000n * RLST) });
  }
}

/**
 * The whole period: sealed terms, BR's `brBatches` batches of `records` records for DE (the first with
 * two billable records disputed), DE's one batch for BR, all accepted, both funded, the clock past the
 * period's end and grace, and both periods closed on the ledger (unless `close` is false).
 */
export async function partyWorld(opts: { brBatches?: number; records?: number; close?: boolean } = {}): Promise<PartyWorld> {
  const [, nextMonth] = boundsOf(periodOf(await time.latest()));
  await time.increaseTo(nextMonth + 86_400);
  const c = await deployConsortium();
  const key = pairwiseKey({
    myPrivateKey: ENCRYPTION_PRIVATE_KEY.DE as Hex,
    theirPublicKey: testEncryptionKey(3) as Hex,
    plmnA: DE,
    plmnB: BR,
  });
  const terms = await agree(c, key, await time.latest());
  const period = periodOf(nextMonth);
  const [start, end] = boundsOf(period);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rl-party-"));
  const store = new FolderStore(path.join(dir, "store"));
  const domain = ledgerDomain((await hre.ethers.provider.getNetwork()).chainId, await c.ledger.getAddress());
  const at = { ledger: c.ledger, domain, period, key, store };
  const brBatches: CommittedBatch[] = [];
  for (let i = 0; i < (opts.brBatches ?? 2); i++) {
    const records = randomRecords(opts.records ?? 40, DE, BR, 20 + i, start);
    brBatches.push(await commitStoredBatch(at, { records, visited: BR, home: DE, signer: c.br, sequence: i }));
  }
  const billable = brBatches[0].records.flatMap((r, i) => (r.billing === 0 ? [i] : []));
  await disputeLeaves(c, brBatches[0], billable.slice(0, 2).reverse(), c.de);
  const deRecords = randomRecords(30, BR, DE, 9, start);
  const deBatches = [await commitStoredBatch(at, { records: deRecords, visited: DE, home: BR, signer: c.de, sequence: 0 })];
  await c.ledger.connect(c.de).acceptBatches(brBatches.map((b) => b.id));
  await c.ledger.connect(c.br).acceptBatches([deBatches[0].id]);
  await time.increaseTo(end + SUBMISSION_GRACE);
  if (opts.close ?? true) {
    await c.ledger.closePeriod(DE, BR, period);
    await c.ledger.closePeriod(BR, DE, period);
  }
  const addresses = await addressesOf(c);
  const clients = {
    de: connectRoamLedger(addresses, c.de),
    br: connectRoamLedger(addresses, c.br),
    us: connectRoamLedger(addresses, c.us),
  };
  const keys = {
    de: keystoreWith(path.join(dir, "de-keys"), "262-01", ENCRYPTION_PRIVATE_KEY.DE),
    br: keystoreWith(path.join(dir, "br-keys"), "724-05", ENCRYPTION_PRIVATE_KEY.BR),
    us: keystoreWith(path.join(dir, "us-keys"), "310-410", US_PRIVATE_KEY),
  };
  const w = { ...c, period, start, end, key, terms, brBatches, deBatches, store, keys, clients, dir };
  await fund(w);
  return w;
}

/** {@link partyWorld} with both periods closable but not closed on the ledger. */
export const unclosedPartyWorld = () => partyWorld({ close: false });

/** The most gas any transaction of the chain so far used (every block from 1, fixtures included). */
export async function largestGasUsed(): Promise<bigint> {
  const provider = hre.ethers.provider;
  let largest = 0n;
  for (let n = 1; n <= (await provider.getBlockNumber()); n++) {
    for (const hash of (await provider.getBlock(n))?.transactions ?? []) {
      const receipt = await provider.getTransactionReceipt(hash);
      if (receipt && receipt.gasUsed > largest) largest = receipt.gasUsed;
    }
  }
  return largest;
}
