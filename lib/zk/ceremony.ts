/**
 * The consortium's Groth16 phase-2 ceremony over a ceremony folder, and the deterministic development setup.
 *
 * A ceremony folder holds everything needed to check it: circuit.r1cs and circuit.wasm (copies of the build),
 * phase1.ptau (the prepared phase-1 file it started from), 0000.zkey (the initial key), 0001.zkey.. (one per
 * contribution), final.zkey (after the public beacon), verification_key.json and transcript.json. The transcript
 * records the hash of every file and every contribution; its keccak256 (`transcriptHash`, canonical JSON) is what
 * governance records on chain. Phase 1 is an input: a consortium uses a public multi-party powers-of-tau file.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { keccak256, toUtf8Bytes } from "ethers";
import { InputError } from "../core/errors";
import { writeFileAtomic } from "../util/fsAtomic";
import type { Hex } from "../util/hex";
import { readPtauHeader, readR1csHeader, requiredPower } from "./binfile";
import { buildRatingCircuit } from "./circuit";
import { compileCircom, sha256File } from "./compile";
import { RATING_V1 } from "./encoding";
import { verificationKeyHash } from "./prover";
import { type SnarkjsLogger, type SnarkjsVerificationKey, withSnarkjs } from "./snarkjs";

/** The rating circuit's name in a transcript and for `--circuit` ("rating-v1"). */
export const RATING_CIRCUIT = RATING_V1.name;

/** A line of progress for the user (a task prints it on stderr). */
export type CeremonyLog = (line: string) => void;

/** One phase-2 contribution as the transcript records it. */
export interface CeremonyContribution {
  index: number;
  name: string;
  /** snarkjs's contribution hash (blake2b-512 of the contribution's public key), hex. */
  contributionHash: Hex;
  /** sha256 of the zkey the contribution wrote (000N.zkey). */
  zkeyHash: Hex;
  at: string;
}

/** The final beacon and its results. */
export interface CeremonyFinal {
  beacon: Hex;
  iterations: number;
  contributionHash: Hex;
  /** sha256 of final.zkey. */
  zkeyHash: Hex;
  /** keccak256 of the key's words, as Groth16Verifier's `verificationKeyHash()`. */
  verificationKeyHash: Hex;
  at: string;
}

/** transcript.json. File hashes are sha256 (hex with 0x) of the ceremony folder's files. */
export interface CeremonyTranscript {
  version: 1;
  circuit: string;
  sourceHash: string;
  r1csHash: Hex;
  ptauHash: Hex;
  /** sha256 of 0000.zkey. */
  initialZkeyHash: Hex;
  contributions: CeremonyContribution[];
  final?: CeremonyFinal;
}

/** A built circuit: R1CS and wasm paths and its source hash. */
export interface CeremonyCircuit {
  name: string;
  r1cs: string;
  wasm: string;
  sourceHash: string;
}

export const CEREMONY_FILES = {
  r1cs: "circuit.r1cs",
  wasm: "circuit.wasm",
  ptau: "phase1.ptau",
  final: "final.zkey",
  vkey: "verification_key.json",
  transcript: "transcript.json",
} as const;

/** The zkey of contribution `index` (0 = the initial key). */
export const zkeyName = (index: number): string => `${String(index).padStart(4, "0")}.zkey`;

/** The repository root (holds circuits/, node_modules/ and .zk/): lib/zk/ is two levels below it. */
const defaultRoot = (): string => path.resolve(__dirname, "..", "..");
const sha = (file: string): Hex => `0x${sha256File(file)}`;
const hexOf = (bytes: Uint8Array): Hex => `0x${Buffer.from(bytes).toString("hex")}`;
const now = (): string => new Date().toISOString();

/** A snarkjs logger that keeps its errors (snarkjs logs the reason, then returns false or -1). */
function captureLogger(): SnarkjsLogger & { errors: string[] } {
  const errors: string[] = [];
  const ignore = () => {};
  return { errors, debug: ignore, info: ignore, warn: ignore, error: (m: string) => errors.push(m) };
}

/**
 * Builds the ceremony's circuit: "rating-v1" (lib/zk/circuit.ts) or a .circom file (compiled under
 * `<root>/.zk/build`).
 */
