import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import hre from "hardhat";
import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { fixturePrivateKey } from "../../helpers/agreement";
import { freePort } from "../../helpers/node";
import { buildFleet, inProcessRpc } from "../../helpers/realtime";
import { FROM, failureOf, useDeploymentForTasks } from "../../helpers/tasks";

/** BR's encryption key in the tasks' key store (`dir`/keys). */
function writeBrKey(dir: string): void {
  const keyFile = path.join(dir, "keys", "724-05", "encryption.key");
  fs.mkdirSync(path.dirname(keyFile), { recursive: true });
  fs.writeFileSync(keyFile, fixturePrivateKey(3));
}

/** True once GET /ready on `port` answers 200, polling every `everyMs` up to `tries` times. */
async function becomesReady(port: number, tries: number, everyMs: number): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    const ready = await fetch(`http://127.0.0.1:${port}/ready`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) return true;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return false;
}

describe("task serve", function () {
  this.timeout(120_000);
  let env: { dir: string; cleanup: () => void };

  async function fleetFixture() {
    return buildFleet(20, 2);
  }

  beforeEach(async () => {
    env = await useDeploymentForTasks((await loadFixture(fleetFixture)).c);
  });
  afterEach(() => env.cleanup());

  it("refuses a bad port, a bad staleness bound and a key store without the member's encryption key, saying what to do", async function () {
    expect(await failureOf(hre.run("serve", { port: 70_000, from: FROM.br }))).to.match(/--port 70000 is not a TCP port[\s\S]*1 to 65535/);
    expect(await failureOf(hre.run("serve", { maxStaleness: "soon", from: FROM.br }))).to.match(/--max-staleness "soon" is not a duration/);
    expect(await failureOf(hre.run("serve", { usage: "/no/such/usage", from: FROM.br }))).to.match(
      /--usage \/no\/such\/usage: no such folder[\s\S]*none for no capsLeft/,
    );
    expect(await failureOf(hre.run("serve", { port: 0, from: FROM.br }))).to.match(/encryption.key does not exist/);
  });

  it("says when the port is taken instead of failing with a stack trace", async function () {
    writeBrKey(env.dir);
    const server = net.createServer().listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    const port = (server.address() as net.AddressInfo).port;
    try {
      expect(await failureOf(hre.run("serve", { port, from: FROM.br, state: path.join(env.dir, "state") }))).to.match(
        /Cannot listen on 127.0.0.1:\d+ \(EADDRINUSE\)[\s\S]*choose another --port/,
      );
    } finally {
      server.close();
    }
  });

  it("serves BR's decisions until SIGTERM, then saves its state", async function () {
    const f = await loadFixture(fleetFixture);
    writeBrKey(env.dir);
    const port = await freePort();
    const state = path.join(env.dir, "state");
    const listeners = () => [process.listenerCount("SIGINT"), process.listenerCount("SIGTERM")];
    const before = listeners();
    const running = hre.run("serve", { port, from: FROM.br, state, maxStaleness: "5s", poll: 0.05 });
    expect(await becomesReady(port, 200, 50)).to.equal(true);
    const d = f.devices[0];
    const body = (await (await fetch(`http://127.0.0.1:${port}/v1/decision?imsi=${d.imsi}&service=sms`)).json()) as Record<string, unknown>;
    expect(body.block).to.equal(await hre.ethers.provider.getBlockNumber());
    expect(body.reason).to.be.a("string");
    process.emit("SIGTERM");
    await running;
    expect(listeners(), "the stopped service leaves no signal listener behind").to.deep.equal(before);
    expect(fs.existsSync(path.join(state, "state.json"))).to.equal(true);
  });

  it("on a node reached over JSON-RPC it runs the service in a process of its own (no Hardhat), passing SIGTERM on and saving its state", async function () {
    const f = await loadFixture(fleetFixture);
    writeBrKey(env.dir);
    const rpc = await inProcessRpc();
    const config = hre.network.config as { url?: string };
    const port = await freePort();
    const state = path.join(env.dir, "state");
    const listeners = () => [process.listenerCount("SIGINT"), process.listenerCount("SIGTERM")];
    const before = listeners();
    // The task sees a network with a URL, as --network localhost or besu; the chain stays the in-process one.
    config.url = rpc.url;
    try {
      const running = hre.run("serve", { port, from: FROM.br, state, maxStaleness: "5s", poll: 0.05 });
      expect(await becomesReady(port, 300, 100), "the child process answers /ready").to.equal(true);
      const d = f.devices[0];
      const body = (await (await fetch(`http://127.0.0.1:${port}/v1/decision?imsi=${d.imsi}&service=sms`)).json()) as Record<
        string,
        unknown
      >;
      expect(body.block).to.equal(await hre.ethers.provider.getBlockNumber());
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).to.match(/roamledger_cache_devices \d+/);
      process.emit("SIGTERM");
      await running;
      expect(process.exitCode ?? 0, "the child stopped cleanly").to.equal(0);
      expect(listeners(), "no signal listener left behind").to.deep.equal(before);
      expect(fs.existsSync(path.join(state, "state.json")), "the child saved its state").to.equal(true);
      expect(
        await fetch(`http://127.0.0.1:${port}/ready`).then(
          () => "up",
          () => "down",
        ),
      ).to.equal("down");
    } finally {
      delete config.url;
      await rpc.close();
    }
  });
});
