import hre from "hardhat";
import type { Provider } from "ethers";
import { createDeviceIdDeriver, type DeviceIdDeriver } from "../../lib/core/imsi";
import { imsiKeyFingerprint, openImsiKey, sealImsiKey } from "../../lib/crypto/envelope";
import { connectRoamLedger } from "../../lib/chain/client";
import { ChainFollower, type FollowerOptions } from "../../lib/realtime/follower";
import { plmnHex, plmnNumber } from "../../lib/realtime/chainSync";
import { startDecisionService, type DecisionService, type DecisionServiceOptions } from "../../lib/realtime/service";
import type { Hex } from "../../lib/util/hex";
import {
  addressesOf,
  agreeDeBrWith,
  type Consortium,
  deployConsortium,
  meterPolicy,
  PLMN,
  simpleTerms,
  testEncryptionKey,
} from "./fixtures";
import { agreeSealed, fixturePrivateKey } from "./agreement";
import { prng } from "./usage";

export { prng };

const DAY = 86_400;
/** Encryption-key seeds of the fixture members (fixtures.carrierRegistryParameters). */
const SEED: Record<string, number> = { [PLMN.DE]: 1, [PLMN.US]: 2, [PLMN.BR]: 3 };

export interface FleetDevice {
  imsi: string;
  id: Hex;
  home: Hex;
}

export interface Fleet {
  c: Consortium;
  devices: FleetDevice[];
  derivers: Record<string, DeviceIdDeriver>;
  /** DE's policy ids by name. */
  policies: Record<string, bigint>;
  start: number;
}

/** The IMSI key of a fixture home (fixed bytes, so ids are stable across runs). */
export function imsiKeyOf(home: Hex): Uint8Array {
  return new Uint8Array(32).fill(SEED[home] * 17);
}

async function defineAll(c: Consortium, start: number): Promise<Record<string, bigint>> {
  const defs: Record<string, ReturnType<typeof meterPolicy>> = {
    data: meterPolicy(PLMN.DE),
    all: meterPolicy(PLMN.DE, { services: 0b111, missionCritical: true, routing: 1 }),
    later: meterPolicy(PLMN.DE, { services: 0b011, validFrom: BigInt(start + 10 * DAY) }),
    expiring: meterPolicy(PLMN.DE, { services: 0b101, validUntil: BigInt(start + 20 * DAY) }),
    usOnly: meterPolicy(PLMN.DE, { services: 0b111, allowedNetworks: [PLMN.US] }),
    brOnly: meterPolicy(PLMN.DE, { services: 0b001, allowedNetworks: [PLMN.BR, PLMN.NEWCOMER] }),
    class2: meterPolicy(PLMN.DE, { tariffClass: 2 }),
  };
  const ids: Record<string, bigint> = {};
  for (const [name, p] of Object.entries(defs)) {
    ids[name] = await c.devices.connect(c.de).definePolicy.staticCall(p);
    await (await c.devices.connect(c.de).definePolicy(p)).wait();
  }
  const us = meterPolicy(PLMN.US, { services: 0b101, routing: 1 });
  ids.us = await c.devices.connect(c.us).definePolicy.staticCall(us);
  await (await c.devices.connect(c.us).definePolicy(us)).wait();
  return ids;
}

/** Shares `home`'s IMSI key with BR (sealed to BR's fixture key). */
export async function shareWithBr(c: Consortium, home: Hex): Promise<void> {
  const signer = home === PLMN.DE ? c.de : c.us;
  const key = imsiKeyOf(home);
  const envelope = sealImsiKey({ imsiKey: key, recipientPublicKey: testEncryptionKey(3) as Hex, home, partner: PLMN.BR });
  await (await c.devices.connect(signer).shareImsiKey(PLMN.BR, envelope, imsiKeyFingerprint(key))).wait();
}

/** BR's opener of the envelopes shared with it. */
export function brOpener(home: Hex, envelope: Hex): Uint8Array {
  return openImsiKey({ envelope, recipientPrivateKey: fixturePrivateKey(3), home, partner: PLMN.BR });
}

/**
 * A fleet: DE and US share their IMSI keys with BR; agreements DE-BR and US-BR (class 1 priced) for a year;
 * DE's policies cover every rule (data only, all services mission-critical with local breakout, not yet valid,
 * expiring, US only, BR only, an unpriced class), US one of its own; `n` devices spread over them.
 */
export async function buildFleet(n: number, seed = 1): Promise<Fleet> {
  const c = await deployConsortium();
  const start = (await hre.ethers.provider.getBlock("latest"))!.timestamp;
  const token = await c.token.getAddress();
  await agreeDeBrWith(c, simpleTerms({ a: PLMN.DE, b: PLMN.BR, from: start, token }));
  await agreeSealed({
    agreements: c.agreements,
    signer: c.us,
    acceptor: c.br,
    proposer: PLMN.US,
    counterparty: PLMN.BR,
    proposerKey: fixturePrivateKey(2),
    terms: simpleTerms({ a: PLMN.US, b: PLMN.BR, from: start, token }),
  });
  const policies = await defineAll(c, start);
  await shareWithBr(c, PLMN.DE);
  await shareWithBr(c, PLMN.US);
  const derivers = {
    [PLMN.DE]: createDeviceIdDeriver(imsiKeyOf(PLMN.DE), PLMN.DE),
    [PLMN.US]: createDeviceIdDeriver(imsiKeyOf(PLMN.US), PLMN.US),
  };
  const rand = prng(seed);
  const dePolicies = ["data", "all", "later", "expiring", "usOnly", "brOnly", "class2"];
  const devices: FleetDevice[] = [];
  const regs: Record<string, { localId: Hex; deviceClass: number; maker: string; policyId: bigint }[]> = { [PLMN.DE]: [], [PLMN.US]: [] };
  for (let i = 0; i < n; i++) {
    const home = rand() < 0.8 ? PLMN.DE : PLMN.US;
    const imsi = `${home === PLMN.DE ? "26201" : "310410"}${String(i).padStart(home === PLMN.DE ? 10 : 9, "0")}`;
    const policy = home === PLMN.DE ? policies[dePolicies[Math.floor(rand() * dePolicies.length)]] : policies.us;
    regs[home].push({ localId: derivers[home].localId(imsi), deviceClass: 0, maker: "0x000000", policyId: policy });
    devices.push({ imsi, id: derivers[home](imsi), home });
  }
  for (const [home, list] of Object.entries(regs)) {
    const signer = home === PLMN.DE ? c.de : c.us;
    for (let i = 0; i < list.length; i += 150) await (await c.devices.connect(signer).registerDevices(list.slice(i, i + 150))).wait();
  }
  return { c, devices, derivers, policies, start };
}

