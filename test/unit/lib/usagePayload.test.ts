import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { sealPayload, openPayload, type Payload } from "../../../lib/usage/payload";
import { FolderStore } from "../../../lib/usage/store";
import { CryptoError } from "../../../lib/core/errors";
import type { Hex } from "../../../lib/util/hex";

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
      activeDevices: [`0x${"ab".repeat(32)}` as Hex],
      roamerDays: [],
    },
    records: randomBytes(records * RECORD_BYTES),
  };
}

describe("lib/usage/payload and store", function () {
  const key = randomBytes(32);
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "rl-store-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("round-trips records and totals (bigints included) through encryption", function () {
    const p = payload();
    const opened = openPayload(key, sealPayload(key, p), p.header);
    expect(opened.header).to.deep.equal(p.header);
    expect(Buffer.from(opened.records).equals(Buffer.from(p.records))).to.equal(true);
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
});
