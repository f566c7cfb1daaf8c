import Fastify, { type FastifyInstance, type FastifyError, type FastifyReply, type FastifyRequest } from "fastify";
import type { Provider } from "ethers";
import type { RoamLedgerClient } from "../chain/client";
import { DENY_REASONS, SERVICES } from "../core/enums";
import { ConfigError } from "../core/errors";
import { formatPlmn, parsePlmn } from "../core/plmn";
import type { Hex } from "../util/hex";
import { plmnHex, plmnNumber } from "./chainSync";
import { ChainFollower } from "./follower";
import { ImsiResolver } from "./imsi";
import { type Histogram, ServiceMetrics } from "./metrics";
import { DECISION_QUERY, DECISION_REPLY, DECISIONS_BODY, DECISIONS_REPLY, MAX_BATCH, PARAM_RULES } from "./schemas";
import { UsageCounters } from "./usageCounters";

export interface DecisionServiceOptions {
  /** Bindings of the deployment (a read-only runner is enough). */
  client: RoamLedgerClient;
  provider: Provider;
  /** The visited carrier the service decides for (bytes3 hex). */
  self: Hex;
  /** Opens the IMSI-key envelope `home` shared with `self` (see keystoreEnvelopeOpener). */
  openEnvelope(home: Hex, envelope: Hex): Uint8Array;
  /** 0 (default): any free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Never answer from a cache that has not been seen equal to the chain head for longer (default 10 s). */
  maxStalenessMs?: number;
  /** Between polls of the chain head (default 250 ms). */
  pollMs?: number;
  /** Snapshot folder (none: every start loads from the chain). */
  stateDir?: string;
  /** Between snapshots while running (default 30 s); one is always saved at close. */
  saveEveryMs?: number;
  /** First block of the deployment (default 0). */
  fromBlock?: number;
  /**
   * Key store root whose usage counters (`usage/<self>_<home>/state.json`, written by usage:ingest and
   * usage:stream) give `capsLeft`; none: `capsLeft` is null.
   */
  usageRoot?: string;
  /** Between looks at the usage counters' files (default 1 s). */
  usagePollMs?: number;
  log?(line: string): void;
  onLoadProgress?(done: number, total: number): void;
}

export interface DecisionService {
  url: string;
  port: number;
  follower: ChainFollower;
  metrics: ServiceMetrics;
  app: FastifyInstance;
  /** The usage counters behind `capsLeft` (undefined: none given). */
  counters?: UsageCounters;
  /** Stops following, stops listening and saves the snapshot. */
  close(): Promise<void>;
}

/**
 * Starts the policy decision service: loads the cache (snapshot or chain), listens, and follows the chain
 * until `close`. Resolves once it listens and the cache is loaded (retrying the chain while it cannot be read).
 */
export async function startDecisionService(options: DecisionServiceOptions): Promise<DecisionService> {
  const log = options.log ?? (() => {});
  const self = plmnNumber(options.self);
  const follower = followerFor(options, self, log);
  const metrics = new ServiceMetrics();
  const state = { loaded: false };
  const counters = options.usageRoot === undefined ? undefined : new UsageCounters(options.usageRoot, formatPlmn(options.self), log);
  await counters?.refresh();
  const app = buildApp(follower, metrics, options.maxStalenessMs ?? 10_000, state, counters);
  const host = options.host ?? "127.0.0.1";
  let address: string;
  try {
    address = await app.listen({ port: options.port ?? 0, host });
  } catch (cause) {
    await counters?.close();
    const code = (cause as { code?: string }).code ?? String(cause);
    throw new ConfigError(`Cannot listen on ${host}:${options.port ?? 0} (${code})`, {
      hint:
        code === "EADDRINUSE"
          ? "another process holds that port: stop it or choose another --port."
          : "check --host names an address of this machine and --port is free.",
      cause,
    });
  }
  const controller = new AbortController();
  try {
    await startWithRetry(follower, controller.signal, log);
  } catch (err) {
    await app.close();
    await counters?.close();
    throw err;
  }
  state.loaded = true;
  const running = follower.run(controller.signal);
  let savedBlock = follower.cache.block;
  const saver = setInterval(() => {
    if (follower.cache.block === savedBlock) return;
    savedBlock = follower.cache.block;
    trySave(follower, log);
  }, options.saveEveryMs ?? 30_000);
  saver.unref();
  const counting = counters && setInterval(() => void counters.refresh(), options.usagePollMs ?? 1000);
  counting?.unref();
  const port = (app.server.address() as { port: number }).port;
  return {
    url: address,
    port,
    follower,
    metrics,
    app,
    counters,
    async close() {
      clearInterval(saver);
      if (counting) clearInterval(counting);
      await counters?.close();
      controller.abort();
      await running;
      await app.close();
      trySave(follower, log);
    },
  };
}

