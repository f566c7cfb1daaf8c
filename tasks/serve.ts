import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { task, types } from "hardhat/config";
import { deploymentBlock } from "../lib/chain/deploymentBlock";
import { InputError } from "../lib/core/errors";
import { ROLE_BITS } from "../lib/core/enums";
import { parseDuration } from "../lib/dev/clock";
import { keystoreEnvelopeOpener, startDecisionService } from "../lib/realtime";
import { describeService, type StandaloneConfig, untilStopped } from "../lib/realtime/standalone";
import { action, clientFor, keystoreFor, memberOfSigner, out } from "./common";
import { FROM_HELP } from "./cli/args";
import { Progress } from "./cli/progress";

interface ServeArgs {
  port: number;
  host: string;
  maxStaleness: string;
  state?: string;
  poll: number;
  fromBlock?: number;
  keystore?: string;
  usage?: string;
  inProcess: boolean;
  from?: string;
}

/**
 * Runs lib/realtime/standalone.ts in a child process on `config`: its output is this command's, SIGINT and
 * SIGTERM are passed on, and its exit code becomes this command's.
 */
async function runStandalone(config: StandaloneConfig): Promise<void> {
  const entry = path.join(__dirname, "..", "lib", "realtime", `standalone${path.extname(__filename)}`);
  // From the sources: ts-node, registered so that it does not load Node's `domain` (lib/realtime/tsRegister.js).
  const execArgv = entry.endsWith(".ts") ? ["--require", path.join(path.dirname(entry), "tsRegister.js")] : [];
  const child = spawn(process.execPath, [...execArgv, entry], {
    env: { ...process.env, ROAMLEDGER_SERVE_CONFIG: JSON.stringify(config) },
    stdio: "inherit",
  });
  const pass = (signal: NodeJS.Signals) => () => child.kill(signal);
  const onInt = pass("SIGINT");
  const onTerm = pass("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  try {
    const code = await new Promise<number>((resolve, reject) => {
      child.once("error", reject);
      child.once("exit", (c, signal) => resolve(c ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1)));
    });
    if (code !== 0) process.exitCode = code;
  } finally {
    process.removeListener("SIGINT", onInt);
    process.removeListener("SIGTERM", onTerm);
  }
}

task(
  "serve",
  "Runs the policy decision service of your (visited) network's core: GET /v1/decision?imsi=…&service=data|sms|voice|signalling[&home=MCC-MNC] answers serve or refuse (and why), steerable, home-routed or local breakout, tariff class, from a cache of the chain kept current block by block; POST /v1/decisions (a JSON body {queries: [up to 1,000 such queries]}) answers them at once; GET /ready, GET /metrics (Prometheus). Stops on Ctrl-C / SIGTERM, saving its state (docs/realtime.md)",
)
  .addOptionalParam("port", "TCP port to listen on (0: any free one, printed)", 8080, types.int)
  .addOptionalParam("host", "Address to listen on (0.0.0.0 for every interface: put it behind your core's firewall)", "127.0.0.1")
  .addOptionalParam(
    "maxStaleness",
    "Answer 503 instead of a decision once the cache has not been seen equal to the chain head for this long (10s, 1m)",
    "10s",
  )
  .addOptionalParam("state", "Folder of the cache's snapshot, resumed from at the next start (default: <key store>/<your PLMN>/serve)")
  .addOptionalParam("poll", "Seconds between polls of the chain head", 0.25, types.float)
  .addOptionalParam(
    "fromBlock",
    "First block of the deployment, where a full load starts (default: from its Ignition journal, else 0)",
    undefined,
    types.int,
  )
  .addOptionalParam(
    "keystore",
    "Key store folder holding your encryption key, which opens the IMSI keys partners shared (default: the profile's, ROAMLEDGER_HOME or ./.roamledger)",
  )
  .addOptionalParam(
    "usage",
    "Folder whose usage counters (usage/<you>_<home>/state.json, written by usage:ingest and usage:stream) give capsLeft, read again when they change; none: capsLeft is null (default: the key store)",
  )
  .addFlag(
    "inProcess",
    "Run the service inside this Hardhat process (the in-process hardhat network always does); by default, on a network reached over JSON-RPC, it runs in a process of its own, without Hardhat's per-request overhead",
  )
  .addOptionalParam("from", FROM_HELP)
  .setAction(
    action(async (args: ServeArgs, hre) => {
      if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65_535) {
        throw new InputError(`--port ${args.port} is not a TCP port`, { hint: "give a port from 1 to 65535 (0 for any free one)." });
      }
      if (!(args.poll > 0 && args.poll <= 60))
        throw new InputError(`--poll ${args.poll} is out of range`, { hint: "give seconds between 0.01 and 60, e.g. --poll 0.25." });
      if (args.usage !== undefined && args.usage !== "none" && !fs.existsSync(args.usage)) {
        throw new InputError(`--usage ${args.usage}: no such folder`, {
          hint: "give the key store folder usage:ingest and usage:stream write under, or none for no capsLeft.",
        });
      }
      const maxStalenessMs = parseDuration(args.maxStaleness, "--max-staleness") * 1000;
      const client = await clientFor(hre, args.from, { sends: false });
      const self = await memberOfSigner(client, ROLE_BITS.carrier);
      const keystore = keystoreFor(args.keystore);
      keystore.encryptionKey(self.text); // a missing key fails here, with its path, not at the first share
      const { chainId } = await hre.ethers.provider.getNetwork();
      const fromBlock = args.fromBlock ?? deploymentBlock(hre.config.paths.root, chainId)?.block ?? 0;
      const stateDir = path.resolve(args.state ?? path.join(keystore.root, self.text, "serve"));
      const usageRoot = args.usage === "none" ? undefined : path.resolve(args.usage ?? keystore.root);
      const url = (hre.network.config as { url?: string }).url;
      if (url !== undefined && !args.inProcess) {
        // A node reached over JSON-RPC: the service runs in a process of its own, without Hardhat (5 µs a request less).
        const config: StandaloneConfig = {
          rpcUrl: url,
          chainId: String(chainId),
          addresses: client.addresses,
          self: self.plmn,
          keystoreRoot: keystore.root,
          port: args.port,
          host: args.host,
          maxStalenessMs,
          maxStalenessText: args.maxStaleness,
          pollMs: args.poll * 1000,
          stateDir,
          fromBlock,
          usageRoot,
        };
        await runStandalone(config);
        return;
      }
      let progress: Progress | undefined;
      const service = await startDecisionService({
        client,
        provider: hre.ethers.provider,
        self: self.plmn,
        openEnvelope: keystoreEnvelopeOpener(keystore, self.plmn),
        port: args.port,
        host: args.host,
        maxStalenessMs,
        pollMs: args.poll * 1000,
        stateDir,
        fromBlock,
        usageRoot,
        log: (line) => out(line),
        onLoadProgress: (done, total) => {
          progress ??= new Progress({ label: "loading the cache from the chain", total, unit: "blocks" });
          progress.update(done);
        },
      });
      progress?.done();
      for (const line of describeService(service, { self: self.text, usageRoot, stateDir, maxStaleness: args.maxStaleness })) out(line);
      // Both listeners go once either signal came: a SIGINT listener left behind would keep Ctrl-C from
      // killing the process (the task runs in-process under the tests, and in scripts).
      await untilStopped();
      await service.close();
      out(`Stopped at block ${service.follower.cache.block}; state saved in ${stateDir}.`);
    }),
  );