export async function buildCeremonyCircuit(circuit: string, root: string, log?: CeremonyLog): Promise<CeremonyCircuit> {
  if (circuit === RATING_CIRCUIT) {
    const built = await buildRatingCircuit({ root, onProgress: log });
    return { name: RATING_CIRCUIT, r1cs: built.r1cs, wasm: built.wasm, sourceHash: built.sourceHash };
  }
  if (!circuit.endsWith(".circom")) {
    throw new InputError(`unknown circuit "${circuit}"`, {
      location: { param: "circuit" },
      hint: `use ${RATING_CIRCUIT} or a .circom file.`,
    });
  }
  const built = compileCircom(path.resolve(root, circuit), { buildRoot: path.join(root, ".zk", "build") });
  return { name: path.basename(circuit), ...built };
}

/** Refuses a powers-of-tau file that is not prepared for phase 2 or too small for the R1CS. */
export function checkPtau(ptau: string, r1cs: string): { power: number; needed: number } {
  if (!fs.existsSync(ptau)) {
    throw new InputError("no such powers-of-tau file", { location: { file: ptau }, hint: "name the prepared phase-1 file." });
  }
  const { power, prepared } = readPtauHeader(ptau);
  const needed = requiredPower(readR1csHeader(r1cs));
  if (!prepared) {
    throw new InputError("the powers-of-tau file is not prepared for phase 2", {
      location: { file: ptau },
      hint: "run snarkjs's powersOfTau preparePhase2 on it (or take the prepared file of the public ceremony).",
    });
  }
  if (power < needed) {
    throw new InputError(`the powers-of-tau file holds 2^${power} points; the circuit needs 2^${needed}`, {
      location: { file: ptau },
      hint: `take a prepared phase-1 file of power ${needed} or more.`,
    });
  }
  return { power, needed };
}

/** Reads DIR/transcript.json; refuses a folder where no ceremony started. */
export function readTranscript(dir: string): CeremonyTranscript {
  const file = path.join(dir, CEREMONY_FILES.transcript);
  if (!fs.existsSync(file)) {
    throw new InputError("no ceremony in this folder (no transcript.json)", {
      location: { file: dir },
      hint: "start the ceremony first, or name the folder it was started in.",
      next: { operation: "zk:ceremony:start", args: { dir } },
    });
  }
  return JSON.parse(fs.readFileSync(file, "utf8")) as CeremonyTranscript;
}

function writeTranscript(dir: string, transcript: CeremonyTranscript): void {
  writeFileAtomic(path.join(dir, CEREMONY_FILES.transcript), `${JSON.stringify(transcript, null, 2)}\n`);
}

/** JSON with object keys sorted and no spaces: the form the transcript hash is taken of. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** keccak256 of the transcript's canonical JSON: what governance records. */
export function transcriptHash(transcript: CeremonyTranscript): Hex {
  return keccak256(toUtf8Bytes(canonicalJson(transcript))) as Hex;
}

/** Runs `write(temp)` and renames the temp file to `file` (a crash leaves no half-written zkey behind). */
async function writeAtomically(file: string, write: (temp: string) => Promise<void>): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    await write(temp);
    fs.renameSync(temp, file);
  } finally {
    fs.rmSync(temp, { force: true });
  }
}

/**
 * Starts a ceremony in `dir`: builds the circuit, checks the ptau, copies the R1CS, wasm and ptau into the folder
 * and writes the initial key 0000.zkey and the transcript (no contributions yet).
 */
