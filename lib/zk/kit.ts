/**
 * Where a carrier's prover finds the proving key: a finalized ceremony folder (`zk:ceremony:finalize`: its
 * circuit.wasm, final.zkey and verification_key.json), given by `--zk` or ROAMLEDGER_ZK_DIR; on a development
 * chain (chain id 31337, the embedded network and `hardhat node`) the deterministic development ceremony when
 * none is given, built once per machine under .zk/dev/.
 */
import fs from "node:fs";
import path from "node:path";
import { ConfigError } from "../core/errors";
import type { ProvingKit } from "./claim";
import { CEREMONY_FILES, ensureDevCeremony, readFinalVerificationKey } from "./ceremony";

/** The chain id of Hardhat's development networks. */
export const DEV_CHAIN_ID = 31337n;

/** The proving kit of a finalized ceremony folder; ConfigError naming what is missing. */
export function provingKitFrom(dir: string): ProvingKit {
  const { vkey } = readFinalVerificationKey(dir);
  const wasm = path.join(dir, CEREMONY_FILES.wasm);
  const zkey = path.join(dir, CEREMONY_FILES.final);
  for (const file of [wasm, zkey]) {
    if (!fs.existsSync(file)) {
      throw new ConfigError(`the ceremony folder ${dir} has no ${path.basename(file)}`, {
        hint: "give the folder `zk:ceremony:finalize` completed (it holds circuit.wasm, final.zkey and verification_key.json).",
      });
    }
  }
  return { wasm, zkey, vkey };
}

/**
 * The kit to prove with: `dir`, else ROAMLEDGER_ZK_DIR, else (development chains only) the development
 * ceremony, with `onProgress` lines while it builds the first time (minutes).
 */
export async function provingKitFor(options: { dir?: string; chainId: bigint; onProgress?: (line: string) => void }): Promise<ProvingKit> {
  const dir = options.dir || process.env.ROAMLEDGER_ZK_DIR;
  if (dir) return provingKitFrom(path.resolve(dir));
  if (options.chainId !== DEV_CHAIN_ID) {
    throw new ConfigError("no proving key (--zk): this network needs the consortium ceremony's", {
      hint: "pass --zk <the finalized ceremony folder> (or set ROAMLEDGER_ZK_DIR); the development key is refused outside development chains.",
    });
  }
  const dev = await ensureDevCeremony({ onProgress: options.onProgress });
  return { wasm: dev.wasm, zkey: dev.zkey, vkey: dev.vkey };
}