/** The chain follower behind the service's cache. */
function followerFor(options: DecisionServiceOptions, self: number, log: (line: string) => void): ChainFollower {
  return new ChainFollower({
    client: options.client,
    provider: options.provider,
    self,
    fromBlock: options.fromBlock ?? 0,
    stateDir: options.stateDir,
    pollMs: options.pollMs ?? 250,
    log,
    onLoadProgress: options.onLoadProgress,
    openEnvelope: (home, envelope) => {
      try {
        return options.openEnvelope(plmnHex(home), envelope as Hex);
      } catch (err) {
        log(
          `Cannot open the IMSI key ${formatPlmn(plmnHex(home))} shared: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`,
        );
        return undefined;
      }
    },
  });
}

function trySave(follower: ChainFollower, log: (line: string) => void): void {
  try {
    follower.save();
  } catch (err) {
    log(`Cannot save the snapshot: ${err instanceof Error ? err.message : String(err)}`);
  }
}

async function startWithRetry(follower: ChainFollower, signal: AbortSignal, log: (line: string) => void): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await follower.start();
      return;
    } catch (err) {
      if (signal.aborted || attempt >= 8) throw err;
      log(`Cannot load from the chain (${err instanceof Error ? err.message.split("\n")[0] : String(err)}); retrying.`);
      await new Promise((r) => setTimeout(r, Math.min(10_000, 250 * 2 ** attempt)));
    }
  }
}

/** Why the cache may not answer now (undefined: it may), with how far behind it is. */
function staleness(follower: ChainFollower, maxStalenessMs: number, loaded: boolean) {
  const behindBlocks = Math.max(0, follower.head - follower.cache.block);
  const behindSeconds = follower.caughtUpAt === 0 ? -1 : (Date.now() - follower.caughtUpAt) / 1000;
  const base = { block: follower.cache.block, head: follower.head, behindBlocks, behindSeconds };
  if (!loaded) return { ...base, why: "the cache is still loading from the chain" };
  if (follower.reloading) return { ...base, why: "the cache is being repaired after a chain reorganisation" };
  if (Date.now() - follower.caughtUpAt > maxStalenessMs) {
    const cause = follower.lastError ? `the chain cannot be read (${follower.lastError})` : "it is still catching up";
    return {
      ...base,
      why: `the cache was last equal to the chain head ${behindSeconds.toFixed(1)} s ago, over the bound of ${maxStalenessMs / 1000} s: ${cause}`,
    };
  }
  return { ...base, why: undefined };
}

const HINT_GET = "GET /v1/decision?imsi=<15 digits>&service=data|sms|voice|signalling[&home=MCC-MNC]";
const HINT_POST = `POST /v1/decisions with {"queries":[{"imsi":"<15 digits>","service":"data|sms|voice|signalling","home":"MCC-MNC (optional)"}, …]}: 1 to ${MAX_BATCH} queries`;

type Query = { imsi: string; service: string; home?: string };

interface Ctx {
  follower: ChainFollower;
  metrics: ServiceMetrics;
  maxStalenessMs: number;
  state: { loaded: boolean };
  counters: UsageCounters | undefined;
}

function buildApp(
  follower: ChainFollower,
  metrics: ServiceMetrics,
  maxStalenessMs: number,
  state: { loaded: boolean },
  counters: UsageCounters | undefined,
): FastifyInstance {
  const app = Fastify({ logger: false, ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: true } } });
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const hint = request.method === "POST" ? HINT_POST : HINT_GET;
    if (!err.validation) {
      const status = err.statusCode ?? 500;
      if (status === 400) metrics.count("bad-request");
      reply.code(status).send(status < 500 ? { error: err.message, hint } : { error: err.message });
      return;
    }
    metrics.count("bad-request");
    reply.code(400).send({ error: "bad-request", problems: err.validation.map((v) => problemOf(v, request.method === "POST")), hint });
  });
  addDecisionRoutes(app, { follower, metrics, maxStalenessMs, state, counters });
  app.get("/ready", async (_request, reply) => {
    const stale = staleness(follower, maxStalenessMs, state.loaded);
    if (stale.why) return reply.code(503).send({ ready: false, ...stale });
    return { ready: true, ...stale, why: undefined };
  });
  app.get("/metrics", async (_request, reply) => {
    reply.header("content-type", "text/plain; version=0.0.4");
    return metrics.render(gauges(follower, counters));
  });
  return app;
}

