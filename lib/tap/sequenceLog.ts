/**
 * The file sequence log of TAP imports (issue 17, tapspec 5): per sender and recipient (TADIG codes), the
 * FileSequenceNumbers imported completely, in `<store>/tap/<sender>-<recipient>.json`, written atomically.
 *
 * TD.57 numbers a sender's files to a recipient 00001, 00002, ... 99999 and then 00001 again. A file is
 * taken when its number is the one after the last imported (99999 -> 00001 wraps); the first file of a
 * sender may start at any number. Else it is refused as a whole (RAP fatal):
 * - TAP_SEQUENCE_DUPLICATE: the number was imported already in the current cycle;
 * - TAP_SEQUENCE_ORDER: lower than the last one (of the current cycle), or a gap after it.
 * A number is recorded only once its file's import completed (`record`), so a resumed or re-run import of
 * a file that failed midway is not refused as a duplicate, and a refused file (never recorded) may be
 * sent again, corrected, with the same number, as TD.32 asks after a fatal error.
 */
import fs from "node:fs";
import path from "node:path";
import { ConfigError } from "../core/errors";
import { writeFileAtomic } from "../util/fsAtomic";
import { TapFileRefused } from "./refusal";

const TAP_FSN_MAX = 99_999;

/** One imported file. */
export interface TapImport {
  fsn: string;
  /** ISO time the import completed. */
  at: string;
  /** What imported it (a run key, a file name). */
  by?: string;
}

interface LogFile {
  version: 1;
  sender: string;
  recipient: string;
  /** Files of the current cycle (since the last wrap, or since the first import), in order. */
  cycle: TapImport[];
  /** Times the numbering wrapped from 99999 to 00001. */
  wraps: number;
}

/**
 * The five-digit number after `last` in the numbering of TAP files (TD.57) and RAP files (TD.32):
 * 00001 ... 99999, then 00001 again.
 */
export function nextSequenceNumber(last: string): string {
  const n = Number(last);
  return String(n >= TAP_FSN_MAX ? 1 : n + 1).padStart(5, "0");
}

export class TapSequenceLog {
  private constructor(
    readonly file: string,
    private readonly data: LogFile,
  ) {}

  /** The log of `sender` -> `recipient` in `dir` (`<store>/tap`); empty when there is none yet. */
  static open(dir: string, sender: string, recipient: string): TapSequenceLog {
    const file = path.join(dir, `${sender}-${recipient}.json`);
    if (!fs.existsSync(file)) return new TapSequenceLog(file, { version: 1, sender, recipient, cycle: [], wraps: 0 });
    let data: LogFile;
    try {
      data = JSON.parse(fs.readFileSync(file, "utf8")) as LogFile;
    } catch (cause) {
      throw new ConfigError(`the TAP file sequence log ${file} cannot be read`, {
        cause,
        details: (cause as Error).message,
        hint: "restore it from a backup; without it, RoamLedger cannot tell a duplicate TAP file from a new one.",
      });
    }
    if (data.version !== 1 || !Array.isArray(data.cycle) || data.sender !== sender || data.recipient !== recipient) {
      throw new ConfigError(`the TAP file sequence log ${file} is not a log of ${sender} -> ${recipient}`, {
        hint: "restore it from a backup.",
      });
    }
    return new TapSequenceLog(file, data);
  }

  /** The last imported number, or undefined before the first import. */
  get last(): string | undefined {
    return this.data.cycle.at(-1)?.fsn;
  }

  /** The imports of the current cycle, in order. */
  get imports(): readonly TapImport[] {
    return this.data.cycle;
  }

  /** The number expected next, or undefined when any number is taken (no import yet). */
  get expected(): string | undefined {
    const last = this.last;
    return last === undefined ? undefined : nextSequenceNumber(last);
  }

  /** Throws TapFileRefused (TAP_SEQUENCE_DUPLICATE or TAP_SEQUENCE_ORDER) unless `fsn` is the next number. */
  check(fsn: string, file?: string): void {
    const { sender, recipient } = this.data;
    const expected = this.expected;
    if (expected === undefined || fsn === expected) return;
    const pair = `${sender} -> ${recipient}`;
    const hint = `the files of ${pair} are imported in their order, each once; the log is ${this.file}.`;
    const done = this.data.cycle.find((i) => i.fsn === fsn);
    if (done) {
      throw new TapFileRefused(
        "TAP_SEQUENCE_DUPLICATE",
        `file sequence number ${fsn} of ${pair} was imported already (${done.at}${done.by ? `, ${done.by}` : ""})`,
        { file, hint: `${hint} A corrected file takes the number of the file it replaces only when that one was refused.` },
      );
    }
    const last = this.last as string;
    const lower = Number(fsn) < Number(last);
    throw new TapFileRefused(
      "TAP_SEQUENCE_ORDER",
      lower
        ? `file sequence number ${fsn} of ${pair} is lower than the last one imported (${last}); ${expected} is expected next`
        : `file sequence number ${fsn} of ${pair} leaves a gap: the last one imported is ${last}, ${expected} is expected next`,
      { file, hint: `${hint} Import the missing file(s) first, or ask the sender about the gap.` },
    );
  }

  /** Records `fsn` as imported completely (checked first: the same rules as `check`). */
  record(fsn: string, by?: string): void {
    this.check(fsn);
    const wrapped = this.last !== undefined && Number(fsn) < Number(this.last);
    if (wrapped) {
      this.data.cycle = [];
      this.data.wraps++;
    }
    this.data.cycle.push({ fsn, at: new Date().toISOString(), ...(by ? { by } : {}) });
    writeFileAtomic(this.file, `${JSON.stringify(this.data, null, 2)}\n`);
  }
}
