import { ConfigError, InputError } from "../core/errors";

/** Chain ids of development nodes whose clock may be moved: Hardhat's and anvil's (31337), and 1337. */
export const DEV_CHAIN_IDS: readonly number[] = [31337, 1337];

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** "35d", "12h", "90m", "30s" (or a plain number of seconds) in seconds; an InputError naming `param` otherwise. */
export function parseDuration(text: string, param: string): number {
  const match = /^\s*(\d+)\s*([smhd]?)\s*$/i.exec(text);
  const seconds = match ? Number(match[1]) * UNITS[(match[2] || "s").toLowerCase()] : Number.NaN;
  if (!Number.isSafeInteger(seconds) || seconds <= 0) {
    throw new InputError(`${param} ${JSON.stringify(text)} is not a duration`, {
      hint: `give a positive whole number with a unit, s, m, h or d: ${param} 35d, ${param} 12h.`,
    });
  }
  return seconds;
}

/** What the clock needs of a provider (ethers' JsonRpcProvider, Hardhat's provider). */
export interface DevClockProvider {
  getNetwork(): Promise<{ chainId: bigint }>;
  getBlock(tag: "latest"): Promise<{ timestamp: number; number: number } | null>;
  send(method: string, params: unknown[]): Promise<unknown>;
}

/** The chain's clock before and after, and the block mined with the new time. */
export interface ClockMove {
  before: number;
  after: number;
  block: number;
}

/**
 * Moves a development chain's clock `seconds` forward (evm_increaseTime, then evm_mine so that the next
 * reads see it). Refused, before anything is sent, on a chain id that is not a development one: a
 * consortium chain (Besu) keeps real time and would refuse the call anyway, or worse, a node that accepts
 * it is not one whose time should be moved.
 */
export async function advanceDevClock(provider: DevClockProvider, network: string, seconds: number): Promise<ClockMove> {
  const chainId = Number((await provider.getNetwork()).chainId);
  if (!DEV_CHAIN_IDS.includes(chainId)) {
    throw new ConfigError(`network ${network} (chain id ${chainId}) is not a development chain: its clock cannot be moved`, {
      details: `dev:time works only on chain ids ${DEV_CHAIN_IDS.join(" and ")} (the in-process hardhat network, npx hardhat node, anvil).`,
      hint: "on a consortium chain wait for the time to come; for a rehearsal run a local node (npx hardhat node) and pass --network localhost.",
    });
  }
  const before = (await provider.getBlock("latest"))?.timestamp ?? 0;
  await provider.send("evm_increaseTime", [seconds]);
  await provider.send("evm_mine", []);
  const latest = await provider.getBlock("latest");
  if (!latest) throw new ConfigError(`network ${network} returned no latest block after evm_mine`);
  return { before, after: latest.timestamp, block: latest.number };
}