/** What both decision routes share: the home asked, the staleness gate, and the decision counted. */
function deciding(ctx: Ctx) {
  const { follower, metrics, maxStalenessMs, state, counters } = ctx;
  const resolver = new ImsiResolver(() => follower.keys);
  const homes = new Map<string, number>();
  return {
    /** The home network asked (undefined: none asked; null: not a PLMN). */
    homeOf(text: string | undefined): number | undefined | null {
      if (text === undefined) return undefined;
      let home = homes.get(text);
      if (home === undefined) {
        try {
          home = plmnNumber(parsePlmn(text));
        } catch {
          return null;
        }
        if (homes.size < 10_000) homes.set(text, home);
      }
      return home;
    },
    /** Answers 503 and returns true when the cache may not answer (the hot path: one comparison while fresh). */
    refusedStale(reply: FastifyReply, queries: number): boolean {
      if (state.loaded && !follower.reloading && Date.now() - follower.caughtUpAt <= maxStalenessMs) return false;
      metrics.count("stale", queries);
      reply.code(503).send({ error: "stale", ...staleness(follower, maxStalenessMs, state.loaded) });
      return true;
    },
    answer(q: Query, home: number | undefined) {
      const a = decisionFor(follower, resolver, counters, q.imsi, SERVICES.indexOf(q.service as (typeof SERVICES)[number]), home);
      metrics.count(a.serve ? "serve" : "refuse");
      return a;
    },
  };
}

/** A route's onResponse hook: its time from arrival to reply into `histogram`. */
function timedBy(histogram: Histogram) {
  return (_request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    histogram.observe(reply.elapsedTime / 1000);
    done();
  };
}

/** GET /v1/decision (one query) and POST /v1/decisions (a batch, answered whole or refused whole). */
function addDecisionRoutes(app: FastifyInstance, ctx: Ctx): void {
  const { metrics, follower } = ctx;
  const d = deciding(ctx);
  app.get<{ Querystring: Query }>(
    "/v1/decision",
    {
      schema: { querystring: DECISION_QUERY, response: { 200: DECISION_REPLY } },
      onResponse: timedBy(metrics.single),
    },
    (request, reply) => {
      if (d.refusedStale(reply, 1)) return;
      const q = request.query;
      const home = d.homeOf(q.home);
      if (home === null) {
        metrics.count("bad-request");
        reply.code(400).send({ error: "bad-request", problems: [`home: ${q.home} is not a PLMN: ${PARAM_RULES.home}`], hint: HINT_GET });
        return;
      }
      reply.send(d.answer(q, home));
    },
  );
  app.post<{ Body: { queries: Query[] } }>(
    "/v1/decisions",
    {
      schema: { body: DECISIONS_BODY, response: { 200: DECISIONS_REPLY } },
      onResponse: timedBy(metrics.batch),
    },
    (request, reply) => {
      const queries = request.body.queries;
      // Every query is checked before any is answered.
      const asked = queries.map((q) => d.homeOf(q.home));
      const bad = asked.flatMap((h, i) =>
        h === null ? [`queries[${i}].home: ${queries[i].home} is not a PLMN: ${PARAM_RULES.home}`] : [],
      );
      if (bad.length > 0) {
        metrics.count("bad-request");
        reply.code(400).send({ error: "bad-request", problems: bad, hint: HINT_POST });
        return;
      }
      if (d.refusedStale(reply, queries.length)) return;
      reply.send({ block: follower.cache.block, decisions: queries.map((q, i) => d.answer(q, asked[i] as number | undefined)) });
    },
  );
}

