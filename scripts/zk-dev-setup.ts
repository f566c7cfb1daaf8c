/**
 * The deterministic development setup of the rating circuit (lib/zk/ceremony.ts `ensureDevCeremony`): builds
 * the circuit, the 2^15 phase 1 (or reuses .zk/ptau/pot15.ptau), the zkey and a fixed-beacon phase-2
 * contribution into .zk/dev/rating_v1-<sourceHash>/, printing each step and its time. Skips everything when
 * that folder exists. Its keys' toxic waste is public: development and tests only.
 *
 *   npm run zk:dev
 */
import path from "node:path";
import { ensureDevCeremony } from "../lib/zk/ceremony";
import { verificationKeyHash } from "../lib/zk/prover";

async function main(): Promise<void> {
  const started = Date.now();
  const dev = await ensureDevCeremony({ onProgress: (line) => console.error(line) });
  const root = path.resolve(__dirname, "..");
  const steps = Object.entries(dev.timings);
  console.log(
    steps.length <= 1
      ? `Development setup cached in ${path.relative(root, dev.dir)}`
      : `Development setup written to ${path.relative(root, dev.dir)}`,
  );
  for (const [step, ms] of steps) console.log(`  ${step.padEnd(30)} ${(ms / 1000).toFixed(1)} s`);
  console.log(`  ${"total".padEnd(30)} ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`verificationKeyHash: ${verificationKeyHash(dev.vkey)}`);
  console.log(`transcript hash:     ${dev.transcriptHash}`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
