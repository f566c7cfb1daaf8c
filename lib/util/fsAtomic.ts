import fs from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";

/** Pieces of a streamed write are gathered up to this many characters per write call. */
const STREAM_WRITE_CHARS = 1 << 20;

/**
 * Writes `file` so that a reader (or a crash) sees the old content or the new one, never a mix. `data`
 * may come in pieces (e.g. a generator), so that a big file never sits in memory whole.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array | Iterable<string>): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  const fd = fs.openSync(temp, "wx", 0o600);
  try {
    try {
      if (typeof data === "string" || data instanceof Uint8Array) {
        fs.writeFileSync(fd, data);
      } else {
        let pending: string[] = [];
        let chars = 0;
        for (const piece of data) {
          pending.push(piece);
          chars += piece.length;
          if (chars >= STREAM_WRITE_CHARS) {
            fs.writeSync(fd, pending.join(""));
            pending = [];
            chars = 0;
          }
        }
        if (pending.length > 0) fs.writeSync(fd, pending.join(""));
      }
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, file);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw error;
  }
}

/** Renames `from` to `to` if `from` exists; true when it did. Idempotent step of a commit. */
export function renameIfPresent(from: string, to: string): boolean {
  try {
    fs.renameSync(from, to);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
}

/** Temp files of the atomic writers (writeFileAtomic, AtomicTextFile, RecordIdSet): `.<name>.<pid>.<hex>.tmp`. */
const TEMP_FILE = /^\.(.+)\.(\d+)\.[0-9a-f]+\.tmp$/;

/** True while a process with this id runs (on this machine). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes the temp files a killed writer left in `dir` (only those of the file `name`, when given): the
 * ones named after a process that no longer runs. A running writer's temp file stays. Returns the names
 * removed. A crash can leave one behind at any point of a write; the final file is never touched.
 */
export function removeStaleTempFiles(dir: string, name?: string): string[] {
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const removed: string[] = [];
  for (const entry of entries) {
    const m = TEMP_FILE.exec(entry);
    if (!m || (name !== undefined && m[1] !== name)) continue;
    const pid = Number(m[2]);
    if (pid === process.pid || processAlive(pid)) continue;
    fs.rmSync(path.join(dir, entry), { force: true });
    removed.push(entry);
  }
  return removed;
}

/** An AtomicTextFile writes to its temp file once this many characters are pending. */
const ATOMIC_TEXT_FLUSH_CHARS = 1 << 18;

/**
 * A text file written in pieces (asynchronously) to a temp file beside `target` (`.<name>.<pid>.<hex>.tmp`),
 * renamed into place by `commit`, removed by `abort`: a reader (or a crash) sees the old file or the whole
 * new one. `open` first removes the temp files of `target` that killed runs left behind.
 */
export class AtomicTextFile {
  readonly tmp: string;
  private pending = "";
  private handle?: fs.promises.FileHandle;

  constructor(readonly target: string) {
    this.tmp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  }

  /** Creates the temp file; `first` (e.g. a CSV header) is its first text. */
  async open(first = ""): Promise<void> {
    removeStaleTempFiles(path.dirname(this.target), path.basename(this.target));
    this.handle = await fs.promises.open(this.tmp, "wx");
    this.pending = first;
  }

  /** Appends `text` (buffered; written about every 256 KB). */
  async add(text: string): Promise<void> {
    this.pending += text;
    if (this.pending.length >= ATOMIC_TEXT_FLUSH_CHARS) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    if (!this.handle) throw new Error(`${this.target} is not open for writing`);
    const text = this.pending;
    this.pending = "";
    await this.handle.write(text, null, "utf8");
  }

  /** Writes what is buffered, syncs, closes and moves the file into place. */
  async commit(): Promise<void> {
    await this.flush();
    if (!this.handle) throw new Error(`${this.target} is not open for writing`);
    await this.handle.sync();
    await this.handle.close();
    this.handle = undefined;
    await fs.promises.rename(this.tmp, this.target);
  }

  /** Removes the temp file; the previous `target`, if any, stays. Safe to call more than once. */
  async abort(): Promise<void> {
    this.pending = "";
    await this.handle?.close().catch(() => undefined);
    this.handle = undefined;
    await fs.promises.rm(this.tmp, { force: true });
  }
}
