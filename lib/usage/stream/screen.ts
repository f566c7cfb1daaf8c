import fs from "node:fs";
import path from "node:path";
import { BaseError } from "../../core/errors";
import { newScreenCarry, type ScreenCarry, screenFile } from "../ingest";
import { chainTime } from "../ingest/process";
import { formatFromExtension } from "../parse";
import { splitByMonth } from "./split";
import type { SpoolFile } from "./spool";
import type { StreamOptions } from ".";

/**
 * The fraud screen of `usage:stream --batch-seconds`: a file that waits in the spool for its group is read
 * at once, its records checked against policy as its run will check them (over the state the files before it
 * leave), and the fraud flags sent (lib/usage/ingest/process.ts screenFile): the home carrier sees fraud
 * seconds after the file lands, not when the batch is sealed. The run sends nothing again (a flag of ours
 * that stands is not sent twice). Screened files are remembered by name, size and time; after each run the
 * carry starts again from the committed state and the files still waiting are screened again (their flags
 * stand: nothing is sent). A file the screen cannot read is left to its run, which says why.
 */
export class StreamScreen {
  private carry: ScreenCarry | undefined;
  private readonly screened = new Set<string>();
  /** Files the screen could not read (left to their run): not tried again. */
  private readonly unreadable = new Set<string>();

  constructor(private readonly opts: StreamOptions) {}

  /** Screens the files not screened yet, in order. Returns the devices flagged. */
  async screen(files: readonly SpoolFile[]): Promise<number> {
    let flagged = 0;
    for (const f of files) {
      const key = `${f.name}/${f.size}/${f.mtimeMs}`;
      if (this.screened.has(key) || this.unreadable.has(key) || formatFromExtension(f.name) === undefined) continue;
      this.carry ??= newScreenCarry(this.opts);
      try {
        flagged += await this.screenOne(path.join(this.opts.spool, f.name));
        this.screened.add(key);
      } catch (error) {
        // The carry may hold part of the file: start again from the committed state (flags already sent stand).
        this.reset();
        if (!(error instanceof BaseError)) throw error;
        this.unreadable.add(key);
        this.opts.log?.(`not screened ${f.name} (${error.message}); its run checks it`);
      }
    }
    return flagged;
  }

  /** After a run committed: the next screen starts from the committed state, screening waiting files again. */
  reset(): void {
    this.carry = undefined;
    this.screened.clear();
  }

  private async screenOne(file: string): Promise<number> {
    const opts = this.opts;
    const partsDir = path.join(opts.spool, ".stream", "screen");
    try {
      const d = new Date(Number(await chainTime(opts.signer)) * 1000);
      const fallback = d.getUTCFullYear() * 100 + d.getUTCMonth() + 1;
      const parts =
        opts.period !== undefined
          ? [{ period: opts.period, file }]
          : await splitByMonth(file, { csv: formatFromExtension(file) === "csv", partsDir, fallback });
      let flagged = 0;
      for (const part of parts) {
        const r = await screenFile({ ...opts, file: part.file, period: part.period }, this.carry as ScreenCarry);
        flagged += r.flagged;
      }
      if (flagged > 0) opts.log?.(`screened ${path.basename(file)}: fraud flags for ${flagged} device(s) sent before its batch`);
      return flagged;
    } finally {
      fs.rmSync(partsDir, { recursive: true, force: true });
    }
  }
}