export async function startCeremony(options: {
  dir: string;
  ptau: string;
  circuit?: string;
  root?: string;
  log?: CeremonyLog;
}): Promise<CeremonyTranscript> {
  const { dir } = options;
  const log = options.log ?? (() => {});
  if (fs.existsSync(path.join(dir, CEREMONY_FILES.transcript))) {
    throw new InputError("a ceremony was already started in this folder", {
      location: { file: dir },
      hint: "contribute to it, or start the new ceremony in an empty folder.",
    });
  }
  log(`Building the circuit ${options.circuit ?? RATING_CIRCUIT}...`);
  const circuit = await buildCeremonyCircuit(options.circuit ?? RATING_CIRCUIT, options.root ?? defaultRoot(), log);
  const { power, needed } = checkPtau(options.ptau, circuit.r1cs);
  log(`Powers of tau: 2^${power}, prepared (the circuit needs 2^${needed}).`);
  fs.mkdirSync(dir, { recursive: true });
  const file = (name: string) => path.join(dir, name);
  fs.copyFileSync(circuit.r1cs, file(CEREMONY_FILES.r1cs));
  fs.copyFileSync(circuit.wasm, file(CEREMONY_FILES.wasm));
  fs.copyFileSync(options.ptau, file(CEREMONY_FILES.ptau));
  log("Writing the initial key 0000.zkey...");
  await writeAtomically(file(zkeyName(0)), async (temp) => {
    const logger = captureLogger();
    const res = await withSnarkjs((s) => s.zKey.newZKey(file(CEREMONY_FILES.r1cs), file(CEREMONY_FILES.ptau), temp, logger));
    if (res === -1 || !fs.existsSync(temp)) throw new InputError(`snarkjs could not create the key: ${logger.errors.join("; ")}`);
  });
  const transcript: CeremonyTranscript = {
    version: 1,
    circuit: circuit.name,
    sourceHash: circuit.sourceHash,
    r1csHash: sha(file(CEREMONY_FILES.r1cs)),
    ptauHash: sha(file(CEREMONY_FILES.ptau)),
    initialZkeyHash: sha(file(zkeyName(0))),
    contributions: [],
  };
  writeTranscript(dir, transcript);
  return transcript;
}

/** The latest zkey of the chain (before the beacon) and the hash the transcript has for it. */
function latestZkey(dir: string, t: CeremonyTranscript): { file: string; hash: Hex; index: number } {
  const last = t.contributions.at(-1);
  const index = last?.index ?? 0;
  return { file: path.join(dir, zkeyName(index)), hash: last?.zkeyHash ?? t.initialZkeyHash, index };
}

/** Refuses when `file` is missing, differs from the transcript's hash, or does not verify against the R1CS and ptau. */
async function checkZkey(dir: string, file: string, expected: Hex): Promise<void> {
  if (!fs.existsSync(file)) throw new InputError("the key is missing from the ceremony folder", { location: { file } });
  if (sha(file) !== expected) {
    throw new InputError("the key is not the one the transcript records (its sha256 differs)", {
      location: { file },
      hint: "restore the ceremony folder's original file; a replaced or corrupted key must not be built on.",
    });
  }
  const logger = captureLogger();
  const r1cs = path.join(dir, CEREMONY_FILES.r1cs);
  const ptau = path.join(dir, CEREMONY_FILES.ptau);
  const ok = await withSnarkjs((s) => s.zKey.verifyFromR1cs(r1cs, ptau, file, logger));
  if (ok !== true) {
    throw new InputError("the key does not verify against the circuit and the powers of tau", {
      location: { file },
      details: logger.errors.join("\n") || undefined,
    });
  }
}

function refuseFinalized(dir: string, t: CeremonyTranscript): void {
  if (t.final) {
    throw new InputError("the ceremony is finalized: it takes no more contributions", {
      location: { file: path.join(dir, CEREMONY_FILES.transcript) },
      hint: "start a new ceremony for a new key.",
    });
  }
}

/**
 * Adds a contribution named `name` on the latest key (after checking it), with 64 bytes of fresh entropy held
 * in memory only, and records it in the transcript.
 */
export async function contributeCeremony(options: { dir: string; name: string; log?: CeremonyLog }): Promise<CeremonyContribution> {
  const { dir, name } = options;
  const log = options.log ?? (() => {});
  const t = readTranscript(dir);
  refuseFinalized(dir, t);
  if (name.trim() === "") throw new InputError("a contribution needs a name", { location: { param: "name" } });
  const latest = latestZkey(dir, t);
  log(`Checking ${path.basename(latest.file)}...`);
  await checkZkey(dir, latest.file, latest.hash);
  const index = latest.index + 1;
  const next = path.join(dir, zkeyName(index));
  log(`Contributing as "${name}" into ${zkeyName(index)}...`);
  let hash: Uint8Array | undefined;
  await writeAtomically(next, async (temp) => {
    hash = await withSnarkjs((s) => s.zKey.contribute(latest.file, temp, name, randomBytes(64).toString("hex")));
  });
  const entry: CeremonyContribution = { index, name, contributionHash: hexOf(hash as Uint8Array), zkeyHash: sha(next), at: now() };
  writeTranscript(dir, { ...t, contributions: [...t.contributions, entry] });
  return entry;
}

