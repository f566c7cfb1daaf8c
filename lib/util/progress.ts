/**
 * Progress of long library work (an ingest's bytes, its batch submissions). The library reports it and
 * draws nothing: the CLI passes a factory that draws a bar on stderr (tasks/cli/progress.ts), a backend
 * may log it or leave it out.
 */

/** One stage of work being reported. */
export interface ProgressReporter {
  /** Records the amount done so far; `suffix` is a short status ("1,204 records"). */
  update(done: number, suffix?: string): void;
  /** Records `n` more units done. */
  tick(n?: number): void;
  /** The stage ended (`message` says how). */
  done(message?: string): void;
}

/** What a stage is: its label, its total when known, and what is counted ("bytes", "batches"). */
export interface ProgressStage {
  label: string;
  total?: number;
  unit?: string;
}

export type ProgressFactory = (stage: ProgressStage) => ProgressReporter;

/** Reports nothing: the default of every library call that takes a progress factory. */
export const noProgress: ProgressFactory = () => ({ update() {}, tick() {}, done() {} });
