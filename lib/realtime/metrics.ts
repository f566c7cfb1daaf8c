/** Latency buckets of the decision histograms, in seconds. */
const BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.1, 1];

/** A Prometheus histogram of request times (cumulative buckets, sum and count). */
export class Histogram {
  private readonly counts = new Array<number>(BUCKETS.length).fill(0);
  private sum = 0;
  private total = 0;

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  observe(seconds: number): void {
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]) this.counts[i]++;
    this.sum += seconds;
    this.total++;
  }

  lines(): string[] {
    const out = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [i, le] of BUCKETS.entries()) out.push(`${this.name}_bucket{le="${le}"} ${this.counts[i]}`);
    out.push(`${this.name}_bucket{le="+Inf"} ${this.total}`, `${this.name}_sum ${this.sum}`, `${this.name}_count ${this.total}`);
    return out;
  }
}

/** Counters and the latency histograms of the decision service, written in the Prometheus text format. */
export class ServiceMetrics {
  /**
   * Decisions by outcome: serve and refuse (one per query, a batch's each), stale (one per query refused with
   * a 503), bad-request (one per request refused with a 400).
   */
  readonly outcomes: Record<string, number> = { serve: 0, refuse: 0, "bad-request": 0, stale: 0 };
  /** `GET /v1/decision`: arrival to reply. */
  readonly single = new Histogram("roamledger_decision_seconds", "Time from a decision request's arrival to its reply, in seconds.");
  /** `POST /v1/decisions`: arrival to reply of the whole batch. */
  readonly batch = new Histogram(
    "roamledger_decision_batch_seconds",
    "Time from a batch of decision queries' arrival (POST /v1/decisions) to its reply, in seconds.",
  );

  count(outcome: string, n = 1): void {
    this.outcomes[outcome] = (this.outcomes[outcome] ?? 0) + n;
  }

  /** The exposition: these metrics and the gauges given (name -> [help, value]). */
  render(gauges: Record<string, [string, number]>): string {
    const lines = [
      "# HELP roamledger_decisions_total Decisions answered, by outcome: serve, refuse and stale count queries (each of a batch), bad-request counts requests.",
      "# TYPE roamledger_decisions_total counter",
    ];
    for (const outcome of ["serve", "refuse", "bad-request", "stale"]) {
      lines.push(`roamledger_decisions_total{outcome="${outcome}"} ${this.outcomes[outcome] ?? 0}`);
    }
    lines.push(...this.single.lines(), ...this.batch.lines());
    for (const [name, [help, value]] of Object.entries(gauges)) {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${value}`);
    }
    return `${lines.join("\n")}\n`;
  }
}
