import hre from "hardhat";
import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  CEREMONY_FILES,
  contributeCeremony,
  ensureDevPtau,
  finalizeCeremony,
  readTranscript,
  startCeremony,
  transcriptHash,
  verifyCeremony,
  zkeyName,
} from "../../../lib/zk/ceremony";
import { sha256File } from "../../../lib/zk/compile";
import { proveGroth16, verificationKeyHash, verifyGroth16 } from "../../../lib/zk/prover";
import { withSnarkjs } from "../../../lib/zk/snarkjs";
import { TOY_CIRCUIT, TOY_PTAU_POWER, toyInput } from "../../helpers/zkToy";

const BEACON = "0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";

/** Rejects with an error whose message matches `pattern`. */
async function rejects(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  expect(err, `expected a rejection matching ${pattern}`).to.be.instanceOf(Error);
  expect((err as Error).message).to.match(pattern);
}

/** A powers-of-tau file of 2^power points that is not prepared for phase 2 (and, with `prepare`, one that is). */
async function smallPtau(dir: string, power: number, prepare: boolean): Promise<string> {
  const raw = path.join(dir, `raw${power}.ptau`);
  const prepared = path.join(dir, `prepared${power}.ptau`);
  await withSnarkjs(async (s) => {
    await s.powersOfTau.newAccumulator(await s.curves.getCurveFromName("bn128"), power, raw);
    if (prepare) await s.powersOfTau.preparePhase2(raw, prepared);
  });
  return prepare ? prepared : raw;
}

describe("zk ceremony (toy circuit, 2^8 powers of tau)", function () {
  const root = hre.config.paths.root;
  let tmp: string;
  let dir: string;
  let ptau: string;

  before(async function () {
    ptau = await ensureDevPtau({ power: TOY_PTAU_POWER, root });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "zk-ceremony-"));
    dir = path.join(tmp, "ceremony");
  });

  after(function () {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  describe("startCeremony", function () {
    it("refuses a powers-of-tau file that is not prepared for phase 2", async function () {
      const raw = await smallPtau(tmp, 4, false);
      await rejects(startCeremony({ dir: path.join(tmp, "x"), ptau: raw, circuit: TOY_CIRCUIT, root }), /not prepared for phase 2/);
    });

    it("refuses a powers-of-tau file too small for the circuit", async function () {
      const small = await smallPtau(tmp, 2, true);
      await rejects(
        startCeremony({ dir: path.join(tmp, "y"), ptau: small, circuit: TOY_CIRCUIT, root }),
        /holds 2\^2 points; the circuit needs 2\^3/,
      );
    });

    it("writes the circuit, the ptau, 0000.zkey and a transcript without contributions", async function () {
      const t = await startCeremony({ dir, ptau, circuit: TOY_CIRCUIT, root });
      expect(t.contributions).to.deep.equal([]);
      expect(t.circuit).to.equal("toy.circom");
      expect(t.initialZkeyHash).to.equal(`0x${sha256File(path.join(dir, zkeyName(0)))}`);
      expect(t.ptauHash).to.equal(`0x${sha256File(ptau)}`);
      expect(readTranscript(dir)).to.deep.equal(t);
    });

    it("refuses a folder that holds a ceremony", async function () {
      await rejects(startCeremony({ dir, ptau, circuit: TOY_CIRCUIT, root }), /already started/);
    });
  });

  describe("contributeCeremony and verifyCeremony", function () {
    it("adds two contributions that the verification accepts", async function () {
      const alice = await contributeCeremony({ dir, name: "alice" });
      const bob = await contributeCeremony({ dir, name: "bob" });
      expect([alice.index, bob.index]).to.deep.equal([1, 2]);
      expect(alice.contributionHash).to.match(/^0x[0-9a-f]{128}$/);
      expect(alice.contributionHash).to.not.equal(bob.contributionHash);
      expect(readTranscript(dir).contributions).to.deep.equal([alice, bob]);
      const steps = await verifyCeremony({ dir });
      expect(steps.map((s) => s.file)).to.deep.equal(["0000.zkey", "0001.zkey", "0002.zkey"]);
    });

    it("fails the verification and refuses to contribute when a key was swapped for another", async function () {
      const latest = path.join(dir, zkeyName(2));
      const saved = fs.readFileSync(latest);
      fs.copyFileSync(path.join(dir, zkeyName(1)), latest);
      try {
        await rejects(verifyCeremony({ dir }), /0002\.zkey: the key is not the one the transcript records/);
        await rejects(contributeCeremony({ dir, name: "mallory" }), /not the one the transcript records/);
      } finally {
        fs.writeFileSync(latest, saved);
      }
    });

    it("fails the verification of a corrupted key even when the transcript's hash was changed to match", async function () {
      const file = path.join(dir, zkeyName(1));
      const saved = fs.readFileSync(file);
      const transcript = fs.readFileSync(path.join(dir, CEREMONY_FILES.transcript));
      const corrupted = Buffer.from(saved);
      corrupted[corrupted.length - 100] ^= 0x01;
      fs.writeFileSync(file, corrupted);
      const t = readTranscript(dir);
      t.contributions[0].zkeyHash = `0x${sha256File(file)}`;
      fs.writeFileSync(path.join(dir, CEREMONY_FILES.transcript), JSON.stringify(t));
      try {
        await rejects(verifyCeremony({ dir }), /0001\.zkey: the key does not verify against the circuit and the powers of tau/);
      } finally {
        fs.writeFileSync(file, saved);
        fs.writeFileSync(path.join(dir, CEREMONY_FILES.transcript), transcript);
      }
    });

    it("runs as the task zk:ceremony:verify", async function () {
      process.env.ROAMLEDGER_QUIET = "1";
      try {
        await hre.run("zk:ceremony:verify", { dir });
      } finally {
        delete process.env.ROAMLEDGER_QUIET;
      }
    });
  });

  describe("finalizeCeremony", function () {
    it("refuses a beacon that is not hex", async function () {
      await rejects(finalizeCeremony({ dir, beacon: "not-hex", iterations: 10 }), /not 1 to 64 bytes of hex/);
    });

    it("gives a verification key that verifies a proof, and the transcript hash", async function () {
      const res = await finalizeCeremony({ dir, beacon: BEACON, iterations: 10 });
      expect(res.verificationKeyHash).to.equal(verificationKeyHash(res.vkey));
      expect(res.transcript.final?.beacon).to.equal(BEACON);
      expect(res.transcriptHash).to.equal(transcriptHash(readTranscript(dir)));
      const { proof, publicSignals } = await proveGroth16(toyInput(4n, 6n, 9n), {
        wasm: path.join(dir, CEREMONY_FILES.wasm),
        zkey: path.join(dir, CEREMONY_FILES.final),
      });
      expect(publicSignals).to.deep.equal(["4", "6", "105"]);
      expect(await verifyGroth16(res.vkey, publicSignals, proof)).to.equal(true);
      const steps = await verifyCeremony({ dir });
      expect(steps.at(-1)?.file).to.equal(CEREMONY_FILES.final);
    });

    it("leaves a finalized ceremony closed to contributions", async function () {
      await rejects(contributeCeremony({ dir, name: "late" }), /finalized/);
    });
  });
});
