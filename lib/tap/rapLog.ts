/**
 * The RAP file sequence log: which RAP file sequence numbers this carrier wrote to a partner, so the next
 * RAP file takes the next number (TD.32: RapFileSequenceNumber runs 00001..99999 per sender and recipient,
 * without gaps, which the partner checks). One small JSON file per pair beside the TAP sequence log:
 * `<payload store>/rap/<sender>-<recipient>.json`, written atomically.
 */
import fs from "node:fs";
import path from "node:path";
import { InputError } from "../core/errors";
import { writeFileAtomic } from "../util/fsAtomic";
import { nextSequenceNumber } from "./sequenceLog";

export interface RapLogEntry {
  rapFileSequenceNumber: string;
  /** The TAP file the RAP file returns (its FileSequenceNumber), and the RAP file's name. */
  tapFileSequenceNumber: string;
  file: string;
  kind: "severe" | "fatal";
  returnDetails: number;
  writtenAt: string;
}

export interface RapLog {
  /** RAP sender (this carrier's TADIG code) and recipient (the partner's). */
  sender: string;
  recipient: string;
  written: RapLogEntry[];
}

const CODE_RE = /^[A-Z0-9]{3,10}$/;

/** The log file of the pair. */
export function rapLogPath(storeDir: string, sender: string, recipient: string): string {
  for (const [what, code] of [
    ["sender", sender],
    ["recipient", recipient],
  ]) {
    if (!CODE_RE.test(code)) {
      throw new InputError(`the RAP ${what} "${code}" is not a TADIG code`, {
        hint: "the TAP file's Sender and Recipient must be TADIG codes like ALPHA or DEUD1.",
      });
    }
  }
  return path.join(storeDir, "rap", `${sender}-${recipient}.json`);
}

/** The pair's log (empty when none was written yet). */
export function readRapLog(file: string, sender: string, recipient: string): RapLog {
  if (!fs.existsSync(file)) return { sender, recipient, written: [] };
  let log: RapLog;
  try {
    log = JSON.parse(fs.readFileSync(file, "utf8")) as RapLog;
  } catch (err) {
    throw new InputError(`the RAP sequence log is not valid JSON (${(err as Error).message})`, {
      location: { file },
      hint: "restore it from a backup, or pass --sequence with the next RAP file sequence number the partner expects.",
    });
  }
  if (log?.sender !== sender || log.recipient !== recipient || !Array.isArray(log.written)) {
    throw new InputError(`the RAP sequence log is not the log of ${sender} -> ${recipient}`, {
      location: { file },
      hint: "restore it from a backup, or pass --sequence with the next RAP file sequence number the partner expects.",
    });
  }
  return log;
}

/** The number after the last one written (00001 first; after 99999 the numbering starts again at 00001). */
export function nextRapSequence(log: RapLog): string {
  const last = log.written.at(-1);
  return last === undefined ? "00001" : nextSequenceNumber(last.rapFileSequenceNumber);
}

/** Fails when `sequence` was already written to this partner (a RAP number is used once). */
export function checkUnused(log: RapLog, sequence: string, file: string): void {
  const used = log.written.find((e) => e.rapFileSequenceNumber === sequence);
  if (used) {
    throw new InputError(`RAP file sequence number ${sequence} was already written to ${log.recipient} (${used.file}, ${used.writtenAt})`, {
      location: { param: "sequence" },
      details: `sequence log: ${file}`,
      hint: `leave out --sequence to take the next number (${nextRapSequence(log)}), or pass an unused one.`,
    });
  }
}

/** Adds an entry and writes the log atomically. */
export function recordRap(file: string, log: RapLog, entry: RapLogEntry): void {
  const next: RapLog = { ...log, written: [...log.written, entry] };
  writeFileAtomic(file, `${JSON.stringify(next, null, 2)}\n`);
}
