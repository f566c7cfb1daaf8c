import type { ProgressFactory } from "../../lib/util/progress";

/**
 * A progress report for long work, written to stderr. On a terminal: one line redrawn at most ~10
 * times a second. Elsewhere (CI, pipes): a plain line at most every 5 seconds and one at the end.
 */

/** The part of a stream Progress uses; `process.stderr` fits. */
export interface ProgressStream {
  write(text: string): boolean;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  label: string;
  /** Amount of work when known; enables the bar, percentage and ETA. */
  total?: number;
  /** What is counted, plural ("devices"); "items" by default. */
  unit?: string;
  /** process.stderr by default. */
  stream?: ProgressStream;
  /** false prints nothing; default: true unless ROAMLEDGER_QUIET=1. */
  enabled?: boolean;
  /** Clock in milliseconds; Date.now by default (tests pass a fake one). */
  now?: () => number;
}

const TTY_INTERVAL_MS = 100;
const PLAIN_INTERVAL_MS = 5_000;
const BAR_WIDTH = 20;

const formatCount = (n: number): string => Math.round(n).toLocaleString("en-US");

function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor(s / 60) % 60).padStart(2, "0")}m`;
}

export class Progress {
  private readonly label: string;
  private readonly total?: number;
  private readonly unit: string;
  private readonly stream: ProgressStream;
  private readonly enabled: boolean;
  private readonly now: () => number;
  private readonly tty: boolean;
  private readonly startedAt: number;
  private lastDrawnAt: number;
  private count = 0;
  private suffix = "";
  private finished = false;

  constructor(opts: ProgressOptions) {
    this.label = opts.label;
    this.total = opts.total;
    this.unit = opts.unit ?? "items";
    this.stream = opts.stream ?? process.stderr;
    this.enabled = opts.enabled ?? process.env.ROAMLEDGER_QUIET !== "1";
    this.now = opts.now ?? Date.now;
    this.tty = this.stream.isTTY === true;
    this.startedAt = this.now();
    this.lastDrawnAt = this.startedAt;
  }

  /** Records `n` more units of work done. */
  tick(n = 1): void {
    this.update(this.count + n);
  }

  /** Records the amount of work done so far; `suffix` (e.g. "1,204 records/s") is shown after the rate. */
  update(done: number, suffix?: string): void {
    if (this.finished) return;
    this.count = done;
    if (suffix !== undefined) this.suffix = suffix;
    if (!this.enabled) return;
    const now = this.now();
    if (now - this.lastDrawnAt < (this.tty ? TTY_INTERVAL_MS : PLAIN_INTERVAL_MS)) return;
    this.lastDrawnAt = now;
    this.write(this.status(now, false), false);
  }

  /** Prints the final line (with `message` appended when given); later calls do nothing. */
  done(message?: string): void {
    if (this.finished) return;
    this.finished = true;
    if (!this.enabled) return;
    this.write(this.status(this.now(), true) + (message ? ` - ${message}` : ""), true);
  }

  private write(text: string, final: boolean): void {
    if (!this.tty) {
      this.stream.write(`${text}\n`);
      return;
    }
    // A line longer than the terminal wraps, and \r then redraws only its last row.
    const width = this.stream.columns ? this.stream.columns - 1 : Infinity;
    this.stream.write(`\r${text.length > width ? text.slice(0, width) : text}\x1b[K${final ? "\n" : ""}`);
  }

  private status(now: number, final: boolean): string {
    const elapsed = (now - this.startedAt) / 1000;
    const rate = elapsed > 0 ? this.count / elapsed : undefined;
    const parts = [this.tty ? this.label : `${this.label}:`];
    if (this.total === undefined) {
      parts.push(`${formatCount(this.count)} ${this.unit}`);
    } else {
      const fraction = this.total > 0 ? Math.min(1, Math.max(0, this.count / this.total)) : 1;
      if (this.tty) {
        const filled = Math.round(fraction * BAR_WIDTH);
        parts.push(`[${"#".repeat(filled)}${".".repeat(BAR_WIDTH - filled)}]`);
      }
      parts.push(`${formatCount(this.count)}/${formatCount(this.total)}`, `(${Math.floor(fraction * 100)}%)`);
    }
    if (rate !== undefined) parts.push(`${formatCount(rate)} ${this.unit}/s`);
    if (this.suffix) parts.push(this.suffix);
    if (final) {
      parts.push(`in ${formatDuration(elapsed)}`);
    } else if (this.total !== undefined && rate) {
      parts.push(`ETA ${formatDuration(Math.max(0, this.total - this.count) / rate)}`);
    }
    return parts.join(" ");
  }
}

/** The library's progress reports drawn as bars on stderr (silent with ROAMLEDGER_QUIET=1). */
export const cliProgress: ProgressFactory = (stage) => new Progress(stage);