/** One checked key of the chain, as `verifyCeremony` reports it. */
export interface VerifiedStep {
  file: string;
  label: string;
  contributionHash?: Hex;
}

/**
 * Checks the whole ceremony folder: the R1CS and ptau against the transcript, then every key of the chain (hash
 * and snarkjs's verifyFromR1cs), and for a finalized one the verification key. Throws InputError at the first
 * mismatch; returns the checked steps.
 */
export async function verifyCeremony(options: { dir: string; log?: CeremonyLog }): Promise<VerifiedStep[]> {
  const { dir } = options;
  const log = options.log ?? (() => {});
  const t = readTranscript(dir);
  for (const [name, expected] of [
    [CEREMONY_FILES.r1cs, t.r1csHash],
    [CEREMONY_FILES.ptau, t.ptauHash],
  ] as const) {
    const file = path.join(dir, name);
    if (!fs.existsSync(file) || sha(file) !== expected) {
      throw new InputError("the file is missing or not the one the transcript records", { location: { file } });
    }
  }
  const steps: (VerifiedStep & { hash: Hex })[] = [
    { file: zkeyName(0), label: "initial key", hash: t.initialZkeyHash },
    ...t.contributions.map((c) => ({
      file: zkeyName(c.index),
      label: `contribution #${c.index} "${c.name}" at ${c.at}`,
      contributionHash: c.contributionHash,
      hash: c.zkeyHash,
    })),
  ];
  if (t.final) {
    const f = t.final;
    steps.push({
      file: CEREMONY_FILES.final,
      label: `beacon ${f.beacon} (2^${f.iterations})`,
      contributionHash: f.contributionHash,
      hash: f.zkeyHash,
    });
  }
  for (const step of steps) {
    log(`Verifying ${step.file}: ${step.label}...`);
    await checkZkey(dir, path.join(dir, step.file), step.hash);
    log(`  ok${step.contributionHash ? `, contribution hash ${step.contributionHash}` : ""}`);
  }
  if (t.final) await checkVerificationKey(dir, t.final);
  return steps.map(({ hash: _hash, ...step }) => step);
}

/** The verification key file equals the final key's export and has the transcript's verificationKeyHash. */
async function checkVerificationKey(dir: string, final: CeremonyFinal): Promise<void> {
  const file = path.join(dir, CEREMONY_FILES.vkey);
  const exported = await withSnarkjs((s) => s.zKey.exportVerificationKey(path.join(dir, CEREMONY_FILES.final)));
  const onDisk = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as SnarkjsVerificationKey) : undefined;
  if (!onDisk || canonicalJson(onDisk) !== canonicalJson(exported) || verificationKeyHash(onDisk) !== final.verificationKeyHash) {
    throw new InputError("the verification key is missing or not the final key's (or its hash is not the transcript's)", {
      location: { file },
    });
  }
}

/** Checks a beacon (hex, 1-64 bytes) and its iteration exponent (10-63, snarkjs's bounds). */
function checkBeacon(beacon: string, iterations: number): Hex {
  if (!/^(0x)?([0-9a-fA-F]{2}){1,64}$/.test(beacon)) {
    throw new InputError("the beacon is not 1 to 64 bytes of hex", {
      location: { param: "beacon" },
      hint: "take a public random value fixed after the last contribution (e.g. a future block hash).",
    });
  }
  if (!Number.isInteger(iterations) || iterations < 10 || iterations > 63) {
    throw new InputError(`the beacon's iteration exponent ${iterations} is not 10-63`, { location: { param: "iterations" } });
  }
  return `0x${beacon.replace(/^0x/, "").toLowerCase()}`;
}

/** Applies the beacon to the latest key into `file` and exports its verification key (not yet written). */
async function applyBeacon(options: {
  dir: string;
  from: string;
  file: string;
  beacon: Hex;
  iterations: number;
}): Promise<{ contributionHash: Hex; vkey: SnarkjsVerificationKey }> {
  let hash: Uint8Array | false = false;
  await writeAtomically(options.file, async (temp) => {
    const logger = captureLogger();
    hash = await withSnarkjs((s) => s.zKey.beacon(options.from, temp, "final beacon", options.beacon.slice(2), options.iterations, logger));
    if (!hash) throw new InputError(`snarkjs refused the beacon: ${logger.errors.join("; ")}`, { location: { param: "beacon" } });
  });
  const vkey = await withSnarkjs((s) => s.zKey.exportVerificationKey(options.file));
  return { contributionHash: hexOf(hash as unknown as Uint8Array), vkey };
}

