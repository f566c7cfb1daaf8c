/**
 * Groth16 proving and checking for the rating circuit, and the encodings the on-chain verifier
 * (contracts/zk/Groth16Verifier.sol) wants: the proof as abi.encode(uint256[2] a, uint256[2][2] b, uint256[2] c)
 * and the key as its constructor's `VerificationKey`, both with the G2 coordinates SWAPPED against snarkjs's JSON
 * ([x1, x0], [y1, y0]: the 0x08 precompile's order, as snarkjs's exportSolidityCallData writes them).
 */
import fs from "node:fs";
import { AbiCoder, keccak256 } from "ethers";
import { InputError } from "../core/errors";
import { type Hex, isHex } from "../util/hex";
import { type SnarkjsFile, type SnarkjsProof, type SnarkjsVerificationKey, withSnarkjs } from "./snarkjs";

export type { SnarkjsProof, SnarkjsVerificationKey } from "./snarkjs";

/** Public inputs the verifier takes (rating-v1: termsCommitment, totalsCommitment, net). */
export const VERIFIER_PUBLIC_INPUTS = 3;

/** The bn128 scalar field modulus r: public inputs are below it. */
export const BN128_R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
/** The bn128 base field modulus q: proof and key coordinates are below it. */
export const BN128_Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;

/** A G1 point (x, y) and a G2 point in the verifier's swapped order [[x1, x0], [y1, y0]]. */
export type G1 = [bigint, bigint];
export type G2 = [[bigint, bigint], [bigint, bigint]];

/** A proof as the verifier's `verifyProof(a, b, c, input)` takes it. */
export interface SolidityProof {
  a: G1;
  b: G2;
  c: G1;
}

/** The verifier's constructor argument (IGroth16Verifier.VerificationKey). */
export interface VerifierKey {
  alpha1: G1;
  beta2: G2;
  gamma2: G2;
  delta2: G2;
  ic: [G1, G1, G1, G1];
}

/** The circuit's wasm (witness generator) and the proving key (final zkey): paths or bytes. */
export interface ProvingArtifacts {
  wasm: SnarkjsFile;
  zkey: SnarkjsFile;
}

const PROOF_ABI = ["uint256[2]", "uint256[2][2]", "uint256[2]"];
const KEY_WORDS_ABI = Array<string>(22).fill("uint256");

/**
 * A Groth16 proof of the circuit for `input` (signal name -> value(s)) with the proving key. Throws when the
 * witness does not satisfy the circuit (snarkjs's "Assert Failed" with the template and line).
 */
export async function proveGroth16(
  input: Record<string, unknown>,
  artifacts: ProvingArtifacts,
): Promise<{ proof: SnarkjsProof; publicSignals: string[] }> {
  if (typeof artifacts.wasm !== "string") return withSnarkjs((s) => s.groth16.fullProve(input, artifacts.wasm, artifacts.zkey));
  const witness = await witnessOf(input, artifacts.wasm);
  return withSnarkjs((s) => s.groth16.prove(artifacts.zkey, { type: "mem", data: witness }));
}

/** circom's witness calculator (circom_runtime, as snarkjs uses it). */
interface WitnessCalculator {
  calculateWTNSBin(input: Record<string, unknown>, sanityCheck: number): Promise<Uint8Array>;
}

/** Compiled witness calculators by wasm path: compiling the 11 MB rating-v1 wasm takes about 1.5 s, once. */
const calculators = new Map<string, Promise<WitnessCalculator>>();

/**
 * The witness of `input` (snarkjs's .wtns, in memory) from the circuit's wasm, whose compiled module is kept
 * for the process: what `fullProve` does, without compiling the wasm again for each proof. Throws the
 * calculator's "Assert Failed" (with the template and line) when the input breaks a constraint.
 */
async function witnessOf(input: Record<string, unknown>, wasm: string): Promise<Uint8Array> {
  let calculator = calculators.get(wasm);
  if (!calculator) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { WitnessCalculatorBuilder } = require("circom_runtime") as {
      WitnessCalculatorBuilder(code: Uint8Array): Promise<WitnessCalculator>;
    };
    calculator = WitnessCalculatorBuilder(fs.readFileSync(wasm));
    calculators.set(wasm, calculator);
    calculator.catch(() => calculators.delete(wasm));
  }
  return (await calculator).calculateWTNSBin(input, 0);
}

/** Checks a proof against a verification key locally (no chain). */
export async function verifyGroth16(vkey: SnarkjsVerificationKey, publicSignals: readonly string[], proof: SnarkjsProof): Promise<boolean> {
  return withSnarkjs((s) => s.groth16.verify(vkey, publicSignals, proof));
}

/** A decimal or hex coordinate of snarkjs's JSON as a bigint. */
function coord(value: unknown, what: string): bigint {
  if (typeof value !== "string" && typeof value !== "bigint") throw new InputError(`${what} is not a number`);
  try {
    return BigInt(value);
  } catch {
    throw new InputError(`${what} is not a number: ${String(value)}`);
  }
}

function g1(point: readonly unknown[] | undefined, what: string): G1 {
  if (!Array.isArray(point) || point.length < 2) throw new InputError(`${what} is not a G1 point`);
  return [coord(point[0], `${what}.x`), coord(point[1], `${what}.y`)];
}

