import type { HardhatRuntimeEnvironment } from "hardhat/types";

/**
 * Records the gas of every transaction sent through the hardhat network's provider while a task runs,
 * by command (the outermost task: `usage:ingest`, not the subtasks it calls). Installs by wrapping the
 * provider's `send`/`request` and `hre.run`; `uninstall` restores them.
 */
export interface CommandGas {
  command: string;
  transactions: number;
  /** The largest gasUsed of one transaction, and its hash. */
  maxGas: bigint;
  maxTx: string;
}

type Request = (args: { method: string; params?: unknown[] }) => Promise<unknown>;
type Send = (method: string, params?: unknown[]) => Promise<unknown>;
const SENDS = new Set(["eth_sendTransaction", "eth_sendRawTransaction"]);

export class GasRecorder {
  readonly byCommand = new Map<string, CommandGas>();
  private readonly seen = new Set<string>();
  private readonly stack: string[] = [];
  private restore: (() => void)[] = [];

  constructor(private readonly hre: HardhatRuntimeEnvironment) {}

  install(): void {
    const provider = this.hre.network.provider as unknown as { request: Request; send: Send };
    const request = provider.request.bind(provider);
    const send = provider.send.bind(provider);
    provider.request = async (args) => this.after(args.method, await request(args), request);
    provider.send = async (method, params) => this.after(method, await send(method, params), request);
    this.restore.push(() => {
      provider.request = request;
      provider.send = send;
    });
    // Every task runs through hre.run (the tests' calls and the tasks' own subtasks alike).
    const env = this.hre as unknown as { run: (name: unknown, args?: unknown) => Promise<unknown> };
    const run = env.run;
    env.run = async (name, args) => {
      // A fixture's snapshot revert lets a later command send the very same transaction (same nonce, same
      // data, same hash): a hash is only a duplicate (send wrapping request) within one command's run.
      if (this.stack.length === 0) this.seen.clear();
      this.stack.push(typeof name === "string" ? name : JSON.stringify(name));
      try {
        return await run(name, args);
      } finally {
        this.stack.pop();
      }
    };
    this.restore.push(() => {
      env.run = run;
    });
  }

  uninstall(): void {
    for (const r of this.restore.reverse()) r();
    this.restore = [];
  }

  /** The commands' records, largest transaction first. */
  table(): CommandGas[] {
    return [...this.byCommand.values()].sort((a, b) => (b.maxGas > a.maxGas ? 1 : b.maxGas < a.maxGas ? -1 : 0));
  }

  private async after(method: string, result: unknown, request: Request): Promise<unknown> {
    const command = this.stack[0];
    if (!SENDS.has(method) || command === undefined || typeof result !== "string" || this.seen.has(result)) return result;
    this.seen.add(result);
    // Automine: the receipt is there at once; read it now, before a fixture's snapshot revert erases it.
    const receipt = (await request({ method: "eth_getTransactionReceipt", params: [result] })) as { gasUsed: string } | null;
    if (receipt === null) throw new Error(`${command}: no receipt for ${result} (is automine off?)`);
    const gas = BigInt(receipt.gasUsed);
    const entry = this.byCommand.get(command) ?? { command, transactions: 0, maxGas: 0n, maxTx: "" };
    entry.transactions++;
    if (gas > entry.maxGas) {
      entry.maxGas = gas;
      entry.maxTx = result;
    }
    this.byCommand.set(command, entry);
    return result;
  }
}
