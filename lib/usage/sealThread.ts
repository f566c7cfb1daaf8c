import path from "node:path";
import { Worker } from "node:worker_threads";
import type { Hex } from "../util/hex";
import type { BatchSeal, UnsaltedHeader } from "./sealBatch";
import { FolderStore, StoreError, type ContentStore } from "./store";
import type { SealAnswer, SealJob } from "./sealWorker";

/** Files at least this big are sealed on a worker thread by default (about 160,000 CSV records). */
export const SEAL_THREAD_MIN_BYTES = 16 << 20;

/**
 * Whether an ingest of a file of `fileBytes` seals its batches on a worker thread: ROAMLEDGER_SEAL_THREAD
 * (1 or 0) decides when set, else files of at least {@link SEAL_THREAD_MIN_BYTES}. Small files are not
 * worth the thread's start-up (loading the hashing code again, about half a second with ts-node).
 */
export function sealOnThread(fileBytes: number, env = process.env.ROAMLEDGER_SEAL_THREAD): boolean {
  if (env === "1") return true;
  if (env === "0") return false;
  return fileBytes >= SEAL_THREAD_MIN_BYTES;
}

/**
 * A worker thread that turns a batch's packed records into its Merkle root, totals commitment and sealed
 * payload (and stores it, for a folder store): see lib/usage/sealWorker.ts. Jobs run one at a time, in order; the
 * caller keeps packing the next batch meanwhile. The bytes are the same as sealing on the main thread.
 */
export class SealThread {
  private readonly worker: Worker;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (a: SealAnswer & { ok: true }) => void; reject: (e: Error) => void }>();
  private failed?: Error;

  constructor() {
    const entry = path.join(__dirname, `sealWorker${path.extname(__filename)}`);
    // Under ts-node (Hardhat tasks and tests) the worker registers it too: threads do not share require hooks.
    const source = entry.endsWith(".ts")
      ? `require("ts-node").register({ transpileOnly: true }); require(${JSON.stringify(entry)});`
      : `require(${JSON.stringify(entry)});`;
    this.worker = new Worker(source, { eval: true });
    this.worker.on("message", (answer: SealAnswer) => {
      const job = this.waiting.get(answer.id);
      if (!job) return;
      this.waiting.delete(answer.id);
      if (answer.ok) {
        job.resolve(answer);
      } else if (answer.name === "StoreError") {
        job.reject(new StoreError(answer.shortMessage ?? answer.message, { details: answer.details, hint: answer.hint }));
      } else {
        job.reject(new Error(`sealing a batch failed: ${answer.message}`));
      }
    });
    this.worker.on("error", (error) => this.fail(error));
    this.worker.on("exit", (code) => this.fail(new Error(`the sealing thread stopped (exit code ${code})`)));
  }

  private fail(error: Error): void {
    this.failed ??= error;
    for (const job of this.waiting.values()) job.reject(error);
    this.waiting.clear();
  }

  /**
   * Root and payload hash of a batch. `packed` is handed over to the thread (its buffer is transferred:
   * the caller must not use it again); it comes back as `packed` in the answer, for reuse.
   */
  async seal(args: {
    header: UnsaltedHeader;
    packed: Uint8Array;
    count: number;
    pairKey: Uint8Array;
    store: ContentStore;
  }): Promise<{ seal: Omit<BatchSeal, "sealed">; payloadHash: Hex; packed: Uint8Array }> {
    if (this.failed) throw this.failed;
    const id = this.nextId++;
    const storeDir = args.store instanceof FolderStore ? args.store.dir : undefined;
    const job: SealJob = { id, header: args.header, packed: args.packed, count: args.count, pairKey: args.pairKey, storeDir };
    const answer = await new Promise<SealAnswer & { ok: true }>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage(job, [args.packed.buffer as ArrayBuffer]);
    });
    const payloadHash = "payloadHash" in answer ? answer.payloadHash : await args.store.put(answer.sealed);
    return { seal: answer.seal, payloadHash, packed: answer.packed };
  }

  async close(): Promise<void> {
    this.failed ??= new Error("the sealing thread was closed");
    await this.worker.terminate();
  }
}
