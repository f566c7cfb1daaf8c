import { expect } from "chai";
import hre from "hardhat";
import { keccak256, randomBytes } from "ethers";
import { poseidon1 } from "poseidon-lite/poseidon1";
import { SettlementToken__factory } from "../../../typechain-types";
import {
  analyse,
  byteLength,
  clearHits,
  collectObservations,
  findingsTable,
  leakedLabels,
  packed,
  type Observation,
  type RpcCall,
  withPublicValues,
} from "../../helpers/thirdMember";

/** `parts` concatenated. */
const concat = (...parts: Uint8Array[]) => Uint8Array.from(Buffer.concat(parts));
const fill = (n: number) => Uint8Array.from(randomBytes(n));
const fromHex = (h: string) => Uint8Array.from(Buffer.from(h.slice(2), "hex"));

function obs(channel: Observation["channel"], bytes: Uint8Array, where = `${channel} #1`): Observation {
  return { channel, contract: "0xc0ffee", where, bytes, wordBase: channel === "input" ? 4 : 0 };
}

/** A large secret (48 bits): reported on any occurrence. */
const LARGE = 0x1234_5678_9abcn;
/** A small secret (below 2^24): reported only above the control run. */
const SMALL = 500_000n;

describe("test helper: the third member's probe (thirdMember.ts)", function () {
  describe("encodings", function () {
    it("packs big-endian at a width and knows a value's byte length", function () {
      expect(Buffer.from(packed(0x0102n, 4)).toString("hex")).to.equal("00000102");
      expect([byteLength(0n), byteLength(255n), byteLength(256n), byteLength(2n ** 64n)]).to.deep.equal([1, 1, 2, 9]);
    });

    it("finds a value in clear at its widest width of leading zeros, and names aligned words", function () {
      const word = packed(LARGE, 32);
      expect(clearHits(concat(word, word), LARGE, 1, 0)).to.deep.equal(["word", "word"]);
      // The selector of an input shifts the words by 4 bytes.
      expect(clearHits(concat(fill(4), word), LARGE, 1, 4)).to.deep.equal(["word"]);
      // Tightly packed after a non-zero byte: only its own 8 bytes (2 leading zeros).
      expect(clearHits(concat(Uint8Array.of(0xff), packed(LARGE, 8), Uint8Array.of(7)), LARGE, 1, 0)).to.deep.equal(["uint64@1"]);
    });
  });

  describe("analyse", function () {
    const secrets = [{ label: "large", value: LARGE }];

    it("does not take a small value for a field when it is the leading part of a public number, and still finds it beside one", function () {
      // 15 = 0x0f leads the public net 0x0f5d8fb6 in a word; the same 15 in the next word is a field of its own.
      const net = 0x0f5d_8fb6n;
      const bytes = concat(packed(net, 32), packed(15n, 32));
      const small = [{ label: "sla", value: 15n }];
      const control = [obs("log", packed(7n, 32))];
      const unmarked = analyse([obs("log", bytes)], small, { control });
      expect(unmarked.findings.map((f) => f.encoding)).to.have.members(["uint232@0", "word"]);
      const marked = analyse(withPublicValues([obs("log", bytes)], [net]), small, { control });
      expect(marked.findings.map((f) => f.encoding)).to.deep.equal(["word"]);
      // Public values below 2^16 mark nothing (they would hide every small secret's byte).
      expect(withPublicValues([obs("log", bytes)], [15n])[0].publicRanges).to.deep.equal([]);
    });

    it("finds a planted large value in every channel and every encoding", function () {
      const planted = [
        obs("log", concat(fill(32), packed(LARGE, 32)), "log data"),
        obs("input", concat(fill(5), packed(LARGE, 8), fill(3)), "input"),
        obs("storage", fromHex(keccak256(packed(LARGE, 32))), "slot keccak word"),
        obs("storage", fromHex(keccak256(packed(LARGE, 6))), "slot keccak packed"),
        obs("log", packed(poseidon1([LARGE]), 32), "log topic"),
      ];
      const report = analyse(planted, secrets);
      const got = report.findings.map((f) => [f.channel, f.where, f.encoding]);
      expect(got).to.have.deep.members([
        ["log", "log data", "word"],
        ["input", "input", "uint64@5"],
        ["storage", "slot keccak word", "keccak256(uint256)"],
        ["storage", "slot keccak packed", "keccak256(uint48)"],
        ["log", "log topic", "poseidon"],
      ]);
      expect(report.observed).to.deep.equal({ log: 2, input: 1, storage: 2 });
      expect(findingsTable(report)).to.contain("large").and.contain("log x2, input x1, storage x2");
    });

    it("finds nothing of a value that is not there", function () {
      const noise = Array.from({ length: 50 }, (_, i) => obs("log", fill(256), `noise ${i}`));
      const report = analyse([...noise, obs("input", packed(LARGE + 1n, 32))], [...secrets, { label: "other", value: 0xdead_beef_cafen }]);
      expect(report.findings).to.deep.equal([]);
      expect(findingsTable(report)).to.contain("0 secrets leaked");
    });

    it("skips zero, values public by design, and small values without a control run", function () {
      const report = analyse(
        [obs("log", packed(SMALL, 32))],
        [
          { label: "zero", value: 0n },
          { label: "net", value: LARGE },
          { label: "small", value: SMALL },
        ],
        { publicValues: [LARGE] },
      );
      expect(report.findings).to.deep.equal([]);
      expect(report.skipped.map((s) => [s.label, s.reason])).to.deep.equal([
        ["zero", "zero or negative: not searchable"],
        ["net", "equal to a value public by design"],
        ["small", "small value and no control run: unchecked"],
      ]);
    });

    it("reports a small value only when it occurs more often than in the control run", function () {
      const structure = [obs("input", concat(fill(4), packed(SMALL, 32), packed(2n, 32)))];
      const small = [
        { label: "small", value: SMALL },
        { label: "tiny", value: 2n },
      ];
      // Same structure in both runs: an ABI length or counter that happens to equal the secret.
      expect(analyse(structure, small, { control: structure }).findings).to.deep.equal([]);
      // One more is within the margin of chance (1 + 2 * sqrt(1)); three more are reported, with the control's count.
      expect(analyse([...structure, obs("storage", packed(SMALL, 32))], small, { control: structure }).findings).to.deep.equal([]);
      const leaking = [...structure, ...[7, 8, 9].map((slot) => obs("storage", packed(SMALL, 32), `slot ${slot}`))];
      const report = analyse(leaking, small, { control: structure });
      expect([...leakedLabels(report)]).to.deep.equal(["small"]);
      expect(report.findings.map((f) => f.controlHits)).to.deep.equal([1, 1, 1, 1]);
      expect(findingsTable(report)).to.contain("(control 1)");
    });

    it("does not count a small value's lone bytes inside other data", function () {
      // 0x07a120 (500,000) right after non-zero bytes, and a lone 0x02: below the 4-byte minimum.
      const data = obs("log", concat(Uint8Array.of(0xff, 0xff), Uint8Array.of(0x07, 0xa1, 0x20), Uint8Array.of(0x02, 0xff)));
      const report = analyse([data], [{ label: "small", value: SMALL }], { control: [] });
      expect(report.findings).to.deep.equal([]);
      expect(analyse([data], [{ label: "small", value: SMALL }], { control: [], smallMinWidth: 3 }).findings).to.have.length(1);
    });

    it("does not take a word's tail and the next word's first byte for a small value", function () {
      // An ABI input: selector, offset 0x20, length 1, then a bytes32 starting 0xe5: 0x01e5 (485) reads across words.
      const input = concat(fill(4), packed(0x20n, 32), packed(1n, 32), Uint8Array.of(0xe5), fill(31));
      expect(clearHits(input, 485n, 4, 4)).to.deep.equal([]);
      // The same value inside one word is found.
      expect(clearHits(concat(fill(4), packed(485n, 32)), 485n, 4, 4)).to.deep.equal(["word"]);
    });
  });

  describe("collectObservations (struct-log tracing on the in-process network)", function () {
    it("reads the logs, the inputs and the written storage of the given contracts only", async function () {
      const [owner, holder] = await hre.ethers.getSigners();
      const call: RpcCall = <T>(method: string, params: unknown[]) => hre.network.provider.request({ method, params }) as Promise<T>;
      const fromBlock = (await hre.ethers.provider.getBlockNumber()) + 1;
      const token = await new SettlementToken__factory(owner).deploy(owner.address);
      const other = await new SettlementToken__factory(owner).deploy(owner.address);
      const amount = 0xabcdef_123456_789an;
      await (await token.mint(holder.address, amount)).wait();
      await (await other.mint(holder.address, amount + 1n)).wait();
      const toBlock = await hre.ethers.provider.getBlockNumber();

      const observed = await collectObservations({ call, contracts: [await token.getAddress()], fromBlock, toBlock });
      const report = analyse(observed, [
        { label: "minted", value: amount },
        { label: "minted elsewhere", value: amount + 1n },
      ]);
      const found = report.findings.map((f) => `${f.channel} ${f.encoding}`);
      // Transfer's data, mint's input, and two slots: the holder's balance and the total supply.
      expect(found).to.have.members(["log word", "input word", "storage word", "storage word"]);
      expect([...leakedLabels(report)]).to.deep.equal(["minted"]);
      const address = (await token.getAddress()).toLowerCase();
      expect(report.findings.every((f) => f.contract === address)).to.equal(true);
    });
  });
});