/**
 * Ends the ceremony: applies the public `beacon` (2^iterations hashing rounds) to the latest key into final.zkey,
 * verifies it, writes verification_key.json and the transcript's final entry. Returns the transcript hash
 * governance records and the verification key's hash the verifier contract reports.
 */
export async function finalizeCeremony(options: {
  dir: string;
  beacon: string;
  iterations: number;
  log?: CeremonyLog;
}): Promise<{ transcript: CeremonyTranscript; transcriptHash: Hex; verificationKeyHash: Hex; vkey: SnarkjsVerificationKey }> {
  const { dir } = options;
  const log = options.log ?? (() => {});
  const beacon = checkBeacon(options.beacon, options.iterations);
  const t = readTranscript(dir);
  refuseFinalized(dir, t);
  const latest = latestZkey(dir, t);
  // The beacon builds on the transcript's latest key; final.zkey's verification below checks the whole chain.
  if (!fs.existsSync(latest.file) || sha(latest.file) !== latest.hash) await checkZkey(dir, latest.file, latest.hash);
  log(`Applying the beacon to ${path.basename(latest.file)} (2^${options.iterations} iterations)...`);
  const file = path.join(dir, CEREMONY_FILES.final);
  const { contributionHash, vkey } = await applyBeacon({ dir, from: latest.file, file, beacon, iterations: options.iterations });
  log("Verifying the final key...");
  const zkeyHash = sha(file);
  await checkZkey(dir, file, zkeyHash);
  writeFileAtomic(path.join(dir, CEREMONY_FILES.vkey), `${JSON.stringify(vkey, null, 2)}\n`);
  const vkHash = verificationKeyHash(vkey);
  const final: CeremonyFinal = {
    beacon,
    iterations: options.iterations,
    contributionHash,
    zkeyHash,
    verificationKeyHash: vkHash,
    at: now(),
  };
  const transcript = { ...t, final };
  writeTranscript(dir, transcript);
  return { transcript, transcriptHash: transcriptHash(transcript), verificationKeyHash: vkHash, vkey };
}

/** The finalized ceremony's verification key; refuses a ceremony that is not finalized. */
export function readFinalVerificationKey(dir: string): { vkey: SnarkjsVerificationKey; transcript: CeremonyTranscript } {
  const transcript = readTranscript(dir);
  const file = path.join(dir, CEREMONY_FILES.vkey);
  if (!transcript.final || !fs.existsSync(file)) {
    throw new InputError("the ceremony is not finalized: it has no verification key yet", {
      location: { file: dir },
      next: { operation: "zk:ceremony:finalize", args: { dir } },
    });
  }
  return { vkey: JSON.parse(fs.readFileSync(file, "utf8")) as SnarkjsVerificationKey, transcript };
}

// ---------------------------------------------------------------------------------------------------
// The deterministic development setup
// ---------------------------------------------------------------------------------------------------

/**
 * The development beacons: public constants, so anyone can rebuild the same keys (NOT for production). Phase 1's
 * is the bytes 0x01..0x1f: a phase-1 file made by hand with `snarkjs powersoftau new bn128 15`, `beacon <it> 10`
 * and `prepare phase2` has the same points, and may be put at .zk/ptau/pot15.ptau to skip the 12 minutes.
 */
export const DEV_PHASE1_BEACON = "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
export const DEV_PHASE2_BEACON = keccak256(toUtf8Bytes("RoamLedger.DevPhase2Beacon.v1")).slice(2);
/** The development beacons' iteration exponent (2^10 rounds, snarkjs's minimum). */
export const DEV_BEACON_ITERATIONS = 10;
/** The power of tau of the development setup (2^15 points: rating-v1 fits). */
export const DEV_PTAU_POWER = 15;
/** The fixed time the development transcript records, so that its hash is the same on every machine. */
const DEV_AT = "1970-01-01T00:00:00.000Z";

