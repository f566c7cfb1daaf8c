import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import hre from "hardhat";
import type { TermsLike } from "../../lib/agreements/terms";
import { rateInvoice, type ClassTotalsLike } from "../../lib/settlement/rating";
import { r1csConstraints } from "../../lib/zk/circuit";
import {
  CEREMONY_FILES,
  contributeCeremony,
  ensureDevCeremony,
  ensureDevPtau,
  finalizeCeremony,
  startCeremony,
  verifyCeremony,
} from "../../lib/zk/ceremony";
import { RATING_V1, ratingV1Input } from "../../lib/zk/encoding";
import { proofToSolidity, proveGroth16, verifierConstructorArgs } from "../../lib/zk/prover";
import { releaseSnarkjs } from "../../lib/zk/snarkjs";
import type { Hex } from "../../lib/util/hex";
import { median } from "./util";

/**
 * Zero-knowledge adjudication (docs/zk.md): the rating-v1 circuit's size, a consortium ceremony's phase-2
 * steps on this machine (start, one contribution, verification of the chain, finalization with a beacon),
 * the proving key's size, the prove time (a fresh process per run, cold, then warm runs in one process) and
 * its peak memory, and the gas of the on-chain verification, for an invoice that uses all 8 classes with 4
 * tiers each.
 */
export interface ZkBenchResult {
  circuit: string;
  constraints: number;
  ceremonySec: { start: number; contribute: number; verify: number; finalize: number };
  provingKeyMb: number;
  /** `compiled`: the prover ran as the package's JavaScript (dist/), else through ts-node. */
  prove: { runs: number; coldMs: number; warmMedianMs: number; warmMs: number[]; peakRssMb: number; compiled: boolean };
  verifyProofGas: number;
}

const BR = "0x27f450";
const DE = "0x62f210";

/** An invoice using every slot of rating-v1: 8 classes with 4 tiers, every charge and an SLA credit. */
export function fullInvoice(token: string): { terms: TermsLike; totals: ClassTotalsLike[]; net: bigint } {
  const ratePlans = Array.from({ length: RATING_V1.classes }, (_, c) => ({
    visited: BR,
    tariffClass: c + 1,
    perMb: 1_000n + BigInt(c) * 37n,
    perSignallingEvent: 3n,
    perSms: 11n + BigInt(c),
    perVoiceMinute: 20_000n,
    monthlyFeePerDevice: 500n,
    tiers: [0, 1, 2, 3].map((t) => ({ fromMb: 100n * 10n ** BigInt(t), discountBps: 500 * (t + 1) })),
  }));
  const terms: TermsLike = {
    settlementToken: token,
    validFrom: 1,
    validUntil: 2 ** 40,
    disputeWindow: 86_400,
    permanentRoamingDays: 90,
    permanentRoamingSurchargePerDay: 7n,
    sla: {
      maxLatencyMs: 300,
      minThroughputKbps: 500,
      minAvailabilityBps: 0,
      latencyCreditBps: 250,
      throughputCreditBps: 150,
      availabilityCreditBps: 0,
    },
    ratePlans,
  } as unknown as TermsLike;
  const totals = ratePlans.map((p, c) => ({
    tariffClass: p.tariffClass,
    activeDevices: 1_000 + c,
    roamerDays: 30 * c,
    dataBytes: 123_456_789_012n * BigInt(c + 1),
    signallingEvents: 10_000n,
    smsCount: 2_000n,
    voiceSeconds: 3_601n,
    qosSamples: 900,
    latencyMsSum: 900n * 350n,
    throughputKbpsSum: 900n * 450n,
  }));
  return { terms, totals, net: rateInvoice(totals, terms, BR).net };
}

const SALT = `0x${"5a".repeat(32)}` as Hex;

/**
 * The child process that proves `runs` times in one process with lib/zk/prover.ts and prints each proof's
 * time and its peak RSS: the first run compiles the circuit's wasm (cold), the others reuse it. It loads the
 * package's compiled JavaScript (dist/, `npm run build`) as a carrier's backend does, when it is newer than
 * the source; else the TypeScript through ts-node, whose compiler adds about 150 MB to the peak.
 */
const PROVER = `
const { proveGroth16 } = require(process.argv[5]);
const [input, wasm, zkey, runs] = [JSON.parse(process.argv[1]), process.argv[2], process.argv[3], Number(process.argv[4])];
(async () => {
  const ms = [];
  for (let i = 0; i < runs; i++) {
    const t = Date.now();
    await proveGroth16(input, { wasm, zkey });
    ms.push(Date.now() - t);
  }
  process.stdout.write(JSON.stringify({ ms, maxRssKb: process.resourceUsage().maxRSS }));
  process.exit(0);
})();
`;

