import fs from "node:fs";
import path from "node:path";
import { keccak } from "hash-wasm";
import { BaseError } from "../core/errors";
import { removeStaleTempFiles, writeFileAtomic } from "../util/fsAtomic";
import type { Hex } from "../util/hex";

/**
 * Where encrypted usage payloads live, addressed by their keccak256 (the `payloadHash` a batch commits).
 * Carriers may plug in any store both sides can reach (object storage, IPFS, an SFTP drop); the folder
 * store is the default and what demo and tests use.
 */
export interface ContentStore {
  /** Stores `data`; returns its keccak256. Storing the same bytes twice is a no-op. */
  put(data: Uint8Array): Promise<Hex>;
  /** The bytes with this hash; `StoreError` when absent or when the stored bytes do not hash to it. */
  get(hash: Hex): Promise<Uint8Array>;
  has(hash: Hex): Promise<boolean>;
  /** Where it is, for messages. */
  describe(): string;
  /** Removes what writers killed mid-write left behind (temp files); optional. */
  removeStaleTemps?(): string[];
  /**
   * Deletes the object with this hash; true when it was there. Optional: only the writer of a payload
   * that no batch on chain commits (an abandoned run's) removes it.
   */
  remove?(hash: Hex): Promise<boolean>;
}

/**
 * keccak256 of `data` as 0x hex. hash-wasm (WebAssembly) rather than ethers' JavaScript keccak: a payload
 * of 100,000 records is 11 MB, which ethers hashes in ~1.7 s and hash-wasm in ~0.1 s.
 */
async function payloadHashOf(data: Uint8Array): Promise<Hex> {
  return `0x${await keccak(data, 256)}`;
}

export class StoreError extends BaseError {
  override name = "StoreError" as const;
}

/** A folder of `<keccak256>.bin` files, written atomically. */
export class FolderStore implements ContentStore {
  constructor(readonly dir: string) {}

  private file(hash: Hex): string {
    if (!/^0x[0-9a-f]{64}$/.test(hash)) {
      throw new StoreError(`${hash} is not a payload hash`, { hint: "pass the 32-byte hex payloadHash of a batch." });
    }
    return path.join(this.dir, `${hash.slice(2)}.bin`);
  }

  async put(data: Uint8Array): Promise<Hex> {
    const hash = await payloadHashOf(data);
    const file = this.file(hash);
    if (!fs.existsSync(file)) writeFileAtomic(file, data);
    return hash;
  }

  async get(hash: Hex): Promise<Uint8Array> {
    const file = this.file(hash);
    let data: Uint8Array;
    try {
      data = fs.readFileSync(file);
    } catch (cause) {
      throw new StoreError(`payload ${hash} is not in the store ${this.dir}`, {
        cause,
        hint: "use the store folder the visited carrier publishes its payloads to (ROAMLEDGER_STORE sets it).",
      });
    }
    if ((await payloadHashOf(data)) !== hash) {
      throw new StoreError(`payload ${hash} in ${this.dir} does not match its hash: it was altered`, {
        hint: "ask the visited carrier to publish the payload again; reject the batch if it cannot.",
      });
    }
    return data;
  }

  async has(hash: Hex): Promise<boolean> {
    return fs.existsSync(this.file(hash));
  }

  describe(): string {
    return this.dir;
  }

  async remove(hash: Hex): Promise<boolean> {
    try {
      fs.unlinkSync(this.file(hash));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw error;
    }
  }

  removeStaleTemps(): string[] {
    return removeStaleTempFiles(this.dir);
  }
}
