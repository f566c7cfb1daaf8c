import http from "node:http";
import https from "node:https";
import type { SERVICES } from "../core/enums";
import { BaseError, type BaseErrorOptions, ConfigError, InputError } from "../core/errors";
import { parsePlmn } from "../core/plmn";
import { DECISION_QUERY, MAX_BATCH, PARAM_RULES } from "./schemas";

/** One question to the decision service, as `GET /v1/decision` takes it. */
export interface DecisionQuery {
  /** The 15 digits of the IMSI. */
  imsi: string;
  service: (typeof SERVICES)[number];
  /** The home network's MCC-MNC, when the IMSI's MNC length is ambiguous (e.g. "310-410"). */
  home?: string;
}

/** The service's answer (docs/realtime.md, `GET /v1/decision`). */
export interface DecisionAnswer {
  serve: boolean;
  reason: string;
  detail?: string;
  steerable: boolean;
  homeRouted: boolean;
  localBreakout: boolean;
  tariffClass: number;
  policyVersion: number;
  home?: string;
  caps?: { dailyBytes: number; monthlyBytes: number; dailyEvents: number; monthlyEvents: number };
  capsLeft: {
    dailyBytes: number | null;
    monthlyBytes: number | null;
    dailyEvents: number | null;
    monthlyEvents: number | null;
    countedAt: string;
  } | null;
  block: number;
  time: number;
}

/**
 * The service gave no decision: `stale` (its cache is over its staleness bound, or loading, or repairing: it
 * said so with a 503), `unreachable` (no answer within the timeout, or no connection), `refused` (any other
 * status). The core applies its own fallback policy.
 */
export class DecisionUnavailable extends BaseError {
  override name = "DecisionUnavailable";

  constructor(
    readonly kind: "stale" | "unreachable" | "refused",
    shortMessage: string,
    options: BaseErrorOptions = {},
  ) {
    super(shortMessage, options);
  }
}

export interface DecisionClientOptions {
  /** The service's base URL, e.g. http://10.0.0.5:8080. */
  url: string;
  /**
   * Longest a query waits for others to join its request while a request slot is free (default 0: it goes once
   * the current turn of the event loop is over, with the queries asked in that turn). While all maxInFlight
   * requests are out, queries gather and go as soon as one comes back, whatever this is.
   */
  maxWaitMs?: number;
  /** Queries per request at most (default 50; 1 to 1,000). */
  maxBatch?: number;
  /** Requests in flight at most (default 4); queries asked meanwhile go in the next requests. */
  maxInFlight?: number;
  /** A request not answered within this many ms fails its queries as `unreachable` (default 1,000). */
  timeoutMs?: number;
}

interface Pending {
  query: DecisionQuery;
  resolve(answer: DecisionAnswer): void;
  reject(error: Error): void;
}

// The service's own rules (its request schema), so the client refuses exactly what the service would.
const IMSI = new RegExp(DECISION_QUERY.properties.imsi.pattern);
const HOME = new RegExp(DECISION_QUERY.properties.home.pattern);
const SERVICE_NAMES: readonly string[] = DECISION_QUERY.properties.service.enum;

/**
 * The query's problem as the service would name it (so a bad query fails alone, before it is sent, instead of
 * failing the request it would share); undefined when it is fine.
 */
export function queryProblem(q: DecisionQuery): string | undefined {
  if (typeof q?.imsi !== "string" || !IMSI.test(q.imsi)) return `imsi ${JSON.stringify(q?.imsi)} must be ${PARAM_RULES.imsi}`;
  if (!SERVICE_NAMES.includes(q.service)) return `service ${JSON.stringify(q.service)} must be ${PARAM_RULES.service}`;
  if (q.home !== undefined) {
    if (typeof q.home !== "string" || !HOME.test(q.home)) return `home ${JSON.stringify(q.home)} must be ${PARAM_RULES.home}`;
    try {
      parsePlmn(q.home);
    } catch {
      return `home ${q.home} is not a PLMN: ${PARAM_RULES.home}`;
    }
  }
  for (const key of Object.keys(q))
    if (key !== "imsi" && key !== "service" && key !== "home") return `${key} is not a field of a query (imsi, service, home)`;
  return undefined;
}

function wholeNumber(name: string, value: number | undefined, fallback: number, max: number, min = 1): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max)
    throw new ConfigError(`DecisionClient: ${name} is ${String(value)}`, { hint: `give a whole number from ${min} to ${max}.` });
  return v;
}

/**
 * A client of the decision service for a core function (PCF, PCRF, OCS) in Node: each `decide` is one
 * query. A query goes at once when a request slot is free (with the others asked in the same turn of the
 * event loop); while all `maxInFlight` requests are out, queries gather and go together, up to `maxBatch` a
 * `POST /v1/decisions`, when one comes back. Light load: no wait; heavy load: HTTP is paid once a batch, so a
 * burst of attaches costs the service a fraction of single requests (docs/realtime.md). Keep-alive
 * connections, one per request in flight.
 */
export class DecisionClient {
  /** Requests sent, queries answered, queries failed (unavailable). */
  readonly stats = { requests: 0, answered: 0, failed: 0 };
  private readonly endpoint: string;
  private readonly maxWaitMs: number;
  private readonly maxBatch: number;
  private readonly maxInFlight: number;
  private readonly timeoutMs: number;
  private queue: Pending[] = [];
  /** Cancels the pending send of what is queued (undefined: none pending). */
  private armed: (() => void) | undefined;
  private inFlight = new Set<Promise<void>>();
  private closed = false;
  private readonly transport: typeof http | typeof https;
  private readonly agent: http.Agent;

