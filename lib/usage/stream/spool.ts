import fs from "node:fs";
import path from "node:path";

/**
 * The spool contract: the mediation system drops usage files into the spool folder; a file is taken once it
 * is complete. Complete means both:
 * - its name is final: not hidden (`.name`) and not a temp name (`*.tmp`, `*.part`, `*.partial`, `*.filepart`,
 *   `*.crdownload`), so a writer that writes `name.tmp` and renames it to `name` is never read half-written;
 * - it has not changed for `settleMs` (its modification time is that old), for writers that write in place.
 * Only usage files are taken: `.csv`, `.jsonl`, `.ndjson` by their name, TAP 3.12 files (TD.57 names have no
 * extension) by their content; anything else (and the `done/`, `rejected/` folders and the stream's own
 * `.stream/`) is left alone.
 */
export const TEMP_SUFFIXES = [".tmp", ".part", ".partial", ".filepart", ".crdownload"] as const;

export interface SpoolFile {
  name: string;
  size: number;
  mtimeMs: number;
}

/** Files the stream writes beside a usage file: never taken as usage. */
const OWN_SUFFIXES = [".rejects.csv", ".refused.txt", ".charges.csv"];

/**
 * True when the name may be a complete usage file: not hidden, not a temp name, not a file the stream
 * writes, and with one of `extensions` (a name with another extension or none, as TD.57 names a TAP file,
 * is a candidate too when `others`: its content then tells, lib/tap/sniff.ts).
 */
export function isCandidateName(name: string, extensions: readonly string[], others = false): boolean {
  if (name.startsWith(".")) return false;
  const lower = name.toLowerCase();
  if (TEMP_SUFFIXES.some((s) => lower.endsWith(s)) || OWN_SUFFIXES.some((s) => lower.endsWith(s))) return false;
  return others || extensions.includes(path.extname(lower));
}

/**
 * The complete files of the spool, oldest first (modification time, then name): the order the mediation
 * dropped them in. `now` is the clock the settle time is measured against.
 */
export function completeFiles(
  dir: string,
  options: { settleMs: number; extensions: readonly string[]; others?: boolean; now?: number },
): SpoolFile[] {
  const now = options.now ?? Date.now();
  const out: SpoolFile[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isFile() || !isCandidateName(entry.name, options.extensions, options.others)) continue;
    let stat: fs.Stats;
    try {
      stat = fs.statSync(path.join(dir, entry.name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") continue; // renamed away meanwhile
      throw error;
    }
    if (now - stat.mtimeMs < options.settleMs) continue;
    out.push({ name: entry.name, size: stat.size, mtimeMs: stat.mtimeMs });
  }
  return out.sort((a, b) => a.mtimeMs - b.mtimeMs || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** `dir/name`, or `dir/name-2.ext`, `-3`... when taken: a later file of the same name never overwrites an earlier one. */
export function freeName(dir: string, name: string): string {
  const ext = path.extname(name);
  const base = name.slice(0, name.length - ext.length);
  for (let i = 1; ; i++) {
    const candidate = i === 1 ? name : `${base}-${i}${ext}`;
    if (!fs.existsSync(path.join(dir, candidate)) && !fs.existsSync(path.join(dir, `${candidate}.rejects.csv`))) return candidate;
  }
}