/** Step name -> milliseconds, for the development setup's report. */
export type StepTimings = Record<string, number>;

async function timed<T>(timings: StepTimings, step: string, log: CeremonyLog, fn: () => Promise<T>): Promise<T> {
  log(`${step}...`);
  const start = Date.now();
  const result = await fn();
  timings[step] = Date.now() - start;
  log(`${step}: ${(timings[step] / 1000).toFixed(1)} s`);
  return result;
}

/**
 * A snarkjs logger that turns prepare phase 2's debug lines into progress: one line per section (4) and per
 * power of each section's transforms (the largest take most of the time), about 70 lines over the minutes.
 */
function preparationProgress(log: CeremonyLog, power: number): SnarkjsLogger {
  const sections = ["tauG1", "tauG2", "alphaTauG1", "betaTauG1"];
  let last = "";
  const ignore = () => {};
  const debug = (message: string) => {
    const section = /^Starting section: (\w+)/.exec(message);
    if (section) log(`  prepare phase 2: ${section[1]} (${sections.indexOf(section[1]) + 1} of ${sections.length})`);
    const fft = /^(\w+).*: fft (\d+) mix start/.exec(message);
    if (fft && `${fft[1]} ${fft[2]}` !== last) {
      last = `${fft[1]} ${fft[2]}`;
      log(`    ${fft[1]}: 2^${fft[2]} points (up to 2^${power + 1})`);
    }
  };
  return { debug, info: ignore, warn: ignore, error: ignore };
}

/**
 * `<root>/.zk/ptau/pot<power>.ptau`, the development phase 1: a new accumulator, one contribution by a fixed
 * beacon, prepared for phase 2. Built once (atomically), then reused; a prepared file put there is used as is.
 */
export async function ensureDevPtau(options: { power?: number; root?: string; log?: CeremonyLog; timings?: StepTimings }): Promise<string> {
  const power = options.power ?? DEV_PTAU_POWER;
  const file = path.join(options.root ?? defaultRoot(), ".zk", "ptau", `pot${power}.ptau`);
  if (fs.existsSync(file)) return file;
  const log = options.log ?? (() => {});
  const timings = options.timings ?? {};
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temp = (step: string) => `${file}.${step}.${process.pid}.tmp`;
  try {
    await withSnarkjs(async (s) => {
      const curve = await s.curves.getCurveFromName("bn128");
      await timed(timings, "phase 1: new", log, () => s.powersOfTau.newAccumulator(curve, power, temp("new")));
      await timed(timings, "phase 1: beacon", log, () =>
        s.powersOfTau.beacon(temp("new"), temp("beacon"), "dev beacon", DEV_PHASE1_BEACON, DEV_BEACON_ITERATIONS),
      );
      await timed(timings, "phase 1: prepare phase 2", log, () =>
        s.powersOfTau.preparePhase2(temp("beacon"), temp("prepared"), preparationProgress(log, power)),
      );
    });
    fs.renameSync(temp("prepared"), file);
  } finally {
    for (const step of ["new", "beacon", "prepared"]) fs.rmSync(temp(step), { force: true });
  }
  return file;
}

/** The development setup: where it is, its keys and its transcript hash. */
export interface DevCeremony {
  dir: string;
  wasm: string;
  zkey: string;
  vkey: SnarkjsVerificationKey;
  transcriptHash: Hex;
  /** The steps' times in ms (empty when the setup was cached). */
  timings: StepTimings;
}

function cachedDevCeremony(dir: string): DevCeremony | undefined {
  const file = (name: string) => path.join(dir, name);
  if (![CEREMONY_FILES.final, CEREMONY_FILES.vkey, CEREMONY_FILES.wasm, CEREMONY_FILES.transcript].every((f) => fs.existsSync(file(f)))) {
    return undefined;
  }
  const vkey = JSON.parse(fs.readFileSync(file(CEREMONY_FILES.vkey), "utf8")) as SnarkjsVerificationKey;
  const t = readTranscript(dir);
  return { dir, wasm: file(CEREMONY_FILES.wasm), zkey: file(CEREMONY_FILES.final), vkey, transcriptHash: transcriptHash(t), timings: {} };
}