/** A validation problem as `<where> <what>`: `imsi must be …`, `queries[3].service must be …`. */
function problemOf(v: { instancePath: string; keyword: string; params: Record<string, unknown> }, post: boolean): string {
  const at = v.instancePath
    .replace(/\/(\d+)/g, "[$1]")
    .replace(/\//g, ".")
    .replace(/^\./, "");
  const inside = (name: string) => (at === "" ? name : `${at}.${name}`);
  if (v.keyword === "required") {
    const name = String(v.params.missingProperty);
    return `${inside(name)} is missing: it must be ${PARAM_RULES[name]}`;
  }
  if (v.keyword === "additionalProperties") {
    const name = String(v.params.additionalProperty);
    const known = post && at === "" ? "queries" : "imsi, service, home";
    return `${inside(name)} is not a parameter of this ${at === "" ? "endpoint" : "query"} (${known})`;
  }
  const name =
    at
      .replace(/\[\d+\]$/, "")
      .split(".")
      .at(-1) ?? "";
  if (name === "") return `the body must be an object {"queries": [...]}`;
  return `${at} must be ${PARAM_RULES[name] ?? "valid"}`;
}

function decisionFor(
  follower: ChainFollower,
  resolver: ImsiResolver,
  counters: UsageCounters | undefined,
  imsi: string,
  service: number,
  home: number | undefined,
) {
  const cache = follower.cache;
  const found = resolver.resolve(cache, imsi, home);
  const time = Math.max(Math.floor(Date.now() / 1000), cache.blockTime);
  const d = cache.decide(found.home === undefined ? -1 : found.slot, follower.opts.self, service, time);
  const p = d.policy;
  return {
    serve: d.serve,
    reason: DENY_REASONS[d.reason],
    detail: found.home === undefined ? found.why : undefined,
    steerable: d.steerable,
    homeRouted: d.homeRouted,
    localBreakout: !d.homeRouted,
    tariffClass: d.tariffClass,
    policyVersion: d.policyVersion,
    home: found.home === undefined ? undefined : formatPlmn(plmnHex(found.home)),
    caps:
      d.reason === 1
        ? undefined
        : {
            dailyBytes: Number(p.dailyBytesCap),
            monthlyBytes: Number(p.monthlyBytesCap),
            dailyEvents: p.dailyEventsCap,
            monthlyEvents: p.monthlyEventsCap,
          },
    capsLeft:
      counters && found.home !== undefined && found.slot >= 0 && d.reason !== 1
        ? counters.capsLeft(found.home, cache.devices.idOf(found.slot), p, time)
        : null,
    block: cache.block,
    time,
  };
}

function gauges(follower: ChainFollower, counters: UsageCounters | undefined): Record<string, [string, number]> {
  const s = follower.cache.sizes();
  return {
    roamledger_block: ["Last block the cache applied.", follower.cache.block],
    roamledger_head_lag_blocks: [
      "Blocks between the chain head last seen and the cache.",
      Math.max(0, follower.head - follower.cache.block),
    ],
    roamledger_head_lag_seconds: [
      "Seconds since the cache was last seen equal to the chain head.",
      follower.caughtUpAt === 0 ? -1 : (Date.now() - follower.caughtUpAt) / 1000,
    ],
    roamledger_reorgs_total: ["Chain reorganisations seen.", follower.reorgs],
    roamledger_reorg_repairs_total: ["Reorganisations repaired from the fork point.", follower.repairs],
    roamledger_reorg_full_reloads_total: ["Reorganisations older than the steps remembered: the cache reloaded.", follower.fullReloads],
    roamledger_reorg_last_depth_blocks: ["Blocks the last repaired reorganisation dropped.", follower.lastRepairDepth],
    roamledger_cache_devices: ["Devices in the cache.", s.devices],
    roamledger_cache_policies: ["Policy definitions in the cache.", s.policies],
    roamledger_cache_flags: ["Standing fraud flags in the cache.", s.flags],
    roamledger_cache_agreements: ["Agreement pairs in the cache.", s.agreements],
    roamledger_cache_members: ["Members in the cache.", s.members],
    roamledger_cache_device_bytes: ["Bytes of the device table (ids, fields and index).", s.bytes],
    roamledger_imsi_keys: ["Home carriers whose IMSI key this network holds.", follower.keys.size],
    roamledger_usage_counter_homes: ["Home carriers whose usage counters (capsLeft) are loaded.", counters?.homes ?? 0],
  };
}
