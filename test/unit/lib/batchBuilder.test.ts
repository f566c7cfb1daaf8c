import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { BatchBuilder } from "../../../lib/usage/batchBuilder";
import type { CheckOutcome } from "../../../lib/usage/check";
import { LeafHasher, packRecord, RECORD_BYTES, recordIdToBytes32 } from "../../../lib/usage/leaf";
import { merkleRoot } from "../../../lib/usage/merkle";
import { evidenceSaltOf, openPayload, totalsSaltOf } from "../../../lib/usage/payload";
import type { ContentStore } from "../../../lib/usage/store";
import type { ParsedRecord, UsageRecord } from "../../../lib/usage/types";
import { type Hex, hexToBytes } from "../../../lib/util/hex";
import { PLMN } from "../../helpers/fixtures";
import { randomRecords } from "../../helpers/usage";

const PERIOD = 202611;

/** A store in memory, by a made-up hash. */
function memoryStore(): ContentStore & { objects: Map<Hex, Uint8Array> } {
  const objects = new Map<Hex, Uint8Array>();
  return {
    objects,
    put: async (data) => {
      const hash = `0x${objects.size.toString(16).padStart(64, "0")}` as Hex;
      objects.set(hash, data);
      return hash;
    },
    get: async (hash) => objects.get(hash) ?? new Uint8Array(),
    has: async (hash) => objects.has(hash),
    describe: () => "memory",
  };
}

/** Records with text ids, as the parser gives them, and the same records as committed (bytes32 ids). */
function recordsOf(count: number): { parsed: ParsedRecord[]; committed: UsageRecord[] } {
  const base = randomRecords(count, PLMN.DE as Hex, PLMN.BR as Hex, 21).map((r, i) => ({ ...r, billing: 0, tariffClass: 1 + (i % 2) }));
  const parsed = base.map((r, i) => ({ ...r, line: i + 2, recordId: `cdr-${i}`, imsi: "262010000000001" }) as ParsedRecord);
  const committed = base.map((r, i) => ({ ...r, recordId: recordIdToBytes32(`cdr-${i}`) }));
  return { parsed, committed };
}

const outcomeOf = (r: UsageRecord): CheckOutcome => ({
  billing: r.billing,
  tariffClass: r.tariffClass,
  newlyActive: false,
  newRoamerDay: false,
  becameRoamer: false,
  daysPresent: 1,
});

describe("lib/usage/batchBuilder", function () {
  it("salts every leaf with the batch's totals salt, derived from the packed records before the leaves", async function () {
    const key = randomBytes(32);
    const { parsed, committed } = recordsOf(5);
    const builder = await BatchBuilder.create({ visited: PLMN.BR as Hex, home: PLMN.DE as Hex, period: PERIOD, batchSize: 10 });
    for (const [i, r] of parsed.entries()) builder.add(r, outcomeOf(committed[i]), { deviceId: committed[i].deviceId });
    const store = memoryStore();
    const { batch } = await builder.seal(key, store);

    const packed = new Uint8Array(5 * RECORD_BYTES);
    for (const [i, r] of committed.entries()) packRecord(r, packed, i * RECORD_BYTES);
    expect(batch.totalsSalt).to.equal(totalsSaltOf(key, packed));
    const hasher = await LeafHasher.create();
    const salted = await merkleRoot(hasher.leavesOf(packed, 5, hexToBytes(batch.totalsSalt)));
    expect(batch.header.merkleRoot).to.equal(salted);
    expect(batch.header.merkleRoot).to.not.equal(await merkleRoot(hasher.leavesOf(packed, 5, new Uint8Array(32))));
    const opened = openPayload(key, await store.get(batch.header.payloadHash), batch.header);
    expect(opened.header.totalsSalt).to.equal(batch.totalsSalt);
    expect(Buffer.from(opened.records).equals(Buffer.from(packed))).to.equal(true);
  });

  it("gives the last record's evidence hash under the pair's evidence salt, before the batch is sealed", async function () {
    const key = randomBytes(32);
    const { parsed, committed } = recordsOf(3);
    const builder = await BatchBuilder.create({ visited: PLMN.BR as Hex, home: PLMN.DE as Hex, period: PERIOD, batchSize: 10 });
    expect(() => builder.lastEvidence(new Uint8Array(32))).to.throw(RangeError);
    const salt = hexToBytes(evidenceSaltOf(key));
    const hasher = await LeafHasher.create();
    for (const [i, r] of parsed.entries()) {
      builder.add(r, outcomeOf(committed[i]), { deviceId: committed[i].deviceId });
      expect(`0x${Buffer.from(builder.lastEvidence(salt)).toString("hex")}`).to.equal(hasher.leafOf(committed[i], salt));
    }
  });
});