  constructor(options: DecisionClientOptions) {
    let base: URL;
    try {
      base = new URL(options.url);
    } catch (cause) {
      throw new ConfigError(`DecisionClient: ${JSON.stringify(options.url)} is not a URL`, {
        hint: "give the service's base URL, e.g. http://127.0.0.1:8080 (what `npx hardhat serve` prints).",
        cause,
      });
    }
    if (base.protocol !== "http:" && base.protocol !== "https:")
      throw new ConfigError(`DecisionClient: ${options.url} is not an http(s) URL`, { hint: "give e.g. http://127.0.0.1:8080." });
    this.endpoint = new URL("/v1/decisions", base).toString();
    this.maxWaitMs = wholeNumber("maxWaitMs", options.maxWaitMs, 0, 1000, 0);
    this.maxBatch = wholeNumber("maxBatch", options.maxBatch, 50, MAX_BATCH);
    this.maxInFlight = wholeNumber("maxInFlight", options.maxInFlight, 4, 1024);
    this.timeoutMs = wholeNumber("timeoutMs", options.timeoutMs, 1000, 600_000);
    this.transport = base.protocol === "https:" ? https : http;
    // Keep-alive connections, one per request in flight (Node's http: a fraction of fetch's cost a request).
    this.agent = new this.transport.Agent({ keepAlive: true, maxSockets: this.maxInFlight });
  }

  /**
   * The service's decision for `query`. Rejects with an InputError for a malformed query (never sent), a
   * DecisionUnavailable when the service gives none.
   */
  decide(query: DecisionQuery): Promise<DecisionAnswer> {
    if (this.closed) return Promise.reject(new ConfigError("DecisionClient: decide after close", { hint: "make a new client." }));
    const problem = queryProblem(query);
    if (problem) return Promise.reject(new InputError(problem, { hint: "fix the query; nothing was sent for it." }));
    return new Promise((resolve, reject) => {
      this.queue.push({ query, resolve, reject });
      if (this.queue.length >= this.maxBatch) this.pump(false);
      else if (this.inFlight.size < this.maxInFlight) this.arm();
    });
  }

  /** Sends what is queued, waits for every request in flight, and refuses further queries. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.queue.length > 0 || this.inFlight.size > 0) {
      this.pump(true);
      await Promise.race(this.inFlight);
    }
    this.agent.destroy();
  }

  /** POSTs `body` to the endpoint: the status and the body's text; rejects on no answer within timeoutMs. */
  private post(body: string): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const headers = { "content-type": "application/json", "content-length": Buffer.byteLength(body) };
      const req = this.transport.request(this.endpoint, { method: "POST", agent: this.agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") });
        });
        res.on("error", reject);
      });
      const timer = setTimeout(() => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      req.on("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
      req.end(body);
    });
  }

  /** Sends full batches (all: and the rest too) while fewer than maxInFlight requests are out. */
  private pump(all: boolean): void {
    if (all && this.armed) {
      this.armed();
      this.armed = undefined;
    }
    while (this.inFlight.size < this.maxInFlight && (this.queue.length >= this.maxBatch || (all && this.queue.length > 0))) {
      const batch = this.queue.splice(0, this.maxBatch);
      const sent: Promise<void> = this.send(batch).finally(() => {
        this.inFlight.delete(sent);
        // Queries that waited for a free request go now: they have waited long enough.
        this.pump(true);
      });
      this.inFlight.add(sent);
    }
    if (this.queue.length > 0 && this.inFlight.size < this.maxInFlight) this.arm();
  }

  /**
   * Sends what is queued after maxWaitMs, or (0) once this turn of the event loop is over: the queries asked in
   * the same turn go together, and none waits on a timer while a request slot is free.
   */
  private arm(): void {
    if (this.armed) return;
    if (this.maxWaitMs === 0) {
      const immediate = setImmediate(() => this.pump(true));
      this.armed = () => clearImmediate(immediate);
    } else {
      const timer = setTimeout(() => this.pump(true), this.maxWaitMs);
      this.armed = () => clearTimeout(timer);
    }
  }

  private async send(batch: Pending[]): Promise<void> {
    this.stats.requests++;
    let failure: DecisionUnavailable;
    try {
      const res = await this.post(JSON.stringify({ queries: batch.map((p) => p.query) }));
      let body: { decisions?: DecisionAnswer[]; why?: string; problems?: string[]; error?: string } = {};
      try {
        body = JSON.parse(res.text);
      } catch {
        body = { error: res.text.slice(0, 200) };
      }
      if (res.status === 200 && body.decisions?.length === batch.length) {
        for (const [i, p] of batch.entries()) p.resolve(body.decisions[i]);
        this.stats.answered += batch.length;
        return;
      }
      failure =
        res.status === 503
          ? new DecisionUnavailable("stale", `the decision service's cache is stale: ${body.why ?? "no reason given"}`, {
              hint: "apply the core's fallback policy; the service's /ready says when it is current again.",
            })
          : new DecisionUnavailable(
              "refused",
              `the decision service answered ${res.status}: ${(body.problems ?? [body.error]).join("; ")}`,
              {
                hint: "a 4xx: check the client and the service are of the same RoamLedger version; a 5xx: the service's log says why. Meanwhile apply the core's fallback policy.",
              },
            );
    } catch (cause) {
      const what = cause instanceof Error ? cause.message : String(cause);
      failure = new DecisionUnavailable("unreachable", `the decision service at ${this.endpoint} is unreachable: ${what}`, {
        hint: "apply the core's fallback policy; check the service runs (npx hardhat serve) and the address.",
        cause,
      });
    }
    this.stats.failed += batch.length;
    for (const p of batch) p.reject(failure);
  }
}
