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
import { Amount } from "../../lib/core/amount";
import { tokenInfo } from "../../lib/agreements/chain";
import { connectRoamLedger, type RoamLedgerClient } from "../../lib/chain/client";
import { Keystore } from "../../lib/keys/keystore";
import { depositToEscrow } from "../../lib/settlement/escrow";
import { FolderStore } from "../../lib/usage/store";
import { addressesOf, PLMN } from "./fixtures";
import { type CommitBatch, commitBatch, ENCRYPTION_PRIVATE_KEY, invoiceWorld, type InvoiceWorld } from "./invoice";

const { DE, BR } = PLMN;
export const RLST = 1_000_000n;
const US_PRIVATE_KEY = `0x${"2".padStart(64, "0")}`;

export interface PartyWorld extends InvoiceWorld {
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
 * The whole period of test/helpers/invoice.ts `invoiceWorld` (sealed terms, BR's `brBatches` batches of
 * `records` records for DE, the first with two billable records disputed, DE's one batch for BR, all
 * accepted, the clock past the period's end and grace), each batch with its sealed payload in the store;
 * both carriers funded, and both periods closed on the ledger (unless `close` is false).
 */
export async function partyWorld(opts: { brBatches?: number; records?: number; close?: boolean } = {}): Promise<PartyWorld> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rl-party-"));
  const store = new FolderStore(path.join(dir, "store"));
  const sequences = new Map<string, number>();
  const commit: CommitBatch = (at, batch) => {
    const sequence = sequences.get(batch.visited) ?? 0;
    sequences.set(batch.visited, sequence + 1);
    return commitBatch({ ...at, store }, { ...batch, sequence });
  };
  const c = await invoiceWorld({ brBatches: opts.brBatches, records: opts.records, disputes: 2, commit });
  if (opts.close ?? true) {
    await c.ledger.closePeriod(DE, BR, c.period);
    await c.ledger.closePeriod(BR, DE, c.period);
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
  const w = { ...c, store, keys, clients, dir };
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
