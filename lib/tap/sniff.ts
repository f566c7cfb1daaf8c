/**
 * Telling a TAP (BER) file from usage records as text, by its first bytes (not its name: TD.57 names have
 * no extension). The roots' first bytes 0x61 and 0x62 are also "a" and "b": the length octet decides. A
 * TAP root's length is indefinite (0x80) or long-form (0x81 to 0x86), neither of which is ASCII; a short
 * form (a file under 130 bytes) counts only when it gives the file's size exactly.
 */
import fs from "node:fs";

/** Whether `head` (a file's first bytes; `size`, the file's size when known) starts a BER DataInterChange: TAP, RAP or NRTRDE. */
export function looksLikeBer(head: Buffer, size?: number): boolean {
  if (head.length < 2) return false;
  // [APPLICATION 1] or [APPLICATION 2], constructed: TransferBatch, Notification (and NRTRDE's root).
  if (head[0] === 0x61 || head[0] === 0x62) {
    const l0 = head[1];
    if (l0 >= 0x80 && l0 <= 0x86) return true;
    return l0 < 0x80 && size !== undefined && size === l0 + 2;
  }
  // [APPLICATION 534/535] constructed, long-form tag: RAP ReturnBatch, Acknowledgement (0x7f is never text).
  return head.length >= 3 && head[0] === 0x7f && head[1] === 0x84 && (head[2] === 0x16 || head[2] === 0x17);
}

/** Reads the first bytes of a file and tells whether it is a BER (TAP/RAP) file; false when it cannot be read. */
export async function isTapFile(file: string): Promise<boolean> {
  let handle: fs.promises.FileHandle | undefined;
  try {
    handle = await fs.promises.open(file, "r");
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    return looksLikeBer(head.subarray(0, bytesRead), (await handle.stat()).size);
  } catch {
    return false;
  } finally {
    await handle?.close();
  }
}
