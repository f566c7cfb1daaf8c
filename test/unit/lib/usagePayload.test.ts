import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createHash, createHmac, randomBytes } from "node:crypto";
import { keccak256 } from "ethers";
import {
  type BatchCommitments,
  checkPayloadCommitments,
  encodePayload,
  evidenceSaltOf,
  openPayload,
  type Payload,
  PAYLOAD_VERSION,
  sealPayload,
  totalsSaltOf,
} from "../../../lib/usage/payload";
import { FolderStore } from "../../../lib/usage/store";
import { CryptoError, MismatchError } from "../../../lib/core/errors";
import { encryptPayload } from "../../../lib/crypto/pairwise";
import { batchTotalsCommitment, randomSalt } from "../../../lib/crypto/commitment";
import { bytesToHex, type Hex } from "../../../lib/util/hex";

const RECORD_BYTES = 111;
const DE = "0x62f210" as Hex;
const BR = "0x27f450" as Hex;

function payload(records = 3): Payload {
  return {
    header: {
      visited: BR,
      home: DE,
      period: 202611,
      sequence: 0,
      recordCount: records,
      totals: [
        {
          tariffClass: 1,
          records,
          activeDevices: 1,
          roamerDays: 0,
          dataBytes: 2n ** 60n + 7n,
          signallingEvents: 3n,
          smsCount: 0n,
          voiceSeconds: 0n,
          qosSamples: 1,
          latencyMsSum: 40n,
          throughputKbpsSum: 900n,
        },
      ],
      totalsSalt: randomSalt(),
      activeDevices: [`0x${"ab".repeat(32)}` as Hex],
      roamerDays: [],
    },
    records: randomBytes(records * RECORD_BYTES),
  };
}

/** The batch header that commits to `p` sealed as `sealed`. */
function headerOf(p: Payload, sealed: Uint8Array): BatchCommitments {
  const { visited, home, period, recordCount, totals, totalsSalt } = p.header;
  return {
    visited,
    home,
    period,
    treeDepth: Math.ceil(Math.log2(Math.max(recordCount, 1))),
    payloadHash: keccak256(sealed) as Hex,
    totalsCommitment: batchTotalsCommitment({ recordCount, totals, salt: totalsSalt }),
  };
}

