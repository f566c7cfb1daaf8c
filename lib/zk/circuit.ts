/**
 * Builds circuits/rating_v1.circom with circom2 (circom compiled to WebAssembly, from node_modules) into
 * `.zk/build/rating_v1-<12 hex of the source's sha256>/`, once per source: a later call finds the folder and
 * skips the ~30 s compile. The compile writes to a temporary folder renamed into place when complete, so a
 * killed compile never leaves a half cache.
 */
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { stripVTControlCharacters } from "node:util";
import { ConfigError } from "../core/errors";

/** The circuit's name: its file in circuits/ and its outputs. */
const CIRCUIT = "rating_v1";

/** A compiled circuit: its constraint system and the witness calculator. */
export interface RatingCircuitBuild {
  /** The constraint system (.r1cs). */
  r1cs: string;
  /** The witness calculator (.wasm), for snarkjs wtns.calculate / groth16.fullProve. */
  wasm: string;
  /** Constraints (all non-linear after circom's --O2). */
  constraints: number;
  /** sha256 of the circuit source, hex. */
  sourceHash: string;
}

export interface BuildRatingCircuitOptions {
  /** The repository root (holds circuits/, node_modules/ and .zk/); found from this file by default. */
  root?: string;
  /** Called with a line of progress (the compile takes ~30 s). */
  onProgress?: (msg: string) => void;
}

/** The repository root: lib/zk/ is two levels below it. */
const defaultRoot = (): string => path.resolve(__dirname, "..", "..");

/** Constraints in an .r1cs file's header section (iden3 r1cs format, section type 1). */
export function r1csConstraints(file: string): number {
  const buf = fs.readFileSync(file);
  if (buf.toString("latin1", 0, 4) !== "r1cs") {
    throw new ConfigError(`${file} is not an r1cs file`, { hint: "delete the build folder to compile the circuit again." });
  }
  const sections = buf.readUInt32LE(8);
  let offset = 12;
  for (let i = 0; i < sections; i++) {
    const type = buf.readUInt32LE(offset);
    const size = Number(buf.readBigUInt64LE(offset + 4));
    const start = offset + 12;
    if (type === 1) {
      const n8 = buf.readUInt32LE(start);
      // n8, prime, nWires, nPubOut, nPubIn, nPrvIn (u32 each), nLabels (u64), then mConstraints (u32).
      return buf.readUInt32LE(start + 4 + n8 + 16 + 8);
    }
    offset = start + size;
  }
  throw new ConfigError(`${file} has no header section`, { hint: "delete the build folder to compile the circuit again." });
}

function buildFiles(dir: string): { r1cs: string; wasm: string } {
  return { r1cs: path.join(dir, `${CIRCUIT}.r1cs`), wasm: path.join(dir, `${CIRCUIT}_js`, `${CIRCUIT}.wasm`) };
}

const isComplete = (dir: string): boolean => Object.values(buildFiles(dir)).every((f) => fs.existsSync(f));

/**
 * Runs circom2 on `source` into `outDir`. circom2 runs under WASI, which does not follow the symlinked
 * node_modules of a worktree: every path is passed resolved, relative to the file-system root it runs in.
 */
function runCircom(root: string, source: string, outDir: string): Promise<void> {
  const nodeModules = fs.realpathSync(path.join(root, "node_modules"));
  const cli = path.join(nodeModules, "circom2", "cli.js");
  const args = [cli, fs.realpathSync(source), "--r1cs", "--wasm", "--O2", "-l", nodeModules, "-o", fs.realpathSync(outDir)];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: path.parse(outDir).root, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) return resolve();
      reject(
        new ConfigError(`circom2 could not compile ${path.basename(source)} (exit ${code})`, {
          details: stripVTControlCharacters(output).trim().slice(-4000),
          hint: "check that circom2 and circomlib are installed (npm ci) and the circuit source is intact.",
        }),
      );
    });
  });
}

/** Renames the complete `temp` build to `dir`; a complete `dir` another process built meanwhile wins. */
function moveIntoPlace(temp: string, dir: string): void {
  if (!isComplete(dir)) fs.rmSync(dir, { recursive: true, force: true });
  try {
    fs.renameSync(temp, dir);
  } catch (error) {
    if (!isComplete(dir)) throw error;
  }
}

/**
 * Compiles circuits/rating_v1.circom (r1cs and witness wasm, --O2) into
 * `.zk/build/rating_v1-<12 hex of sha256(source)>/`, or returns that folder's files when it is complete.
 */
export async function buildRatingCircuit(opts: BuildRatingCircuitOptions = {}): Promise<RatingCircuitBuild> {
  const root = opts.root ?? defaultRoot();
  const source = path.join(root, "circuits", `${CIRCUIT}.circom`);
  const sourceHash = createHash("sha256").update(fs.readFileSync(source)).digest("hex");
  const buildRoot = path.join(root, ".zk", "build");
  const dir = path.join(buildRoot, `${CIRCUIT}-${sourceHash.slice(0, 12)}`);
  if (isComplete(dir)) {
    opts.onProgress?.(`circuit ${path.relative(root, dir)} is built`);
  } else {
    const temp = path.join(buildRoot, `.${CIRCUIT}-${sourceHash.slice(0, 12)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
    fs.mkdirSync(temp, { recursive: true });
    try {
      opts.onProgress?.(`compiling circuits/${CIRCUIT}.circom with circom2 (about 30 s)`);
      await runCircom(root, source, temp);
      moveIntoPlace(temp, dir);
      opts.onProgress?.(`circuit built into ${path.relative(root, dir)}`);
    } finally {
      fs.rmSync(temp, { recursive: true, force: true });
    }
  }
  const files = buildFiles(dir);
  return { ...files, constraints: r1csConstraints(files.r1cs), sourceHash };
}
