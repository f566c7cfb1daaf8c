/**
 * snarkjs (0.7.6) as the library uses it: the few calls, typed, and the release of the worker threads its bn128
 * curve starts. snarkjs keeps one curve (`globalThis.curve_bn128`, with a pool of worker threads) for the
 * whole process once a call built it; a process that never terminates it never exits (mocha, the CLI). Every
 * library entry point runs its snarkjs work inside `withSnarkjs`, which terminates the curve when the last
 * concurrent user is done.
 */

/** A Groth16 proof as snarkjs writes it (projective coordinates, decimal strings; G2 as [x0, x1], [y0, y1]). */
export interface SnarkjsProof {
  pi_a: string[];
  pi_b: string[][];
  pi_c: string[];
  protocol: string;
  curve: string;
}

/** A Groth16 verification key as snarkjs exports it (verification_key.json). */
export interface SnarkjsVerificationKey {
  protocol: string;
  curve: string;
  nPublic: number;
  vk_alpha_1: string[];
  vk_beta_2: string[][];
  vk_gamma_2: string[][];
  vk_delta_2: string[][];
  IC: string[][];
  [extra: string]: unknown;
}

/** Where snarkjs reads a file from: a path or the file's bytes. */
export type SnarkjsFile = string | Uint8Array | { type: "mem"; data?: Uint8Array };

/** snarkjs's logger: the ceremony reports what snarkjs says at info level. */
export interface SnarkjsLogger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

/** The part of snarkjs's API the library calls. */
export interface Snarkjs {
  curves: { getCurveFromName(name: string): Promise<unknown> };
  groth16: {
    fullProve(
      input: Record<string, unknown>,
      wasm: SnarkjsFile,
      zkey: SnarkjsFile,
    ): Promise<{ proof: SnarkjsProof; publicSignals: string[] }>;
    prove(zkey: SnarkjsFile, witness: SnarkjsFile): Promise<{ proof: SnarkjsProof; publicSignals: string[] }>;
    verify(vkey: SnarkjsVerificationKey, publicSignals: readonly string[], proof: SnarkjsProof): Promise<boolean>;
  };
  powersOfTau: {
    newAccumulator(curve: unknown, power: number, file: string, logger?: SnarkjsLogger): Promise<unknown>;
    beacon(
      oldFile: string,
      newFile: string,
      name: string,
      beaconHash: string,
      numIterationsExp: number,
      logger?: SnarkjsLogger,
    ): Promise<unknown>;
    preparePhase2(oldFile: string, newFile: string, logger?: SnarkjsLogger): Promise<unknown>;
  };
  zKey: {
    newZKey(r1cs: string, ptau: string, zkey: string, logger?: SnarkjsLogger): Promise<unknown>;
    contribute(oldZkey: string, newZkey: string, name: string, entropy: string, logger?: SnarkjsLogger): Promise<Uint8Array>;
    beacon(
      oldZkey: string,
      newZkey: string,
      name: string,
      beaconHash: string,
      numIterationsExp: number,
      logger?: SnarkjsLogger,
    ): Promise<Uint8Array>;
    verifyFromR1cs(r1cs: string, ptau: string, zkey: string, logger?: SnarkjsLogger): Promise<boolean>;
    exportVerificationKey(zkey: string, logger?: SnarkjsLogger): Promise<SnarkjsVerificationKey>;
  };
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const snarkjs = require("snarkjs") as Snarkjs;

let users = 0;

/**
 * Runs `fn` (snarkjs work) and, when no other `withSnarkjs` call is still running, terminates the shared bn128
 * curve's worker threads so that the process can exit. The next call builds the curve again (~0.3 s).
 */
export async function withSnarkjs<T>(fn: (s: Snarkjs) => Promise<T>): Promise<T> {
  users += 1;
  try {
    return await fn(snarkjs);
  } finally {
    users -= 1;
    if (users === 0) await releaseSnarkjs();
  }
}

/** Terminates snarkjs's shared bn128 curve (its worker threads), if one is built. */
export async function releaseSnarkjs(): Promise<void> {
  const curve = (globalThis as { curve_bn128?: { terminate(): Promise<void> } | null }).curve_bn128;
  if (curve) await curve.terminate();
}
