/**
 * The decision service's side of `npm run bench -- --only serve` (run by scripts/bench/serve.ts as
 * `hardhat run`, in a process of its own): deploys a fleet on the in-process network, starts BR's decision
 * service on it, fills the cache up to SERVE_BENCH_DEVICES devices (the fleet's plus synthetic ones, so the
 * table has its real size), prints `READY <url> <imsis file>` and waits for `DELAY` on stdin to measure the
 * chain-change-to-answer delay (suspensions on chain, polled over HTTP), `CPU` for its CPU time so far (user +
 * system, microseconds), then `STOP`.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { randomBytes } from "node:crypto";
import { PLMN } from "../../test/helpers/fixtures";
import { spawn } from "node:child_process";
import hre from "hardhat";
import { brService, buildFleet, inProcessRpc } from "../../test/helpers/realtime";
import { addressesOf } from "../../test/helpers/fixtures";
import { fixturePrivateKey } from "../../test/helpers/agreement";
import type { StandaloneConfig } from "../../lib/realtime/standalone";
import { plmnNumber } from "../../lib/realtime/chainSync";
import type { DecisionService } from "../../lib/realtime/service";
import { ImsiResolver } from "../../lib/realtime/imsi";

const FLEET = 600;

function fillSynthetic(service: DecisionService, total: number, policyId: number): void {
  const table = service.follower.cache.devices;
  table.reserve(total);
  const id = new Uint8Array(32);
  const home = plmnNumber(PLMN.DE);
  while (table.size < total) {
    id.set(randomBytes(32));
    table.set(table.upsert(id), { home, status: 1, policyVersion: 1, policyId });
  }
}

async function delays(service: DecisionService, fleet: Awaited<ReturnType<typeof buildFleet>>, rounds: number): Promise<number[]> {
  const out: number[] = [];
  const active = [];
  for (const d of fleet.devices) {
    if (d.home === PLMN.DE && (await fleet.c.devices.getDevice(d.id)).status === 1n) active.push(d);
  }
  for (const d of active.slice(0, rounds)) {
    const receipt = await (await fleet.c.devices.connect(fleet.c.de).suspendDevices([d.id], 1)).wait();
    const mined = Date.now();
    for (;;) {
      const body = (await (await fetch(`${service.url}/v1/decision?imsi=${d.imsi}&service=data`)).json()) as {
        reason: string;
        block: number;
      };
      if (body.reason === "device-suspended" && body.block >= (receipt?.blockNumber ?? 0)) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    out.push(Date.now() - mined);
  }
  return out;
}

/** Decisions per second in this process, without HTTP: IMSI to device (cached ids) and the decision. */
function inProcess(service: DecisionService, imsis: { imsi: string; home: string }[], n: number): number {
  const resolver = new ImsiResolver(() => service.follower.keys);
  const cache = service.follower.cache;
  const br = plmnNumber(PLMN.BR);
  const homes = imsis.map((d) => plmnNumber(d.home === "262-01" ? PLMN.DE : PLMN.US));
  const started = process.hrtime.bigint();
  let served = 0;
  for (let i = 0; i < n; i++) {
    const k = i % imsis.length;
    const found = resolver.resolve(cache, imsis[k].imsi, homes[k]);
    if (cache.decide(found.home === undefined ? -1 : found.slot, br, i % 3, cache.blockTime).serve) served++;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return served >= 0 ? Math.round(n / seconds) : 0;
}

/**
 * BR's decision service as `npx hardhat serve` runs it on a node reached over JSON-RPC: in a process of its
 * own without Hardhat (lib/realtime/standalone.ts), here reaching this process's chain through a JSON-RPC
 * endpoint. Its cache holds the fleet only (no synthetic fill: the table's size does not change a look-up).
 */
async function startStandalone(fleet: Awaited<ReturnType<typeof buildFleet>>) {
  const rpc = await inProcessRpc();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "serve-standalone-"));
  fs.mkdirSync(path.join(dir, "keys", "724-05"), { recursive: true });
  fs.writeFileSync(path.join(dir, "keys", "724-05", "encryption.key"), fixturePrivateKey(3));
  const { chainId } = await hre.ethers.provider.getNetwork();
  const config: StandaloneConfig = {
    rpcUrl: rpc.url,
    chainId: String(chainId),
    addresses: await addressesOf(fleet.c),
    self: PLMN.BR,
    keystoreRoot: path.join(dir, "keys"),
    port: 0,
    host: "127.0.0.1",
    maxStalenessMs: 60_000,
    maxStalenessText: "60s",
    pollMs: Number(process.env.SERVE_BENCH_POLL_MS ?? 100),
    stateDir: path.join(dir, "state"),
    fromBlock: 0,
  };
  const root = path.resolve(__dirname, "..", "..");
  const child = spawn(
    process.execPath,
    ["--require", path.join(root, "lib", "realtime", "tsRegister.js"), path.join(root, "lib", "realtime", "standalone.ts")],
    { cwd: root, env: { ...process.env, ROAMLEDGER_SERVE_CONFIG: JSON.stringify(config) }, stdio: ["ignore", "pipe", "inherit"] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stdout });
    rl.on("line", (l) => {
      const m = /^Deciding for \S+ on (\S+):/.exec(l);
      if (m) resolve(m[1]);
    });
    child.once("exit", (code) => reject(new Error(`the standalone service ended (exit code ${code})`)));
  });
  return {
    url,
    pid: child.pid as number,
    async stop() {
      child.kill("SIGTERM");
      if (child.exitCode === null) await new Promise((r) => child.once("exit", r));
      await rpc.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function main() {
  const total = Number(process.env.SERVE_BENCH_DEVICES ?? 1_000_000);
  const fleet = await buildFleet(FLEET, 5);
  const service = await brService(fleet, { pollMs: Number(process.env.SERVE_BENCH_POLL_MS ?? 100), maxStalenessMs: 60_000 });
  fillSynthetic(service, total, Number(fleet.policies.data));
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "serve-bench-")), "imsis.json");
  fs.writeFileSync(file, JSON.stringify(fleet.devices.map((d) => ({ imsi: d.imsi, home: d.home === PLMN.DE ? "262-01" : "310-410" }))));
  process.stdout.write(`READY ${service.url} ${file} ${service.follower.cache.devices.size}\n`);
  const lines = readline.createInterface({ input: process.stdin });
  let standalone: Awaited<ReturnType<typeof startStandalone>> | undefined;
  for await (const line of lines) {
    if (line === "CPU") {
      const u = process.cpuUsage();
      process.stdout.write(`CPU ${u.user + u.system}\n`);
    } else if (line === "INPROC") {
      const imsis = JSON.parse(fs.readFileSync(file, "utf8")) as { imsi: string; home: string }[];
      process.stdout.write(`INPROC ${inProcess(service, imsis, 1_000_000)}\n`);
    } else if (line.startsWith("DELAY")) {
      const ms = await delays(service, fleet, Number(line.split(" ")[1] ?? 10));
      process.stdout.write(`DELAYS ${JSON.stringify(ms)}\n`);
    } else if (line === "STANDALONE") {
      standalone = await startStandalone(fleet);
      process.stdout.write(`STANDALONE ${standalone.url} ${standalone.pid}\n`);
    } else if (line === "STANDALONE_STOP") {
      await standalone?.stop();
      standalone = undefined;
      process.stdout.write("STANDALONE_STOPPED\n");
    } else if (line === "STOP") {
      break;
    }
  }
  await service.close();
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
