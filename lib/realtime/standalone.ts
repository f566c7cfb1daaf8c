/**
 * The decision service in a process of its own, without Hardhat: `npx hardhat serve` on a network reached
 * over JSON-RPC (a node, Besu) starts it so. Hardhat's error reporter loads Node's `domain` module, whose
 * async hook and emit wrapper cost every HTTP request about 5 µs (docs/realtime.md, Figures); this process
 * loads only the service, ethers and Fastify. Its configuration comes in ROAMLEDGER_SERVE_CONFIG (JSON,
 * StandaloneConfig); it prints what the task prints and stops on SIGINT or SIGTERM, saving its state.
 * The same from code: `serveStandalone(config, { out })`.
 */
import { JsonRpcProvider, Network } from "ethers";
import type { RoamLedgerAddresses } from "../chain/deployment";
import { connectRoamLedger } from "../chain/client";
import { BaseError } from "../core/errors";
import { formatPlmn } from "../core/plmn";
import { Keystore } from "../keys/keystore";
import type { Hex } from "../util/hex";
import { keystoreEnvelopeOpener } from "./opener";
import { type DecisionService, startDecisionService } from "./service";

export interface StandaloneConfig {
  rpcUrl: string;
  chainId: string;
  addresses: RoamLedgerAddresses;
  /** The member the service decides for (bytes3 hex). */
  self: Hex;
  keystoreRoot: string;
  port: number;
  host: string;
  maxStalenessMs: number;
  /** As given (`10s`), for the messages. */
  maxStalenessText: string;
  pollMs: number;
  stateDir: string;
  fromBlock: number;
  usageRoot?: string;
}

/** What the service says once it answers (both ways of running it). */
export function describeService(
  service: DecisionService,
  how: { self: string; usageRoot?: string; stateDir: string; maxStaleness: string },
): string[] {
  const s = service.follower.cache.sizes();
  const counted = service.counters
    ? `capsLeft from the usage counted under ${how.usageRoot} (${service.counters.homes} home partners so far)`
    : "capsLeft off (--usage none)";
  return [
    `Deciding for ${how.self} on ${service.url}: ${s.devices} devices, ${s.policies} policies, ${service.follower.keys.size} partners' IMSI keys, block ${service.follower.cache.block}.`,
    `${counted}.`,
    `Endpoints: GET ${service.url}/v1/decision?imsi=…&service=data|sms|voice|signalling, POST ${service.url}/v1/decisions (up to 1,000 queries), GET /ready, GET /metrics.`,
    `State in ${how.stateDir}; answers 503 when the cache is over ${how.maxStaleness} behind. Ctrl-C or SIGTERM to stop.`,
  ];
}

/** A line at every tenth of a full load from the chain (this process has no terminal bar). */
function loadProgress(out: (line: string) => void): (done: number, total: number) => void {
  let shown = -1;
  return (done, total) => {
    const tenth = Math.floor((done / Math.max(1, total)) * 10);
    if (tenth === shown) return;
    shown = tenth;
    out(`loading the cache from the chain: ${done.toLocaleString("en-US")} of ${total.toLocaleString("en-US")} blocks`);
  };
}

/** Resolves on the first SIGINT or SIGTERM, leaving no listener behind. */
export function untilStopped(): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = () => {
      process.removeListener("SIGINT", stop);
      process.removeListener("SIGTERM", stop);
      resolve();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}

/** Runs the service on `config` until `stopped` resolves (default: SIGINT or SIGTERM), then saves its state. */
export async function serveStandalone(
  config: StandaloneConfig,
  io: { out: (line: string) => void; stopped?: Promise<void> },
): Promise<void> {
  const network = Network.from(BigInt(config.chainId));
  const provider = new JsonRpcProvider(config.rpcUrl, network, { staticNetwork: network });
  try {
    const client = connectRoamLedger(config.addresses, provider);
    const keystore = new Keystore(config.keystoreRoot);
    const self = formatPlmn(config.self);
    keystore.encryptionKey(self); // a missing key fails here, with its path
    const service = await startDecisionService({
      client,
      provider,
      self: config.self,
      openEnvelope: keystoreEnvelopeOpener(keystore, config.self),
      port: config.port,
      host: config.host,
      maxStalenessMs: config.maxStalenessMs,
      pollMs: config.pollMs,
      stateDir: config.stateDir,
      fromBlock: config.fromBlock,
      usageRoot: config.usageRoot,
      log: io.out,
      onLoadProgress: loadProgress(io.out),
    });
    const how = { self, usageRoot: config.usageRoot, stateDir: config.stateDir, maxStaleness: config.maxStalenessText };
    for (const line of describeService(service, how)) io.out(line);
    await (io.stopped ?? untilStopped());
    await service.close();
    io.out(`Stopped at block ${service.follower.cache.block}; state saved in ${config.stateDir}.`);
  } finally {
    provider.destroy();
  }
}

if (require.main === module) {
  const text = process.env.ROAMLEDGER_SERVE_CONFIG;
  if (!text) {
    console.error("Error: ROAMLEDGER_SERVE_CONFIG is not set: this process is started by `npx hardhat serve` (docs/realtime.md).");
    process.exit(2);
  }
  // Ctrl-C reaches this process twice (from the terminal and passed on by `serve`): once stopping, later
  // signals must not kill it before its state is saved.
  const ignore = () => {};
  const stopped = untilStopped().then(() => {
    process.on("SIGINT", ignore);
    process.on("SIGTERM", ignore);
  });
  serveStandalone(JSON.parse(text) as StandaloneConfig, { out: (line) => console.log(line), stopped }).then(
    () => process.exit(0),
    (err: unknown) => {
      // A BaseError's message is the whole of it: what, details, what to do.
      console.error(err instanceof BaseError ? `Error: ${err.message}` : err);
      process.exit(1);
    },
  );
}
