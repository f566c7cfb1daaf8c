import path from "node:path";
import { task, types } from "hardhat/config";
import { action, out } from "./common";
import {
  RATING_CIRCUIT,
  contributeCeremony,
  finalizeCeremony,
  readFinalVerificationKey,
  readTranscript,
  startCeremony,
  transcriptHash,
  verifyCeremony,
} from "../lib/zk/ceremony";
import { verificationKeyHash, verifierConstructorArgs } from "../lib/zk/prover";

// The consortium's Groth16 phase-2 ceremony (lib/zk/ceremony.ts) over a ceremony folder, and the verifier's
// deployment. Long steps print progress on stderr; results go to stdout.

const DIR_HELP = "Ceremony folder (holds the circuit, phase1.ptau, the keys and transcript.json)";

/** Progress lines on stderr (quiet under ROAMLEDGER_QUIET=1). */
const progress = (line: string): void => {
  if (process.env.ROAMLEDGER_QUIET !== "1") console.error(line);
};

const resolveDir = (dir: string): string => path.resolve(process.cwd(), dir);

task(
  "zk:ceremony:start",
  "Starts a Groth16 phase-2 ceremony: builds the circuit, checks the phase-1 file, writes 0000.zkey and transcript.json",
)
  .addParam("dir", `${DIR_HELP}; must not hold a ceremony yet`)
  .addParam("ptau", "The prepared phase-1 powers-of-tau file (bn128, from a public multi-party ceremony), large enough for the circuit")
  .addOptionalParam("circuit", `The circuit: ${RATING_CIRCUIT} or a .circom file with three public inputs`, RATING_CIRCUIT)
  .setAction(
    action(async (args: { dir: string; ptau: string; circuit: string }, hre) => {
      const dir = resolveDir(args.dir);
      const t = await startCeremony({
        dir,
        ptau: path.resolve(args.ptau),
        circuit: args.circuit,
        root: hre.config.paths.root,
        log: progress,
      });
      out(`Ceremony of ${t.circuit} started in ${dir}.`);
      out(`  r1cs sha256:        ${t.r1csHash}`);
      out(`  ptau sha256:        ${t.ptauHash}`);
      out(`  0000.zkey sha256:   ${t.initialZkeyHash}`);
      out(`Next: each participant runs \`npx hardhat zk:ceremony:contribute --dir ${args.dir} --name <name>\`.`);
    }),
  );

task(
  "zk:ceremony:contribute",
  "Adds your contribution to the ceremony: checks the latest key, then contributes with fresh random entropy that is never written or printed",
)
  .addParam("dir", DIR_HELP)
  .addParam("name", "Your name or organisation, as the transcript records it")
  .setAction(
    action(async (args: { dir: string; name: string }) => {
      const c = await contributeCeremony({ dir: resolveDir(args.dir), name: args.name, log: progress });
      out(`Contribution #${c.index} by "${c.name}" written to ${String(c.index).padStart(4, "0")}.zkey.`);
      out(`  contribution hash: ${c.contributionHash}`);
      out(`  zkey sha256:       ${c.zkeyHash}`);
      out("Publish the contribution hash: anyone can check it with zk:ceremony:verify.");
    }),
  );

task("zk:ceremony:verify", "Verifies every key of the ceremony against the circuit and the phase-1 file, and the transcript's hashes")
  .addParam("dir", DIR_HELP)
  .setAction(
    action(async (args: { dir: string }) => {
      const dir = resolveDir(args.dir);
      const steps = await verifyCeremony({ dir, log: progress });
      out(`Ceremony in ${dir}: ${steps.length} key${steps.length === 1 ? "" : "s"} verified.`);
      for (const s of steps) out(`  ${s.file}  ${s.label}${s.contributionHash ? `\n    contribution hash ${s.contributionHash}` : ""}`);
      const transcript = readTranscript(dir);
      if (transcript.final) out(`Transcript hash: ${transcriptHash(transcript)}`);
    }),
  );

task(
  "zk:ceremony:finalize",
  "Ends the ceremony with a public beacon, verifies the final key, writes verification_key.json and prints the transcript hash governance records",
)
  .addParam("dir", DIR_HELP)
  .addParam("beacon", "The public random beacon, hex (1-64 bytes), fixed only after the last contribution (e.g. a future block hash)")
  .addOptionalParam("iterations", "The beacon's iteration exponent: 2^N hashing rounds (10-63)", 10, types.int)
  .setAction(
    action(async (args: { dir: string; beacon: string; iterations: number }) => {
      const dir = resolveDir(args.dir);
      const res = await finalizeCeremony({ dir, beacon: args.beacon, iterations: args.iterations, log: progress });
      out(`Ceremony finalized in ${dir}:`);
      out(`  final.zkey sha256:      ${res.transcript.final?.zkeyHash}`);
      out(`  verificationKeyHash:    ${res.verificationKeyHash}`);
      out(`  TRANSCRIPT HASH:        ${res.transcriptHash}`);
      out("Governance records the transcript hash; the verifier is deployed with zk:verifier:deploy.");
    }),
  );

task("zk:verifier:deploy", "Deploys Groth16Verifier with the finalized ceremony's verification key")
  .addParam("dir", `${DIR_HELP}; finalized`)
  .setAction(
    action(async (args: { dir: string }, hre) => {
      const dir = resolveDir(args.dir);
      const { vkey, transcript } = readFinalVerificationKey(dir);
      const verifier = await hre.ethers.deployContract("Groth16Verifier", [verifierConstructorArgs(vkey)]);
      await verifier.waitForDeployment();
      const onChain = (await verifier.getFunction("verificationKeyHash")()) as string;
      if (onChain !== verificationKeyHash(vkey)) throw new Error(`verificationKeyHash mismatch: ${onChain} on chain`);
      out(`Groth16Verifier deployed on ${hre.network.name} at ${await verifier.getAddress()}`);
      out(`  verificationKeyHash: ${onChain}`);
      out(`  transcript hash:     ${transcriptHash(transcript)}`);
    }),
  );
