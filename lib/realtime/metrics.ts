/** Latency buckets of the decision histogram, in seconds. */
const BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.1, 1];

/** Counters and the latency histogram of the decision service, written in the Prometheus text format. */
export class ServiceMetrics {
  /** Decision requests by outcome: serve, refuse, bad-request, stale. */
  readonly outcomes: Record<string, number> = { serve: 0, refuse: 0, "bad-request": 0, stale: 0 };
  private readonly counts = new Array<number>(BUCKETS.length).fill(0);
  private sum = 0;
  private total = 0;

  count(outcome: string): void {
    this.outcomes[outcome] = (this.outcomes[outcome] ?? 0) + 1;
  }

  observe(seconds: number): void {
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]) this.counts[i]++;
    this.sum += seconds;
    this.total++;
  }

  /** The exposition: these metrics and the gauges given (name -> [help, value]). */
  render(gauges: Record<string, [string, number]>): string {
    const lines = [
      "# HELP roamledger_decisions_total Decision requests answered, by outcome (serve, refuse, bad-request, stale).",
      "# TYPE roamledger_decisions_total counter",
    ];
    for (const outcome of ["serve", "refuse", "bad-request", "stale"]) {
      lines.push(`roamledger_decisions_total{outcome="${outcome}"} ${this.outcomes[outcome] ?? 0}`);
    }
    lines.push(
      "# HELP roamledger_decision_seconds Time from a decision request's arrival to its reply, in seconds.",
      "# TYPE roamledger_decision_seconds histogram",
    );
    for (const [i, le] of BUCKETS.entries()) lines.push(`roamledger_decision_seconds_bucket{le="${le}"} ${this.counts[i]}`);
    lines.push(`roamledger_decision_seconds_bucket{le="+Inf"} ${this.total}`);
    lines.push(`roamledger_decision_seconds_sum ${this.sum}`, `roamledger_decision_seconds_count ${this.total}`);
    for (const [name, [help, value]] of Object.entries(gauges)) {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${value}`);
    }
    return `${lines.join("\n")}\n`;
  }
}
