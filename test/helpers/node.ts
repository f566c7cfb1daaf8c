import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";

/**
 * A separate chain node for the integration tests: anvil from the npm package `@foundry-rs/anvil`,
 * configured like the consortium chain (shanghai, gas price and base fee 0, 500M block gas limit, a
 * block every second) and with Hardhat's default mnemonic, so its accounts are those of
 * `npx hardhat node`. Every child process started here is killed when the tests end, pass or fail,
 * and when the process exits or gets SIGINT/SIGTERM.
 */

/** Hardhat's and anvil's default development mnemonic. */
export const DEV_MNEMONIC = "test test test test test test test test test test test junk";
/** Chain id of the integration node: not 31337, so nothing mistakes it for the in-process network. */
export const INTEGRATION_CHAIN_ID = 31338;
/** The block gas limit of config/base.ts and networks/besu. */
export const INTEGRATION_GAS_LIMIT = 500_000_000;

export interface LocalNode {
  url: string;
  chainId: number;
  stop(): Promise<void>;
}

// ------------------------------------------------------------------ child processes

const children = new Set<ChildProcess>();
const cleanups = new Set<() => void>();
let hooksInstalled = false;

function killAll(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
  children.clear();
  for (const cleanup of cleanups) {
    try {
      cleanup();
    } catch {
      // best effort: the process is going anyway
    }
  }
  cleanups.clear();
}

/** Runs `cleanup` (synchronous) if the process exits or is interrupted first; returns a remover. */
export function atExit(cleanup: () => void): () => void {
  installExitHooks();
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

/** Kill our children when the process goes, however it goes. */
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on("exit", killAll);
  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const) {
    process.on(signal, () => {
      killAll();
      // Our listener replaced Node's default of exiting: exit as the signal would have, unless
      // someone else (a test runner) also listens and decides.
      if (process.listenerCount(signal) === 1) process.exit(code);
    });
  }
}

/** Spawns a child that is killed with this process (see installExitHooks). */
export function spawnTracked(command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  installExitHooks();
  const child = spawn(command, args, options);
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

/** Stops a tracked child: `signal` (SIGTERM), then SIGKILL if it is still there after `graceMs`. */
export async function stopTracked(child: ChildProcess, graceMs = 3000, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Keeps the last `max` characters of a stream (for error messages), so the pipe never fills up. */
export function tail(stream: NodeJS.ReadableStream | null, max = 8192): () => string {
  let text = "";
  stream?.setEncoding("utf8");
  stream?.on("data", (chunk: string) => {
    text = (text + chunk).slice(-max);
  });
  return () => text;
}

// ------------------------------------------------------------------ anvil

/** The anvil binary: the platform package's, else the package's launcher script, else `anvil` on PATH. */
export function anvilCommand(): { command: string; args: string[] } {
  const arch = process.arch === "x64" ? "amd64" : process.arch;
  const exe = process.platform === "win32" ? "anvil.exe" : "anvil";
  try {
    const pkg = require.resolve(`@foundry-rs/anvil-${process.platform}-${arch}/package.json`);
    const bin = path.join(path.dirname(pkg), "bin", exe);
    if (fs.existsSync(bin)) return { command: bin, args: [] };
  } catch {
    // not installed for this platform: try the launcher
  }
  try {
    const launcher = path.join(path.dirname(require.resolve("@foundry-rs/anvil/package.json")), "bin.mjs");
    if (fs.existsSync(launcher)) return { command: process.execPath, args: [launcher] };
  } catch {
    // not installed at all: try PATH
  }
  return { command: "anvil", args: [] };
}

/** A TCP port free on the loopback interface right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** One JSON-RPC call over HTTP. */
export async function rpc<T>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await response.json()) as { result?: T; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result as T;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An anvil this process started: its URL and port, the process, its last output, and how to stop it. */
export interface AnvilNode extends LocalNode {
  port: number;
  child: ChildProcess;
  output(): string;
  /** Sends `signal` (SIGTERM: anvil dumps its state first when started with one) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface AnvilOptions {
  chainId: number;
  /** Default: a free one. */
  port?: number;
  /** Accounts of the dev mnemonic that anvil funds. */
  accounts: number;
  /** Mining and state flags (`--block-time 1`, `--no-mining`, `--state file`, ...). */
  flags: readonly string[];
  /** How long `stop` waits for anvil to exit before it kills it (dumping a large state takes a while). */
  stopGraceMs?: number;
}

/** Waits until the node answers `eth_chainId` with `chainId`, for 30 s at most. */
async function waitForAnvil(child: ChildProcess, url: string, chainId: number, describe: () => string): Promise<void> {
  let spawnError: Error | undefined;
  child.once("error", (err) => {
    spawnError = err;
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (spawnError || child.exitCode !== null) {
      throw new Error(
        `anvil did not start: ${spawnError?.message ?? `exit code ${child.exitCode}`}; install it with npm ci (@foundry-rs/anvil) or put anvil on PATH\n${describe()}`,
      );
    }
    let answered: number | undefined;
    try {
      answered = Number(await rpc<string>(url, "eth_chainId"));
    } catch {
      if (Date.now() > deadline) throw new Error(`anvil did not answer on ${url} within 30 s\n${describe()}`);
      await sleep(50);
      continue;
    }
    if (answered !== chainId) throw new Error(`anvil answers chain id ${answered}, expected ${chainId}`);
    return;
  }
}

/**
 * Starts anvil on the loopback interface, configured like the consortium chain (shanghai, gas price and
 * base fee 0, 500M block gas limit, the dev mnemonic) and with `flags` for mining and state, and waits
 * until it answers. The one place the tests and benchmarks start anvil.
 */
export async function launchAnvil(options: AnvilOptions): Promise<AnvilNode> {
  const { chainId } = options;
  const port = options.port ?? (await freePort());
  const { command, args } = anvilCommand();
  const child = spawnTracked(
    command,
    [
      ...args,
      ...["--host", "127.0.0.1", "--port", String(port), "--chain-id", String(chainId), "--hardfork", "shanghai"],
      ...["--gas-price", "0", "--base-fee", "0", "--gas-limit", String(INTEGRATION_GAS_LIMIT)],
      ...["--mnemonic", DEV_MNEMONIC, "--accounts", String(options.accounts)],
      ...options.flags,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const out = tail(child.stdout);
  const err = tail(child.stderr);
  const output = () => err() + out();
  const stop = (signal: NodeJS.Signals = "SIGTERM") => stopTracked(child, options.stopGraceMs ?? 3000, signal);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForAnvil(child, url, chainId, () => `${command} ${args.join(" ")}\n${output()}`);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, port, chainId, child, output, stop };
}

/**
 * Starts anvil for the integration tests on a free loopback port (10 accounts) and waits until it
 * answers. `blockTime` is in seconds (1 by default); 0 mines each transaction as it arrives (automine).
 */
export function startAnvil(options: { chainId?: number; blockTime?: number } = {}): Promise<AnvilNode> {
  return launchAnvil({
    chainId: options.chainId ?? INTEGRATION_CHAIN_ID,
    accounts: 10,
    flags: options.blockTime === 0 ? [] : ["--block-time", String(options.blockTime ?? 1)],
  });
}
