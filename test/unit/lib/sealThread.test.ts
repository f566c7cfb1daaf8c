import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import type { ContractTransactionResponse } from "ethers";
import { SealThread, sealOnThread, SEAL_THREAD_MIN_BYTES } from "../../../lib/usage/sealThread";
import { LeafHasher, RECORD_BYTES } from "../../../lib/usage/leaf";
import { merkleRoot } from "../../../lib/usage/merkle";
import { openPayload, totalsSaltOf } from "../../../lib/usage/payload";
import { sealBatch, type UnsaltedHeader } from "../../../lib/usage/sealBatch";
import { FolderStore, type ContentStore } from "../../../lib/usage/store";
import { TxQueue } from "../../../lib/chain/txQueue";
import { TransactionFailedError } from "../../../lib/core/errors";
import { PLMN } from "../../helpers/fixtures";
import { type Hex, hexToBytes } from "../../../lib/util/hex";

const header = (recordCount: number): UnsaltedHeader => ({
  visited: PLMN.BR as Hex,
  home: PLMN.DE as Hex,
  period: 202611,
  sequence: 0,
  recordCount,
  totals: [],
  activeDevices: [],
  roamerDays: [],
});

describe("lib/usage/sealThread", function () {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "rl-seal-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("computes the root the main thread computes, and stores a payload that opens to the same records", async function () {
    const count = 1000;
    const packed = randomBytes(count * RECORD_BYTES);
    const copy = Buffer.from(packed);
    const key = randomBytes(32);
    const store = new FolderStore(path.join(dir, "store"));
    const thread = new SealThread();
    try {
      const { seal, payloadHash } = await thread.seal({ header: header(count), packed, count, pairKey: key, store });
      const hasher = await LeafHasher.create();
      // The leaves are salted with the totals salt, derived from the key and the records.
      expect(seal.totalsSalt).to.equal(totalsSaltOf(key, copy));
      const leaves = hasher.leavesOf(copy, count, hexToBytes(seal.totalsSalt));
      expect(seal.root).to.equal(await merkleRoot(leaves));
      // The same depth, salt and commitment as on the main thread.
      const { sealed: _sealed, ...onMain } = await sealBatch({ pairKey: key, header: header(count), records: copy, hasher });
      expect(seal).to.deep.equal(onMain);
      const opened = openPayload(key, await store.get(payloadHash), { visited: PLMN.BR as Hex, home: PLMN.DE as Hex, period: 202611 });
      expect(Buffer.from(opened.records).equals(copy)).to.equal(true);
      expect(opened.header.recordCount).to.equal(count);
      expect(opened.header.totalsSalt).to.equal(seal.totalsSalt);
    } finally {
      await thread.close();
    }
  });

  it("hands the sealed bytes back to a store that is not a folder", async function () {
    const puts: Uint8Array[] = [];
    const store: ContentStore = {
      put: async (data) => {
        puts.push(data);
        return `0x${"ab".repeat(32)}` as Hex;
      },
      get: async () => new Uint8Array(),
      has: async () => false,
      describe: () => "memory",
    };
    const thread = new SealThread();
    try {
      const sealed = await thread.seal({
        header: header(3),
        packed: randomBytes(3 * RECORD_BYTES),
        count: 3,
        pairKey: randomBytes(32),
        store,
      });
      expect(sealed.payloadHash).to.equal(`0x${"ab".repeat(32)}`);
      expect(puts).to.have.length(1);
      expect(puts[0].length).to.be.greaterThan(3 * RECORD_BYTES);
    } finally {
      await thread.close();
    }
  });

  it("fails with the store's problem when the payload cannot be written, and refuses work once closed", async function () {
    const notADir = path.join(dir, "file");
    fs.writeFileSync(notADir, "x");
    const thread = new SealThread();
    await thread.close();
    const job = () => ({
      header: header(1),
      packed: randomBytes(RECORD_BYTES),
      count: 1,
      pairKey: randomBytes(32),
      store: new FolderStore(path.join(notADir, "store")),
    });
    await expect(thread.seal(job())).to.be.rejectedWith(/closed/);
    const open = new SealThread();
    try {
      await expect(open.seal(job())).to.be.rejectedWith(/sealing a batch failed: .*(ENOTDIR|not a directory)/);
    } finally {
      await open.close();
    }
  });

  it("is used for files of 16 MB and more unless ROAMLEDGER_SEAL_THREAD says otherwise", function () {
    expect(sealOnThread(SEAL_THREAD_MIN_BYTES - 1, undefined)).to.equal(false);
    expect(sealOnThread(SEAL_THREAD_MIN_BYTES, undefined)).to.equal(true);
    expect(sealOnThread(10, "1")).to.equal(true);
    expect(sealOnThread(SEAL_THREAD_MIN_BYTES * 10, "0")).to.equal(false);
  });
});

describe("lib/chain/txQueue", function () {
  const fakeTx = (hash: string, gasLimit: bigint, fails?: { gasUsed: bigint }) =>
    ({
      hash,
      gasLimit,
      wait: async () => {
        if (!fails) return { status: 1 };
        throw Object.assign(new Error("transaction execution reverted"), {
          code: "CALL_EXCEPTION",
          receipt: { status: 0, gasUsed: fails.gasUsed, blockNumber: 42 },
        });
      },
    }) as unknown as ContractTransactionResponse;

  it("says which transaction ran out of gas, in which block, and what to do", async function () {
    const q = new TxQueue();
    await q.send("fraud flags for 300 device(s)", async () => fakeTx("0x01", 21_000n));
    await q.send("permanent roamers (300)", async () => fakeTx("0x02", 16_777_216n, { gasUsed: 16_777_216n }));
    const error = await q.drain().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(TransactionFailedError);
    const message = (error as Error).message;
    expect(message).to.contain(
      "permanent roamers (300): transaction 0x02 failed on-chain in block 42, out of gas (it used all of its 16,777,216 gas)",
    );
    expect(message).to.match(/What to do: run the same command again/);
  });

  it("says a mined transaction failed without a reason when it had gas left", async function () {
    const q = new TxQueue();
    await q.send("batch 1", async () => fakeTx("0x03", 100_000n, { gasUsed: 50_000n }));
    await expect(q.drain()).to.be.rejectedWith(
      TransactionFailedError,
      /batch 1: transaction 0x03 failed on-chain in block 42, without a reason/,
    );
  });
});