/** snarkjs's [[x0, x1], [y0, y1], ...] as the verifier's [[x1, x0], [y1, y0]]. */
function g2(point: readonly unknown[] | undefined, what: string): G2 {
  if (!Array.isArray(point) || point.length < 2 || !Array.isArray(point[0]) || !Array.isArray(point[1])) {
    throw new InputError(`${what} is not a G2 point`);
  }
  const [x, y] = point as unknown[][];
  return [
    [coord(x[1], `${what}.x1`), coord(x[0], `${what}.x0`)],
    [coord(y[1], `${what}.y1`), coord(y[0], `${what}.y0`)],
  ];
}

/** The proof as the verifier's `a`, `b` (swapped), `c`. */
export function proofToSolidity(proof: SnarkjsProof): SolidityProof {
  return { a: g1(proof.pi_a, "proof.pi_a"), b: g2(proof.pi_b, "proof.pi_b"), c: g1(proof.pi_c, "proof.pi_c") };
}

/** abi.encode(uint256[2] a, uint256[2][2] b, uint256[2] c) in the verifier's order (256 bytes). */
export function proofToBytes(proof: SnarkjsProof): Hex {
  const { a, b, c } = proofToSolidity(proof);
  return AbiCoder.defaultAbiCoder().encode(PROOF_ABI, [a, b, c]) as Hex;
}

/** The snarkjs proof back from `proofToBytes`' encoding (G2 unswapped, projective z = 1). */
export function proofFromBytes(bytes: Hex): SnarkjsProof {
  if (!isHex(bytes, 256)) {
    throw new InputError("a Groth16 proof is 256 bytes: abi.encode(uint256[2] a, uint256[2][2] b, uint256[2] c)", {
      location: { param: "proof" },
    });
  }
  const [a, b, c] = AbiCoder.defaultAbiCoder().decode(PROOF_ABI, bytes) as unknown as [bigint[], bigint[][], bigint[]];
  const str = (v: bigint) => v.toString();
  return {
    pi_a: [str(a[0]), str(a[1]), "1"],
    pi_b: [
      [str(b[0][1]), str(b[0][0])],
      [str(b[1][1]), str(b[1][0])],
      ["1", "0"],
    ],
    pi_c: [str(c[0]), str(c[1]), "1"],
    protocol: "groth16",
    curve: "bn128",
  };
}

/** The verification key as Groth16Verifier's constructor takes it; refuses a key that is not for 3 inputs. */
export function verifierConstructorArgs(vkey: SnarkjsVerificationKey): VerifierKey {
  if (vkey.protocol !== "groth16" || vkey.curve !== "bn128") {
    throw new InputError(`the verification key is ${vkey.protocol} on ${vkey.curve}, not groth16 on bn128`, {
      location: { param: "vkey" },
    });
  }
  if (vkey.nPublic !== VERIFIER_PUBLIC_INPUTS || !Array.isArray(vkey.IC) || vkey.IC.length !== VERIFIER_PUBLIC_INPUTS + 1) {
    throw new InputError(`the verification key has ${vkey.nPublic} public inputs; the verifier takes exactly 3`, {
      location: { param: "vkey" },
      hint: "export the key of a circuit with three public inputs (rating-v1: termsCommitment, totalsCommitment, net).",
    });
  }
  return {
    alpha1: g1(vkey.vk_alpha_1, "vk_alpha_1"),
    beta2: g2(vkey.vk_beta_2, "vk_beta_2"),
    gamma2: g2(vkey.vk_gamma_2, "vk_gamma_2"),
    delta2: g2(vkey.vk_delta_2, "vk_delta_2"),
    ic: [g1(vkey.IC[0], "IC[0]"), g1(vkey.IC[1], "IC[1]"), g1(vkey.IC[2], "IC[2]"), g1(vkey.IC[3], "IC[3]")],
  };
}

/** The key's 22 words in IGroth16Verifier.VerificationKey's order. */
export function verifierKeyWords(key: VerifierKey): bigint[] {
  const flat2 = (p: G2) => [p[0][0], p[0][1], p[1][0], p[1][1]];
  return [...key.alpha1, ...flat2(key.beta2), ...flat2(key.gamma2), ...flat2(key.delta2), ...key.ic.flat()];
}

/** keccak256 of the key's 22 words (= the contract's `verificationKeyHash()`). */
export function verificationKeyHash(vkey: SnarkjsVerificationKey): Hex {
  const words = verifierKeyWords(verifierConstructorArgs(vkey));
  return keccak256(AbiCoder.defaultAbiCoder().encode(KEY_WORDS_ABI, words)) as Hex;
}

/** The public signals as the verifier's `uint256[3] input`. */
export function publicInputsToSolidity(publicSignals: readonly string[]): [bigint, bigint, bigint] {
  if (publicSignals.length !== VERIFIER_PUBLIC_INPUTS) {
    throw new InputError(`${publicSignals.length} public signals; the verifier takes exactly 3`, {
      location: { param: "publicSignals" },
    });
  }
  return [
    coord(publicSignals[0], "publicSignals[0]"),
    coord(publicSignals[1], "publicSignals[1]"),
    coord(publicSignals[2], "publicSignals[2]"),
  ];
}
