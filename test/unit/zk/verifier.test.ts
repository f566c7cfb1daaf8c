import hre from "hardhat";
import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import {
  BN128_Q,
  BN128_R,
  proofFromBytes,
  proofToBytes,
  proofToSolidity,
  proveGroth16,
  publicInputsToSolidity,
  type SnarkjsProof,
  verificationKeyHash,
  verifierConstructorArgs,
  verifyGroth16,
} from "../../../lib/zk/prover";
import type { DevCeremony } from "../../../lib/zk/ceremony";
import type { Groth16Verifier } from "../../../typechain-types";
import { toyDevCeremony, toyInput } from "../../helpers/zkToy";

type Input = [bigint, bigint, bigint];

describe("Groth16Verifier", function () {
  let dev: DevCeremony;
  let proof: SnarkjsProof;
  let publicSignals: string[];

  before(async function () {
    dev = await toyDevCeremony();
    ({ proof, publicSignals } = await proveGroth16(toyInput(3n, 5n, 7n), { wasm: dev.wasm, zkey: dev.zkey }));
  });

  async function deployVerifier(): Promise<Groth16Verifier> {
    const key = verifierConstructorArgs((await toyDevCeremony()).vkey);
    return (await hre.ethers.deployContract("Groth16Verifier", [key])) as unknown as Groth16Verifier;
  }

  const call = (v: Groth16Verifier, p: SnarkjsProof, input: Input) => {
    const { a, b, c } = proofToSolidity(p);
    return v.verifyProof(a, b, c, input);
  };

  describe("constructor", function () {
    it("reverts with Groth16VerifierInvalidKey for a point off the curve", async function () {
      const key = verifierConstructorArgs(dev.vkey);
      key.ic[2] = [key.ic[2][0], key.ic[2][1] + 1n];
      const factory = await hre.ethers.getContractFactory("Groth16Verifier");
      await expect(factory.deploy(key)).to.be.revertedWithCustomError(factory, "Groth16VerifierInvalidKey");
    });

    it("reverts with Groth16VerifierInvalidKey for a G2 point off the twist", async function () {
      const key = verifierConstructorArgs(dev.vkey);
      key.gamma2[1][1] += 1n;
      const factory = await hre.ethers.getContractFactory("Groth16Verifier");
      await expect(factory.deploy(key)).to.be.revertedWithCustomError(factory, "Groth16VerifierInvalidKey");
    });

    it("reverts with Groth16VerifierInvalidKey for a G2 coordinate >= q", async function () {
      const key = verifierConstructorArgs(dev.vkey);
      key.delta2[0][0] += BN128_Q;
      const factory = await hre.ethers.getContractFactory("Groth16Verifier");
      await expect(factory.deploy(key)).to.be.revertedWithCustomError(factory, "Groth16VerifierInvalidKey");
    });
  });

  describe("verifyProof", function () {
    it("accepts the proof that verifies locally, and prints its gas", async function () {
      const verifier = await loadFixture(deployVerifier);
      expect(await verifyGroth16(dev.vkey, publicSignals, proof)).to.equal(true);
      const input = publicInputsToSolidity(publicSignals);
      expect(await call(verifier, proof, input)).to.equal(true);
      const { a, b, c } = proofToSolidity(proof);
      const gas = await verifier.verifyProof.estimateGas(a, b, c, input);
      console.log(`      verifyProof: ${gas} gas (estimateGas of the call, 21,000 of it the transaction's base cost)`);
    });

    it("accepts the proof after proofToBytes and proofFromBytes", async function () {
      const verifier = await loadFixture(deployVerifier);
      const back = proofFromBytes(proofToBytes(proof));
      expect(await call(verifier, back, publicInputsToSolidity(publicSignals))).to.equal(true);
      expect(await verifyGroth16(dev.vkey, publicSignals, back)).to.equal(true);
    });

    it("refuses a public input + 1 (each of the three)", async function () {
      const verifier = await loadFixture(deployVerifier);
      for (let i = 0; i < 3; i++) {
        const input = publicInputsToSolidity(publicSignals);
        input[i] += 1n;
        expect(await call(verifier, proof, input)).to.equal(false);
        expect(await verifyGroth16(dev.vkey, input.map(String), proof)).to.equal(false);
      }
    });

    it("refuses a public input >= r (the same input + r), without reverting", async function () {
      const verifier = await loadFixture(deployVerifier);
      const input = publicInputsToSolidity(publicSignals);
      input[1] += BN128_R;
      expect(await call(verifier, proof, input)).to.equal(false);
    });

    it("refuses a tampered proof: A moved on the curve, C swapped with A", async function () {
      const verifier = await loadFixture(deployVerifier);
      const input = publicInputsToSolidity(publicSignals);
      const { b } = proofToSolidity(proof);
      // -A is on the curve: the pairing runs and fails.
      const a = proofToSolidity(proof).a;
      const negA: [bigint, bigint] = [a[0], BN128_Q - a[1]];
      const c = proofToSolidity(proof).c;
      expect(await verifier.verifyProof(negA, b, c, input)).to.equal(false);
      expect(await verifier.verifyProof(c, b, a, input)).to.equal(false);
    });

    it("refuses a proof point off the curve or a coordinate >= q, without reverting", async function () {
      const verifier = await loadFixture(deployVerifier);
      const input = publicInputsToSolidity(publicSignals);
      const { a, b, c } = proofToSolidity(proof);
      expect(await verifier.verifyProof([a[0], a[1] + 1n], b, c, input)).to.equal(false);
      expect(await verifier.verifyProof(a, [[b[0][0] + 1n, b[0][1]], b[1]], c, input)).to.equal(false);
      expect(await verifier.verifyProof(a, b, [c[0] + BN128_Q, c[1]], input)).to.equal(false);
      expect(await verifier.verifyProof(a, [b[0], [b[1][0], b[1][1] + BN128_Q]], c, input)).to.equal(false);
    });

    it("refuses the proof with its G2 point in snarkjs's unswapped order", async function () {
      const verifier = await loadFixture(deployVerifier);
      const { a, b, c } = proofToSolidity(proof);
      const unswapped: [[bigint, bigint], [bigint, bigint]] = [
        [b[0][1], b[0][0]],
        [b[1][1], b[1][0]],
      ];
      expect(await verifier.verifyProof(a, unswapped, c, publicInputsToSolidity(publicSignals))).to.equal(false);
    });
  });

  describe("verificationKeyHash", function () {
    it("equals lib/zk/prover.ts verificationKeyHash", async function () {
      const verifier = await loadFixture(deployVerifier);
      expect(await verifier.verificationKeyHash()).to.equal(verificationKeyHash(dev.vkey));
    });
  });

  describe("lib/zk/prover encodings", function () {
    it("proofToBytes is 256 bytes with B swapped, and proofFromBytes refuses another length", function () {
      const bytes = proofToBytes(proof);
      expect((bytes.length - 2) / 2).to.equal(256);
      expect(BigInt(`0x${bytes.slice(2 + 2 * 64, 2 + 3 * 64)}`)).to.equal(BigInt(proof.pi_b[0][1]));
      expect(() => proofFromBytes(`${bytes}00`)).to.throw(/256 bytes/);
    });

    it("verifierConstructorArgs refuses a key for another number of public inputs", function () {
      const two = { ...dev.vkey, nPublic: 2, IC: dev.vkey.IC.slice(0, 3) };
      expect(() => verifierConstructorArgs(two)).to.throw(/2 public inputs; the verifier takes exactly 3/);
    });
  });
});
