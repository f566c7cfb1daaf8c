import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { InputError } from "../core/errors";
import type { WatchEvent } from "./types";

export interface WebhookOptions {
  /** Tries per alert, the first included (default 6). */
  attempts?: number;
  /** Wait before the 2nd try; doubled at each further try, up to `maxDelayMs` (default 500 ms, 30 s). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Per request (default 5 s). */
  timeoutMs?: number;
  /** Alerts waiting at most; beyond, the oldest is dropped and logged (default 10,000). */
  maxQueue?: number;
  /** Failures and drops (default: nothing). */
  log?: (line: string) => void;
}

export interface WebhookStats {
  delivered: number;
  failed: number;
  dropped: number;
  retries: number;
}

/** Checks a webhook URL: http or https. */
export function webhookUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InputError(`${text} is not a URL`, { location: { param: "webhook" }, hint: "pass an http:// or https:// URL." });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new InputError(`${url.protocol} is not http or https`, {
      location: { param: "webhook" },
      hint: "pass an http:// or https:// URL.",
    });
  }
  return url;
}

/** The id of an alert, stable across re-deliveries and restarts: what a receiver de-duplicates on. */
export function alertId(event: WatchEvent): string {
  const key = JSON.stringify([event.txHash, event.block, event.kind, event.as, event.data]);
  return createHash("sha256").update(key).digest("hex").slice(0, 32);
}

/**
 * POSTs each alert as JSON to a URL, one at a time in the order they came, each retried with exponential
 * backoff (bounded tries) on a network error, a timeout, a 5xx or a 429; other 4xx are not retried. `send`
 * returns at once: a slow or dead receiver never holds up the watch (alerts wait in a bounded queue). A
 * failure after the last try is logged and the alert dropped. Delivery is at least once: an alert whose
 * answer was lost is sent again, with the same `Idempotency-Key` header (its `id`).
 */
export class WebhookSender {
  readonly stats: WebhookStats = { delivered: 0, failed: 0, dropped: 0, retries: 0 };
  private readonly queue: WatchEvent[] = [];
  private running: Promise<void> | undefined;
  private readonly opts: Required<Omit<WebhookOptions, "log">> & Pick<WebhookOptions, "log">;

  constructor(
    private readonly url: URL,
    options: WebhookOptions = {},
  ) {
    this.opts = { attempts: 6, baseDelayMs: 500, maxDelayMs: 30_000, timeoutMs: 5000, maxQueue: 10_000, ...options };
  }

  send(event: WatchEvent): void {
    if (this.queue.length >= this.opts.maxQueue) {
      const dropped = this.queue.shift() as WatchEvent;
      this.stats.dropped++;
      this.opts.log?.(`webhook: queue full (${this.opts.maxQueue}); dropped the alert of block ${dropped.block} (${dropped.kind})`);
    }
    this.queue.push(event);
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
  }

  /**
   * Waits until the queue is delivered (or given up), at most `ms`; true when empty. The wait's timer is
   * cancelled once the queue is done: left running, it would hold the process open for the rest of `ms`.
   */
  async drain(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (this.running && Date.now() < deadline) {
      const wait = new AbortController();
      const timeout = sleep(Math.max(1, deadline - Date.now()), undefined, { signal: wait.signal }).catch(() => {});
      await Promise.race([this.running, timeout]);
      wait.abort();
    }
    return this.queue.length === 0 && !this.running;
  }

  private async run(): Promise<void> {
    for (let event = this.queue.shift(); event; event = this.queue.shift()) await this.deliver(event);
  }

  private async deliver(event: WatchEvent): Promise<void> {
    const id = alertId(event);
    const body = JSON.stringify({ id, ...event });
    let last = "";
    for (let attempt = 1; attempt <= this.opts.attempts; attempt++) {
      if (attempt > 1) {
        this.stats.retries++;
        await sleep(Math.min(this.opts.maxDelayMs, this.opts.baseDelayMs * 2 ** (attempt - 2)));
      }
      const outcome = await this.post(id, body);
      if (outcome === "ok") {
        this.stats.delivered++;
        return;
      }
      last = outcome.reason;
      if (!outcome.retry) break;
    }
    this.stats.failed++;
    this.opts.log?.(`webhook: gave up on the alert of block ${event.block} (${event.kind}, id ${id}) to ${this.url.origin}: ${last}`);
  }

  private async post(id: string, body: string): Promise<"ok" | { retry: boolean; reason: string }> {
    try {
      const res = await fetch(this.url, {
        method: "POST",
        headers: { "content-type": "application/json", "idempotency-key": id },
        body,
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return "ok";
      return { retry: res.status >= 500 || res.status === 429 || res.status === 408, reason: `HTTP ${res.status}` };
    } catch (error) {
      return { retry: true, reason: (error as Error).message };
    }
  }
}
