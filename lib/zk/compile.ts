/**
 * Compiles a circom file (circom 2 as WebAssembly, the `circom2` package) into its R1CS and witness wasm, cached by
 * the source's hash under `.zk/build/`. The ceremony uses it for a circuit given by file (the toy circuit of the
 * tests); the rating circuit has its own builder (lib/zk/circuit.ts).
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { InputError } from "../core/errors";

/** A compiled circuit: where its R1CS and wasm are, and the hash of its source. */
export interface CompiledCircuit {
  r1cs: string;
  wasm: string;
  /** sha256 of the source file, hex without 0x (names the cache folder). */
  sourceHash: string;
}

/** sha256 of a file's bytes, hex without 0x. */
export function sha256File(file: string): string {
  const hash = createHash("sha256");
  const fd = fs.openSync(file, "r");
  try {
    const buf = Buffer.alloc(1 << 20);
    for (let n = fs.readSync(fd, buf); n > 0; n = fs.readSync(fd, buf)) hash.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest("hex");
}

/**
 * Compiles `source` (a .circom file; circomlib's circuits are on the include path) into
 * `<buildRoot>/<name>-<sourceHash>/`, or returns that build when it exists.
 */
export function compileCircom(source: string, options: { buildRoot: string }): CompiledCircuit {
  if (!fs.existsSync(source) || !source.endsWith(".circom")) {
    throw new InputError("no such circom file", { location: { file: source }, hint: "name a .circom file that exists." });
  }
  const name = path.basename(source, ".circom");
  const sourceHash = sha256File(source);
  const dir = path.join(options.buildRoot, `${name}-${sourceHash.slice(0, 16)}`);
  const built: CompiledCircuit = { r1cs: path.join(dir, `${name}.r1cs`), wasm: path.join(dir, `${name}_js`, `${name}.wasm`), sourceHash };
  if (fs.existsSync(built.r1cs) && fs.existsSync(built.wasm)) return built;
  const temp = `${dir}.${process.pid}.tmp`;
  fs.rmSync(temp, { recursive: true, force: true });
  fs.mkdirSync(temp, { recursive: true });
  const cli = require.resolve("circom2/cli.js");
  const includes = path.dirname(path.dirname(require.resolve("circomlib/package.json")));
  try {
    execFileSync(process.execPath, [cli, "--r1cs", "--wasm", "-l", includes, "-o", temp, source], { stdio: "pipe" });
  } catch (err) {
    fs.rmSync(temp, { recursive: true, force: true });
    const stderr = String((err as { stderr?: Buffer }).stderr ?? "");
    throw new InputError("the circuit does not compile", { location: { file: source }, details: stderr.trim(), cause: err });
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(temp, dir);
  return built;
}