describe("lib/usage/payload and store", function () {
  const key = randomBytes(32);
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "rl-store-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("round-trips records, totals (bigints included), the record count and the totals salt through encryption", function () {
    const p = payload();
    const opened = openPayload(key, sealPayload(key, p), p.header);
    expect(opened.header).to.deep.equal(p.header);
    expect(opened.header.totalsSalt).to.equal(p.header.totalsSalt);
    expect(Buffer.from(opened.records).equals(Buffer.from(p.records))).to.equal(true);
    expect(PAYLOAD_VERSION).to.equal(2);
    expect(Buffer.from(encodePayload(p)).subarray(0, 5).toString("hex")).to.equal(`${Buffer.from("RLUP").toString("hex")}02`);
  });

  it("seals the same payload to the same bytes (content-addressed, crash-safe re-runs)", function () {
    const p = payload();
    expect(Buffer.from(sealPayload(key, p)).equals(Buffer.from(sealPayload(key, p)))).to.equal(true);
    const q = { ...p, header: { ...p.header, sequence: 1 } };
    expect(Buffer.from(sealPayload(key, p)).equals(Buffer.from(sealPayload(key, q)))).to.equal(false);
  });

  it("fails on one changed byte anywhere", function () {
    const p = payload();
    const sealed = Buffer.from(sealPayload(key, p));
    for (const at of [0, 20, sealed.length - 1]) {
      const tampered = Buffer.from(sealed);
      tampered[at] ^= 1;
      expect(() => openPayload(key, tampered, p.header)).to.throw(CryptoError);
    }
  });

  it("fails with another key or for another pair or period", function () {
    const p = payload();
    const sealed = sealPayload(key, p);
    expect(() => openPayload(randomBytes(32), sealed, p.header)).to.throw(CryptoError);
    expect(() => openPayload(key, sealed, { ...p.header, home: "0x130014" as Hex })).to.throw(CryptoError);
    expect(() => openPayload(key, sealed, { ...p.header, period: 202612 })).to.throw(CryptoError);
  });

  it("refuses a version 1 payload and a header without a 32-byte totals salt", function () {
    const p = payload();
    const aad = Buffer.concat([
      Buffer.from("roamledger/usage-payload/v2"),
      Buffer.from(BR.slice(2), "hex"),
      Buffer.from(DE.slice(2), "hex"),
      Buffer.from("202611"),
    ]);
    const v1 = Buffer.from(encodePayload(p));
    v1[4] = 1;
    expect(() => openPayload(key, encryptPayload(key, v1, aad), p.header)).to.throw(CryptoError, /unknown version 1/);
    for (const totalsSalt of [undefined, "0x1234", `0x${"AB".repeat(32)}`]) {
      const bad = encodePayload({ ...p, header: { ...p.header, totalsSalt: totalsSalt as Hex } });
      expect(() => openPayload(key, encryptPayload(key, bad, aad), p.header)).to.throw(CryptoError, /totalsSalt/);
    }
  });

  it("stores by keccak256, idempotently, and detects an altered object", async function () {
    const store = new FolderStore(dir);
    const data = sealPayload(key, payload());
    const hash = await store.put(data);
    expect(await store.put(data)).to.equal(hash);
    expect(fs.readdirSync(dir)).to.deep.equal([`${hash.slice(2)}.bin`]);
    expect(Buffer.from(await store.get(hash)).equals(Buffer.from(data))).to.equal(true);
    const file = path.join(dir, `${hash.slice(2)}.bin`);
    const bytes = fs.readFileSync(file);
    bytes[5] ^= 0xff;
    fs.writeFileSync(file, bytes);
    await expect(store.get(hash)).to.be.rejectedWith(/altered/);
    await expect(store.get(`0x${"00".repeat(32)}` as Hex)).to.be.rejectedWith(/not in the store/);
  });

  describe("totalsSaltOf", function () {
    it("is HMAC-SHA256 of the records under the pair's key: stable for the same records, secret without the key", function () {
      const records = randomBytes(5 * RECORD_BYTES);
      const salt = totalsSaltOf(key, records);
      const mac = createHmac("sha256", key).update("roamledger/totals-salt/v1").update(createHash("sha256").update(records).digest());
      expect(salt).to.equal(`0x${mac.digest("hex")}`);
      expect(totalsSaltOf(key, Buffer.from(records))).to.equal(salt);
      expect(totalsSaltOf(randomBytes(32), records)).to.not.equal(salt);
      const other = Buffer.from(records);
      other[0] ^= 1;
      expect(totalsSaltOf(key, other)).to.not.equal(salt);
    });
  });

  describe("evidenceSaltOf", function () {
    it("is HMAC-SHA256 of its domain under the pair's key: the same for a pair, another for another key or the totals salt", function () {
      const key = randomBytes(32);
      const expected = `0x${createHmac("sha256", key).update("roamledger/evidence-salt/v1").digest("hex")}`;
      expect(evidenceSaltOf(key)).to.equal(expected);
      expect(evidenceSaltOf(randomBytes(32))).to.not.equal(expected);
      expect(totalsSaltOf(key, new Uint8Array())).to.not.equal(expected);
    });
  });

  describe("checkPayloadCommitments", function () {
    const p = payload(5);
    const sealed = sealPayload(key, p);
    const header = headerOf(p, sealed);

    it("passes for the payload the header commits to", async function () {
      expect(header.treeDepth).to.equal(3);
      await checkPayloadCommitments({ payload: openPayload(key, sealed, header), sealed }, header);
    });

    /** The MismatchError's subject when `header` or the opened payload is changed. */
    async function subjectOf(h: BatchCommitments, opened: Payload = p, bytes: Uint8Array = sealed): Promise<string> {
      try {
        await checkPayloadCommitments({ payload: opened, sealed: bytes }, h);
      } catch (err) {
        expect(err).to.be.instanceOf(MismatchError);
        return (err as MismatchError).subject;
      }
      return "none";
    }

    it("refuses a header of another pair, period or a tree too shallow for the records", async function () {
      expect(await subjectOf({ ...header, visited: DE })).to.equal("visited");
      expect(await subjectOf({ ...header, home: BR })).to.equal("home");
      expect(await subjectOf({ ...header, period: 202612 })).to.equal("period");
      expect(await subjectOf({ ...header, treeDepth: 2 })).to.equal("recordCount");
    });

    it("refuses sealed bytes that are not the committed payload", async function () {
      const other = sealPayload(key, { ...p, header: { ...p.header, sequence: 9 } });
      expect(await subjectOf(header, p, other)).to.equal("payloadHash");
      expect(await subjectOf({ ...header, payloadHash: bytesToHex(randomBytes(32)) })).to.equal("payloadHash");
    });

    it("refuses totals, a record count or a salt that do not open the totals commitment", async function () {
      const changed = (h: Partial<Payload["header"]>): Payload => ({ ...p, header: { ...p.header, ...h } });
      const totals = p.header.totals.map((t) => ({ ...t, dataBytes: t.dataBytes + 1n }));
      expect(await subjectOf(header, changed({ totals }))).to.equal("totalsCommitment");
      expect(await subjectOf(header, changed({ recordCount: 4 }))).to.equal("totalsCommitment");
      expect(await subjectOf(header, changed({ totalsSalt: randomSalt() }))).to.equal("totalsCommitment");
      expect(await subjectOf({ ...header, totalsCommitment: bytesToHex(randomBytes(32)) })).to.equal("totalsCommitment");
    });
  });
});
