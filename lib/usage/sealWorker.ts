/**
 * Worker-thread side of {@link SealThread} (lib/usage/sealThread.ts): for each batch the ingest hands
 * over (its records packed back to back), computes the totals salt, the leaves salted with it, the Merkle
 * root, the totals commitment and the sealed payload,
 * and writes it to a folder store when given one. The ingest's main thread meanwhile parses, checks and
 * packs the next batch: on two cores, hashing no longer waits for parsing, nor parsing for hashing.
 */
import { parentPort } from "node:worker_threads";
import type { Hex } from "../util/hex";
import { LeafHasher, RECORD_BYTES } from "./leaf";
import { type BatchSeal, sealBatch, type UnsaltedHeader } from "./sealBatch";
import { FolderStore } from "./store";

export interface SealJob {
  id: number;
  header: UnsaltedHeader;
  /** The batch's records, packed (count * RECORD_BYTES bytes); transferred, not copied. */
  packed: Uint8Array;
  count: number;
  pairKey: Uint8Array;
  /** A folder store to write the sealed payload to; without one, the sealed bytes come back. */
  storeDir?: string;
}

export type SealAnswer =
  | ({ id: number; ok: true; packed: Uint8Array; seal: Omit<BatchSeal, "sealed"> } & ({ payloadHash: Hex } | { sealed: Uint8Array }))
  | { id: number; ok: false; name: string; message: string; shortMessage?: string; details?: string; hint?: string };

/** One hasher for the thread's life, made on its first job. */
let hasher: Promise<LeafHasher> | undefined;

async function run(job: SealJob): Promise<SealAnswer> {
  if (hasher === undefined) hasher = LeafHasher.create();
  const records = job.packed.subarray(0, job.count * RECORD_BYTES);
  const { sealed, ...seal } = await sealBatch({ pairKey: job.pairKey, header: job.header, records, hasher: await hasher });
  // The packed records go back with the answer (transferred), for the next batch to fill.
  if (job.storeDir === undefined) return { id: job.id, ok: true, seal, sealed, packed: job.packed };
  return { id: job.id, ok: true, seal, payloadHash: await new FolderStore(job.storeDir).put(sealed), packed: job.packed };
}

const port = parentPort;
if (port) {
  port.on("message", (job: SealJob) => {
    run(job).then(
      (answer) => {
        const transfer = answer.ok
          ? [answer.packed.buffer as ArrayBuffer, ...("sealed" in answer ? [answer.sealed.buffer as ArrayBuffer] : [])]
          : [];
        port.postMessage(answer, transfer);
      },
      (error: Error & { shortMessage?: string; details?: string; hint?: string }) => {
        const { name, message, shortMessage, details, hint } = error;
        port.postMessage({ id: job.id, ok: false, name, message, shortMessage, details, hint } satisfies SealAnswer);
      },
    );
  });
}
