import fs from "node:fs";
import path from "node:path";

/** Writes text (or bytes) to a file in blocks, through a temp file renamed into place at the end. */
export class BlockWriter {
  private readonly fd: number;
  private readonly tmp: string;
  private text = "";

  constructor(readonly file: string) {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.tmp = `${file}.${process.pid}.tmp`;
    this.fd = fs.openSync(this.tmp, "w");
  }

  /** Returns true when a block was written to disk. */
  write(s: string): boolean {
    this.text += s;
    if (this.text.length < 1 << 20) return false;
    fs.writeSync(this.fd, this.text);
    this.text = "";
    return true;
  }

  /** Writes `bytes` after the text written so far (a binary file: TAP). */
  writeBytes(bytes: Uint8Array): void {
    if (this.text.length) fs.writeSync(this.fd, this.text);
    this.text = "";
    fs.writeSync(this.fd, bytes);
  }

  close(): void {
    if (this.text.length) fs.writeSync(this.fd, this.text);
    this.text = "";
    fs.closeSync(this.fd);
    fs.renameSync(this.tmp, this.file);
  }

  abort(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      // closed already
    }
    fs.rmSync(this.tmp, { force: true });
  }

  /** Runs `write` on a new writer of `file`, then closes it; on an error the temp file is removed. */
  static writeFile<T>(file: string, write: (writer: BlockWriter) => T): T {
    const writer = new BlockWriter(file);
    try {
      const result = write(writer);
      writer.close();
      return result;
    } catch (err) {
      writer.abort();
      throw err;
    }
  }
}
