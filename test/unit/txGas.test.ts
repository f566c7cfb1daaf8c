/**
 * EIP-7825 across the commands: runs every task test (test/unit/tasks/*.test.ts: each command's default
 * path and more) with a recorder on the provider, and checks that the largest transaction of each
 * command is under 16,777,216 gas with room to spare. The table it prints is the one in docs/besu.md
 * ("Gas per transaction").
 *
 * Run alone (`npx hardhat test test/unit/txGas.test.ts`) it loads the task tests itself, inside this
 * suite. In a full run mocha has loaded them already (and runs them before this file, in path order):
 * the recorder, installed when this file loads, sees them there instead.
 */
import path from "node:path";
import hre from "hardhat";
import { expect } from "chai";
import { GasRecorder } from "../helpers/gasRecorder";
import { TX_GAS_CAP } from "../../lib/settlement/claims";

const TASK_TESTS = ["agreement", "carrier", "device", "escrow", "invoice", "profile", "tadig", "usage", "usageDeadEnd", "watch"].map(
  (name) => require.resolve(path.join(__dirname, "tasks", `${name}.test.ts`)),
);

/** The commands that send transactions on their tested paths: each must have been seen sending. */
const SENDING_COMMANDS = [
  "agreement:accept",
  "agreement:propose",
  "carrier:propose",
  "carrier:rotate-key",
  "carrier:tadig",
  "carrier:vote",
  "deploy",
  "dev:mint",
  "device:confirm-fraud",
  "device:dismiss-flags",
  "device:register",
  "device:reinstate",
  "device:suspend",
  "escrow:claim",
  "escrow:deposit",
  "escrow:pay-debt",
  "escrow:payout",
  "escrow:settle",
  "escrow:withdraw",
  "invoice:claim",
  "invoice:cosign",
  "invoice:propose",
  "invoice:reveal",
  "keys:share",
  "operator:accept",
  "operator:offer",
  "operator:permissions",
  "operator:remove",
  "policy:update",
  "usage:close",
  "usage:ingest",
  "usage:verify",
  "zk:verifier:approve",
  "zk:verifier:propose",
];

/** Room each command leaves under the cap: a default path may use at most 3/4 of it. */
const MAX_SHARE_OF_CAP = 0.75;

const recorder = new GasRecorder(hre);
if (!process.env.SOLIDITY_COVERAGE) recorder.install();

describe("EIP-7825: the largest transaction of every command", function () {
  describe("the commands (test/unit/tasks)", function () {
    // Run alone: load the task tests here, so that they run inside this suite with the recorder on.
    if (TASK_TESTS.every((file) => require.cache[file] === undefined)) for (const file of TASK_TESTS) require(file);
  });

  describe("the record", function () {
    before(function () {
      // solidity-coverage's instrumented code needs more gas: the cap is off under it (config/base.ts).
      if (process.env.SOLIDITY_COVERAGE) this.skip();
    });
    after(() => recorder.uninstall());

    it("every command that sends transactions was seen sending", function () {
      const seen = [...recorder.byCommand.keys()];
      expect(seen).to.include.members(SENDING_COMMANDS);
    });

    it(`no command's largest transaction uses more than ${MAX_SHARE_OF_CAP * 100}% of 16,777,216 gas`, function () {
      const limit = (TX_GAS_CAP * BigInt(MAX_SHARE_OF_CAP * 100)) / 100n;
      console.log("      command                  txs   largest tx (gas)   share of the cap");
      for (const r of recorder.table()) {
        const share = ((Number(r.maxGas) / Number(TX_GAS_CAP)) * 100).toFixed(1);
        console.log(
          `      ${r.command.padEnd(24)} ${String(r.transactions).padStart(4)} ${r.maxGas.toLocaleString("en-US").padStart(18)}   ${share.padStart(5)}%`,
        );
      }
      for (const r of recorder.table()) expect(r.maxGas, `${r.command} (${r.maxTx})`).to.be.at.most(limit);
    });
  });
});
