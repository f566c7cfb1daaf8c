import hre from "hardhat";
import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { formatPlmn } from "../../../lib/core/plmn";
import { ConfigError, InputError } from "../../../lib/core/errors";
import { DecisionClient, type DecisionQuery, DecisionUnavailable, queryProblem } from "../../../lib/realtime/client";
import type { DecisionService } from "../../../lib/realtime/service";
import { brService, buildFleet, flaky } from "../../helpers/realtime";

/** The service's answer to one GET, without `time` (the second it was asked). */
async function single(service: DecisionService, q: DecisionQuery): Promise<Record<string, unknown>> {
  const params = new URLSearchParams({ imsi: q.imsi, service: q.service, ...(q.home ? { home: q.home } : {}) });
  const { time: _time, ...rest } = (await (await fetch(`${service.url}/v1/decision?${params}`)).json()) as Record<string, unknown>;
  return rest;
}

function metric(text: string, name: string): number {
  const m = new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, "m").exec(text);
  return m ? Number(m[1]) : Number.NaN;
}

describe("realtime: DecisionClient (queries gathered into POST /v1/decisions)", function () {
  this.timeout(120_000);
  let service: DecisionService | undefined;
  let client: DecisionClient | undefined;

  async function fleetFixture() {
    return buildFleet(60, 3);
  }

  afterEach(async () => {
    await client?.close();
    client = undefined;
    await service?.close();
    service = undefined;
  });

  it("answers concurrent queries in few requests, each answer equal to GET /v1/decision's", async function () {
    const f = await loadFixture(fleetFixture);
    service = await brService(f);
    client = new DecisionClient({ url: service.url, maxWaitMs: 5, maxBatch: 50 });
    const queries: DecisionQuery[] = f.devices.flatMap((d, i) =>
      (["data", "sms", "voice", "signalling"] as const).map((service) => ({
        imsi: d.imsi,
        service,
        ...(i % 2 ? { home: formatPlmn(d.home) } : {}),
      })),
    );
    queries.push({ imsi: "262019999999999", service: "data" });
    const answers = await Promise.all(queries.map((q) => client!.decide(q)));
    // 241 queries asked at once: full batches of 50 and the rest, never one request each
    expect(client.stats).to.deep.equal({ requests: Math.ceil(queries.length / 50), answered: queries.length, failed: 0 });
    for (const [i, q] of queries.entries()) {
      const { time: _time, ...answer } = answers[i] as unknown as Record<string, unknown>;
      expect(answer, JSON.stringify(q)).to.deep.equal(await single(service, q));
    }
    expect(answers.at(-1)).to.deep.include({ serve: false, reason: "unknown-device" });
    const text = await (await fetch(`${service.url}/metrics`)).text();
    expect(metric(text, "roamledger_decision_batch_seconds_count")).to.equal(client.stats.requests);
  });

  it("keeps at most maxInFlight requests out; queries asked meanwhile go in the next ones", async function () {
    const f = await loadFixture(fleetFixture);
    service = await brService(f);
    client = new DecisionClient({ url: service.url, maxWaitMs: 0, maxBatch: 7, maxInFlight: 1 });
    let peak = 0;
    let out = 0;
    const hooked = service.app.server;
    hooked.on("request", (_req, res) => {
      peak = Math.max(peak, ++out);
      res.on("finish", () => out--);
    });
    const d = f.devices[0];
    // one at a time (a slot free each time): each goes at once, alone, with no timer to wait for
    for (let i = 0; i < 3; i++) await client.decide({ imsi: d.imsi, service: "sms" });
    expect(client.stats.requests).to.equal(3);
    client.stats.requests = 0;
    client.stats.answered = 0;
    const answers = await Promise.all(Array.from({ length: 100 }, () => client!.decide({ imsi: d.imsi, service: "data" })));
    expect(answers.every((a) => a.reason === answers[0].reason)).to.equal(true);
    expect(peak).to.equal(1);
    expect(client.stats.requests).to.be.within(Math.ceil(100 / 7), 100);
    expect(client.stats.answered).to.equal(100);
  });

  it("refuses a bad query alone, before sending it; the others asked with it are answered", async function () {
    const f = await loadFixture(fleetFixture);
    service = await brService(f);
    client = new DecisionClient({ url: service.url, maxWaitMs: 5 });
    const good = { imsi: f.devices[0].imsi, service: "data" as const };
    const bad: [unknown, RegExp][] = [
      [{ imsi: "26201", service: "data" }, /imsi "26201" must be the 15 digits of an IMSI/],
      [{ imsi: good.imsi, service: "video" }, /service "video" must be one of data, sms, voice, signalling/],
      [{ ...good, home: "DE" }, /home "DE" must be the home network's MCC-MNC/],
      [{ ...good, home: "000-01" }, /home 000-01 is not a PLMN/],
      [{ ...good, apn: "iot" }, /apn is not a field of a query/],
      [null, /imsi undefined must be/],
    ];
    const settled = await Promise.allSettled([
      client.decide(good),
      ...bad.map(([q]) => client!.decide(q as DecisionQuery)),
      client.decide(good),
    ]);
    expect(settled[0].status).to.equal("fulfilled");
    expect(settled.at(-1)?.status).to.equal("fulfilled");
    for (const [i, [, message]] of bad.entries()) {
      const r = settled[i + 1];
      expect(r.status).to.equal("rejected");
      const reason = (r as PromiseRejectedResult).reason;
      expect(reason).to.be.instanceOf(InputError);
      expect(String(reason.message)).to.match(message);
    }
    expect(client.stats).to.deep.equal({ requests: 1, answered: 2, failed: 0 });
    expect(queryProblem(good)).to.equal(undefined);
  });

  it("rejects with DecisionUnavailable: stale (the service's 503, with its why) and unreachable (no service)", async function () {
    const f = await loadFixture(fleetFixture);
    const down = { on: false };
    service = await brService(f, { provider: flaky(hre.ethers.provider, down), maxStalenessMs: 300, pollMs: 50 });
    client = new DecisionClient({ url: service.url, maxWaitMs: 1 });
    const q = { imsi: f.devices[0].imsi, service: "data" as const };
    await client.decide(q);
    down.on = true;
    await new Promise((r) => setTimeout(r, 600));
    const stale = await client.decide(q).catch((e: unknown) => e);
    expect(stale).to.be.instanceOf(DecisionUnavailable);
    expect((stale as DecisionUnavailable).kind).to.equal("stale");
    expect((stale as Error).message).to.match(/cache is stale: the cache was last equal to the chain head .* over the bound of 0.3 s/);
    expect((stale as Error).message).to.match(/What to do: apply the core's fallback policy/);
    down.on = false;
    const url = service.url;
    await service.close();
    service = undefined;
    const gone = new DecisionClient({ url, timeoutMs: 500 });
    const unreachable = await gone.decide(q).catch((e: unknown) => e);
    expect(unreachable).to.be.instanceOf(DecisionUnavailable);
    expect((unreachable as DecisionUnavailable).kind).to.equal("unreachable");
    expect((unreachable as Error).message).to.match(/unreachable/);
    expect(gone.stats).to.deep.equal({ requests: 1, answered: 0, failed: 1 });
    await gone.close();
  });

  it("a service that does not answer within timeoutMs fails the request's queries as unreachable, and the client goes on", async function () {
    const http = await import("node:http");
    let held = 0;
    const silent = http.createServer(() => {
      held++; // never answers
    });
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const c = new DecisionClient({ url: `http://127.0.0.1:${(silent.address() as { port: number }).port}`, timeoutMs: 200 });
    try {
      const started = Date.now();
      const results = await Promise.allSettled([1, 2, 3].map(() => c.decide({ imsi: "262011234567890", service: "data" })));
      expect(Date.now() - started).to.be.within(150, 2000);
      for (const r of results) {
        expect(r.status).to.equal("rejected");
        const e = (r as PromiseRejectedResult).reason as DecisionUnavailable;
        expect([e.kind, e.message]).to.satisfy(([k, m]: [string, string]) => k === "unreachable" && /no answer within 200 ms/.test(m));
      }
      expect(held).to.equal(1); // the three went in one request
      expect(c.stats).to.deep.equal({ requests: 1, answered: 0, failed: 3 });
    } finally {
      await c.close();
      silent.closeAllConnections();
      await new Promise((r) => silent.close(r));
    }
  });

  it("any other status fails the request's queries as refused, with the service's words and what to do", async function () {
    const http = await import("node:http");
    const broken = http.createServer((_req, res) => {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "boom" }));
    });
    await new Promise<void>((r) => broken.listen(0, "127.0.0.1", r));
    const c = new DecisionClient({ url: `http://127.0.0.1:${(broken.address() as { port: number }).port}` });
    try {
      const e = (await c.decide({ imsi: "262011234567890", service: "data" }).catch((err: unknown) => err)) as DecisionUnavailable;
      expect(e).to.be.instanceOf(DecisionUnavailable);
      expect(e.kind).to.equal("refused");
      expect(e.message).to.match(/the decision service answered 500: boom/);
      expect(e.message).to.match(/What to do: .*a 5xx: the service's log says why/);
    } finally {
      await c.close();
      await new Promise((r) => broken.close(r));
    }
  });

  it("close sends what is queued and waits for it; decide after close, a bad URL or option is a ConfigError", async function () {
    const f = await loadFixture(fleetFixture);
    service = await brService(f);
    const c = new DecisionClient({ url: service.url, maxWaitMs: 1000 });
    const pending = c.decide({ imsi: f.devices[0].imsi, service: "sms" });
    await c.close(); // does not wait the second maxWaitMs would
    expect((await pending).block).to.be.a("number");
    await c.decide({ imsi: f.devices[0].imsi, service: "sms" }).then(
      () => expect.fail("decided after close"),
      (e: unknown) => expect(e).to.be.instanceOf(ConfigError),
    );
    expect(() => new DecisionClient({ url: "localhost:8080" })).to.throw(ConfigError, /not an http\(s\) URL/);
    expect(() => new DecisionClient({ url: "not a url" })).to.throw(ConfigError, /is not a URL/);
    expect(() => new DecisionClient({ url: service!.url, maxBatch: 1001 })).to.throw(ConfigError, /maxBatch is 1001[\s\S]*from 1 to 1000/);
    expect(() => new DecisionClient({ url: service!.url, maxInFlight: 0 })).to.throw(ConfigError, /maxInFlight/);
  });
});