/** Writes the development ceremony of `circuit` with `ptau` into `dir` (a fresh temp folder). */
async function buildDevCeremony(options: { dir: string; circuit: CeremonyCircuit; ptau: string; log: CeremonyLog; timings: StepTimings }) {
  const { dir, circuit, log, timings } = options;
  const file = (name: string) => path.join(dir, name);
  fs.copyFileSync(circuit.r1cs, file(CEREMONY_FILES.r1cs));
  fs.copyFileSync(circuit.wasm, file(CEREMONY_FILES.wasm));
  await timed(timings, "phase 2: zkey new", log, async () => {
    const logger = captureLogger();
    const res = await withSnarkjs((s) => s.zKey.newZKey(file(CEREMONY_FILES.r1cs), options.ptau, file(zkeyName(0)), logger));
    if (res === -1)
      throw new InputError(`snarkjs could not create the key: ${logger.errors.join("; ")}`, { location: { file: options.ptau } });
  });
  const beacon = await timed(timings, "phase 2: beacon contribution", log, () =>
    withSnarkjs((s) =>
      s.zKey.beacon(file(zkeyName(0)), file(CEREMONY_FILES.final), "dev beacon", DEV_PHASE2_BEACON, DEV_BEACON_ITERATIONS),
    ),
  );
  const vkey = await withSnarkjs((s) => s.zKey.exportVerificationKey(file(CEREMONY_FILES.final)));
  writeFileAtomic(file(CEREMONY_FILES.vkey), `${JSON.stringify(vkey, null, 2)}\n`);
  const transcript: CeremonyTranscript = {
    version: 1,
    circuit: circuit.name,
    sourceHash: circuit.sourceHash,
    r1csHash: sha(file(CEREMONY_FILES.r1cs)),
    ptauHash: sha(options.ptau),
    initialZkeyHash: sha(file(zkeyName(0))),
    contributions: [],
    final: {
      beacon: `0x${DEV_PHASE2_BEACON}`,
      iterations: DEV_BEACON_ITERATIONS,
      contributionHash: hexOf(beacon),
      zkeyHash: sha(file(CEREMONY_FILES.final)),
      verificationKeyHash: verificationKeyHash(vkey),
      at: DEV_AT,
    },
  };
  writeTranscript(dir, transcript);
}

/**
 * The DETERMINISTIC development setup of the rating circuit (or `circuit`, a .circom file): phase 1 from
 * `ensureDevPtau` (2^15, or `ptauPower`), a new zkey and one fixed-beacon phase-2 contribution; no randomness, so
 * every machine gets the same keys. Cached in `<root>/.zk/dev/<circuit>-<sourceHash>/`, built in a temp folder
 * and renamed at the end. Its toxic waste is public: never use its key outside development and tests.
 */
export async function ensureDevCeremony(
  options: { onProgress?: CeremonyLog; circuit?: string; root?: string; ptauPower?: number } = {},
): Promise<DevCeremony> {
  const root = options.root ?? defaultRoot();
  const log = options.onProgress ?? (() => {});
  const timings: StepTimings = {};
  const circuit = await timed(timings, "circuit build", log, () => buildCeremonyCircuit(options.circuit ?? RATING_CIRCUIT, root, log));
  const slug = circuit.name.replace(/\.circom$/, "").replace(/[^A-Za-z0-9]+/g, "_");
  const dir = path.join(root, ".zk", "dev", `${slug}-${circuit.sourceHash.slice(0, 16)}`);
  const cached = cachedDevCeremony(dir);
  if (cached) return cached;
  const ptau = await ensureDevPtau({ power: options.ptauPower, root, log, timings });
  checkPtau(ptau, circuit.r1cs);
  const temp = `${dir}.${process.pid}.tmp`;
  fs.rmSync(temp, { recursive: true, force: true });
  fs.mkdirSync(temp, { recursive: true });
  try {
    await buildDevCeremony({ dir: temp, circuit, ptau, log, timings });
    // The same deterministic setup another process completed meanwhile wins; a half one is replaced.
    if (!cachedDevCeremony(dir)) {
      fs.rmSync(dir, { recursive: true, force: true });
      fs.renameSync(temp, dir);
    }
  } finally {
    fs.rmSync(temp, { recursive: true, force: true });
  }
  return { ...(cachedDevCeremony(dir) as DevCeremony), timings };
}
