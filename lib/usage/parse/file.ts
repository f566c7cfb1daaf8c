import fs from "node:fs";
import { InputError } from "../../core/errors";
import { looksLikeBer } from "../../tap/sniff";

/** Bytes of a file's start that must hold no NUL byte. */
const SNIFF_BYTES = 4096;

/** Opens a usage file for reading; throws InputError when it is missing, a folder or unreadable. */
export async function openUsageFile(file: string): Promise<{ handle: fs.promises.FileHandle; size: number }> {
  const location = { file };
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file, "r");
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    if (code === "ENOENT") {
      throw new InputError("file not found", { location, cause, hint: `check the path (relative paths start from ${process.cwd()}).` });
    }
    throw new InputError(`cannot open the file (${code ?? String(cause)})`, {
      location,
      cause,
      hint:
        code === "EISDIR"
          ? "pass the path of the usage file itself, not of its folder."
          : "check that the file exists and that you may read it.",
    });
  }
  const stat = await handle.stat();
  if (!stat.isFile()) {
    await handle.close();
    throw new InputError(stat.isDirectory() ? "is a directory, not a usage file" : "is not a regular file", {
      location,
      hint: "pass the path of the usage file itself.",
    });
  }
  return { handle, size: stat.size };
}

/**
 * Throws InputError for a file that is binary, compressed, BER (TAP) or not UTF-8 text, judging by its start
 * (`size`: the file's size when `head` is all of it).
 */
export function sniff(file: string, head: Buffer, size?: number): void {
  const location = { file, line: 1 };
  const text = "export the usage records as UTF-8 text: CSV with a header, or JSON lines (docs/usage-records.md).";
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    throw new InputError("the file is gzip-compressed", {
      location,
      hint: "decompress it first (gunzip), then pass the .csv or .jsonl file.",
    });
  }
  if (head.length >= 2 && ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff))) {
    throw new InputError("the file is UTF-16 text", { location, hint: `save it as UTF-8; ${text}` });
  }
  if (looksLikeBer(head, size)) {
    throw new InputError("the file is BER (a TAP, RAP or NRTRDE file), not usage records as text", {
      location,
      hint: "give a TAP 3.12 file to usage:ingest as it is (it is told by its content), or convert it with usage:tap (docs/tap.md).",
    });
  }
  const nul = head.subarray(0, SNIFF_BYTES).indexOf(0);
  if (nul !== -1) {
    throw new InputError(`the file is binary (a NUL byte at offset ${nul})`, {
      location,
      hint: `is it a TAP or other binary file, or an archive? ${text}`,
    });
  }
}