/** The prover module the child loads: dist's when built from the current source, else the TypeScript. */
function proverModule(root: string): { module: string; args: string[]; compiled: boolean } {
  const built = path.join(root, "dist", "lib", "zk", "prover.js");
  const source = path.join(root, "lib", "zk", "prover.ts");
  if (fs.existsSync(built) && fs.statSync(built).mtimeMs >= fs.statSync(source).mtimeMs) {
    return { module: built, args: [], compiled: true };
  }
  return { module: source, args: ["-r", "ts-node/register/transpile-only"], compiled: false };
}

function proveInChild(input: object, dev: { wasm: string; zkey: string }, runs: number) {
  const root = path.resolve(__dirname, "..", "..");
  const prover = proverModule(root);
  const r = spawnSync(
    process.execPath,
    [...prover.args, "-e", PROVER, JSON.stringify(input), dev.wasm, dev.zkey, String(runs), prover.module],
    { cwd: root, encoding: "utf8", maxBuffer: 1 << 20 },
  );
  if (r.status !== 0) throw new Error(`the prover process failed: ${r.stderr.slice(0, 500)}`);
  const out = JSON.parse(r.stdout) as { ms: number[]; maxRssKb: number };
  return { ms: out.ms, peakRssMb: Math.round(out.maxRssKb / 1024), compiled: prover.compiled };
}

/** Times a phase-2 ceremony of rating-v1 on the development phase 1 in a temp folder (removed after). */
async function ceremonyTimes(log: (l: string) => void): Promise<ZkBenchResult["ceremonySec"]> {
  const ptau = await ensureDevPtau({ log });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rl-ceremony-"));
  const sec = async (fn: () => Promise<unknown>) => {
    const t = Date.now();
    await fn();
    return Math.round((Date.now() - t) / 100) / 10;
  };
  try {
    const start = await sec(() => startCeremony({ dir, ptau }));
    const contribute = await sec(() => contributeCeremony({ dir, name: "bench carrier" }));
    const verify = await sec(() => verifyCeremony({ dir }));
    const finalize = await sec(() => finalizeCeremony({ dir, beacon: "ab".repeat(32), iterations: 10 }));
    log(`    ceremony: start ${start} s, contribution ${contribute} s, verify ${verify} s, finalize ${finalize} s`);
    return { start, contribute, verify, finalize };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Measures everything of {@link ZkBenchResult}; `runs` warm proofs. */
export async function measureZk(options: { runs: number; log: (l: string) => void }): Promise<ZkBenchResult> {
  const { log } = options;
  const dev = await ensureDevCeremony({ onProgress: (l) => log(`    ${l}`) });
  const constraints = r1csConstraints(path.join(dev.dir, CEREMONY_FILES.r1cs));
  const token = "0x0000000000000000000000000000000000000001";
  const { terms, totals, net } = fullInvoice(token);
  const input = ratingV1Input({ terms, termsSalt: SALT, totals, totalsSalt: SALT, payer: DE, payee: BR, period: 202_611, net });
  const cold = proveInChild(input, dev, 1);
  const warm = proveInChild(input, dev, options.runs + 1);
  const warmMs = warm.ms.slice(1);
  log(`    prove: cold ${cold.ms[0]} ms, warm ${warmMs.join(", ")} ms, peak ${Math.max(cold.peakRssMb, warm.peakRssMb)} MB`);
  const verifier = await hre.ethers.deployContract("Groth16Verifier", [verifierConstructorArgs(dev.vkey)]);
  const { proof, publicSignals } = await proveGroth16(input, dev);
  await releaseSnarkjs();
  const { a, b, c } = proofToSolidity(proof);
  const pub = publicSignals.map(BigInt) as [bigint, bigint, bigint];
  const verifyProofGas = Number(await verifier.verifyProof.estimateGas(a, b, c, pub));
  log(`    verifyProof: ${verifyProofGas} gas (a transaction calling it, the 21,000 base included)`);
  const ceremonySec = await ceremonyTimes(log);
  return {
    circuit: RATING_V1.name,
    constraints,
    ceremonySec,
    provingKeyMb: Math.round(fs.statSync(dev.zkey).size / 10_000) / 100,
    prove: {
      runs: options.runs,
      coldMs: cold.ms[0],
      warmMedianMs: median(warmMs),
      warmMs,
      peakRssMb: Math.max(cold.peakRssMb, warm.peakRssMb),
      compiled: warm.compiled,
    },
    verifyProofGas,
  };
}