/** Suspensions, BR's flags, fraud confirmations, reinstatements and policy updates on a random part of DE's fleet. */
export async function churn(f: Fleet, seed: number, share = 0.1): Promise<void> {
  const rand = prng(seed);
  const de = f.devices.filter((d) => d.home === PLMN.DE).map((d) => d.id);
  const statuses = (await f.c.devices.getDevices(de)).map((d) => Number(d.status));
  const withStatus = (status: number) => de.filter((_, i) => statuses[i] === status && rand() < share);
  const suspend = withStatus(1);
  if (suspend.length) await (await f.c.devices.connect(f.c.de).suspendDevices(suspend, 1)).wait();
  const flaggable = [];
  for (const id of withStatus(1)
    .filter((id) => !suspend.includes(id))
    .slice(0, 150)) {
    const flag = await f.c.devices.fraudFlag(id, PLMN.BR);
    if (!flag.standing && flag.cooldownUntil === 0n) flaggable.push(id);
  }
  const evidence = (i: number) => hre.ethers.keccak256(hre.ethers.toUtf8Bytes(`${seed}/${i}`));
  if (flaggable.length)
    await (await f.c.devices.connect(f.c.br).flagFraud(flaggable.map((id, i) => ({ id, reason: 1, evidenceHash: evidence(i) })))).wait();
  const confirm = withStatus(1).filter((id) => !suspend.includes(id));
  if (confirm.length) await (await f.c.devices.connect(f.c.de).confirmFraud(confirm)).wait();
  const reinstate = [...withStatus(2), ...withStatus(3)];
  if (reinstate.length) await (await f.c.devices.connect(f.c.de).reinstateDevices(reinstate.slice(0, 400))).wait();
  const update = de.filter(() => rand() < share);
  for (const target of ["all", "usOnly"]) {
    const current = (await f.c.devices.getDevices(update)).map((d) => d.policyId);
    const ids = update.filter((_, i) => current[i] !== f.policies[target]);
    if (ids.length) await (await f.c.devices.connect(f.c.de).updatePolicies(ids.slice(0, 150), f.policies[target])).wait();
  }
}

/** A follower of BR's, on the in-process network. */
export async function brFollower(
  f: Fleet,
  stateDir?: string,
  provider: Provider = hre.ethers.provider,
  more: Partial<FollowerOptions> = {},
): Promise<ChainFollower> {
  const follower = new ChainFollower({
    client: connectRoamLedger(await addressesOf(f.c), provider),
    provider,
    self: plmnNumber(PLMN.BR),
    fromBlock: 0,
    stateDir,
    pollMs: 50,
    openEnvelope: (home, envelope) => brOpener(plmnHex(home), envelope as Hex),
    log: () => {},
    ...more,
  });
  await follower.start();
  return follower;
}

/** BR's decision service on the in-process network (any free port). */
export async function brService(f: Fleet, options: Partial<DecisionServiceOptions> = {}): Promise<DecisionService> {
  return startDecisionService({
    client: connectRoamLedger(await addressesOf(f.c), hre.ethers.provider),
    provider: hre.ethers.provider,
    self: PLMN.BR,
    openEnvelope: brOpener,
    pollMs: 50,
    ...options,
  });
}

/** Steps `follower` until it has applied the chain head. */
export async function catchUp(follower: ChainFollower): Promise<void> {
  while (await follower.step()) {}
  await follower.step();
}

/**
 * A JSON-RPC endpoint over HTTP for the in-process network (single and batched requests), for code that
 * reaches a node by URL (the decision service's own process). Closed by `close`.
 */
export async function inProcessRpc(): Promise<{ url: string; close: () => Promise<void> }> {
  const http = await import("node:http");
  type Call = { id: number | string; method: string; params?: unknown[] };
  const answer = async (call: Call) => {
    try {
      return {
        jsonrpc: "2.0",
        id: call.id,
        result: await hre.network.provider.request({ method: call.method, params: call.params ?? [] }),
      };
    } catch (err) {
      const e = err as { code?: number; message?: string; data?: unknown };
      return { jsonrpc: "2.0", id: call.id, error: { code: e.code ?? -32000, message: e.message ?? String(err), data: e.data } };
    }
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Call | Call[];
      const reply = Array.isArray(body) ? await Promise.all(body.map(answer)) : await answer(body);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(reply));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A provider whose every call fails while `down.on` (a node that went away), else `provider`'s. */
export function flaky(provider: Provider, down: { on: boolean }): Provider {
  return new Proxy(provider, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) =>
        down.on && prop !== "getNetwork" ? Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:8545")) : value.apply(target, args);
    },
  });
}
