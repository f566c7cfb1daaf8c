import { AssertionError, expect } from "chai";
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { atExit, freePort, rpc, spawnTracked, stopTracked, tail } from "../helpers/node";

/**
 * README's "Quick start" and "Working with a chain" followed literally, start to finish, as a new carrier
 * engineer would: every line of their ```sh blocks runs, in order, in one bash (so `PERIOD=...` and `export`
 * carry over, as in a terminal), and must exit 0; where README says what a command prints, the output is
 * checked.
 *
 * - `npx hardhat node` ("terminal 1") is started as written, on a free loopback port instead of 8545 (other
 *   tests and people share the machine), and the other lines reach it through ROAMLEDGER_RPC_URL, which
 *   README names as the way to point `localhost` elsewhere. It is stopped when the test ends, pass or fail.
 * - The lines run in a scratch copy of the repository (its files linked, `ignition/deployments`,
 *   `.roamledger/` and `out/` real folders of the copy), so nothing in the repository is touched: the test
 *   checks `git status` before and after.
 * - The environment is a new terminal's: no ROAMLEDGER_* variable of the test run leaks in.
 *
 * Lines the test does not run, and why (nothing else is skipped; a line listed here that README no longer
 * has fails the test, so the list cannot go stale):
 */
const SKIPPED: Record<string, string> = {
  // Installing is what the machine running this test has done already (node_modules is in place).
  "npm ci && npm run demo": "npm ci has run; CI runs `npm run demo` as a step of its own (.ci/run)",
  // The test is part of `npm test`: running it here would run itself.
  "npm test": "this test is part of npm test",
};

/** The long-running "terminal 1" line: started in the background, the port awaited. */
const NODE_LINE = "npx hardhat node";

/** What README says (or implies) a command prints: checked on the output of the first line starting so. */
const PRINTS: [prefix: string, expected: RegExp][] = [
  ["npx hardhat deploy", /RoamLedger deployed on localhost/],
  ["for p in 262-01 310-410 724-05 999-01; do npx hardhat keys:init", /Keys of 262-01 in (\S*\/)?\.roamledger\/262-01:/],
  ["ROAMLEDGER_PROFILE=724-05 npx hardhat agreement:accept", /accepted version 1/],
  ["npx hardhat device:register", /registered \d+ devices in \d+ transactions?/],
  ["npx hardhat usage:verify", /action: accepted/],
  ["npx hardhat dev:time", /Chain clock moved 145d on localhost/],
  ["npx hardhat invoice:cosign", /co-signed/i],
  ["npx hardhat report", /724-05/],
  ["npx hardhat watch --once", /since the deployment/],
  ["npx hardhat profile:show", /Profile: {2}262-01 \(ROAMLEDGER_PROFILE=262-01\)[\s\S]*Member: {3}262-01 /],
  ["npx hardhat dev:mint", /Minted 10000 RLST to 0x70997970C51812dc3A010C7d01b50e0d17dc79C8/],
  ["npx hardhat keys:share --partner 724-05", /724-05 stores it with: ROAMLEDGER_PROFILE=724-05 npx hardhat keys:receive --home 262-01\b/],
  [
    "ROAMLEDGER_PROFILE=724-05 npx hardhat usage:ingest",
    /records committed[\s\S]*ROAMLEDGER_PROFILE=262-01 npx hardhat usage:verify --visited 724-05 --period \d{4}-\d{2}\b/,
  ],
  ["npx hardhat escrow:deposit", /[Dd]eposit/],
  ["npx hardhat escrow:settle", /[Ss]ettled|[Pp]aid/],
  ["ROAMLEDGER_PROFILE=724-05 npx hardhat keys:receive", /Stored the IMSI key of 262-01/],
];

const REPO = path.resolve(__dirname, "..", "..");
/** Every line's output of the last run, markers included. */
const TRANSCRIPT = path.join(os.tmpdir(), "roamledger-readme-transcript.txt");

/** The ```sh blocks of README's section `title` (up to the next `## ` heading), their lines in order. */
export function shellLines(readme: string, title: string): string[] {
  const start = readme.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`README has no section "## ${title}"`);
  const next = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, next < 0 ? undefined : next);
  const lines: string[] = [];
  for (const block of section.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const line of block[1].split("\n")) if (line.trim() !== "" && !line.trim().startsWith("#")) lines.push(line.trim());
  }
  return lines;
}

/** The command of a line without its trailing comment (`  # ...`). */
const withoutComment = (line: string) => line.replace(/\s+#.*$/, "").trim();

/** A scratch copy of the repository: every top-level entry linked, except what the walkthrough writes. */
function scratchCopy(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "roamledger-readme-"));
  atExit(() => fs.rmSync(dir, { recursive: true, force: true }));
  // hardhat.config.js is copied: Hardhat takes the project root from the real path of the config file, and
  // the root is where `deploy` writes ignition/deployments/.
  const written = new Set([".roamledger", "out", "usage", "ignition", ".git", "hardhat.config.js"]);
  for (const entry of fs.readdirSync(REPO)) {
    if (!written.has(entry)) fs.symlinkSync(path.join(REPO, entry), path.join(dir, entry));
  }
  fs.copyFileSync(path.join(REPO, "hardhat.config.js"), path.join(dir, "hardhat.config.js"));
  fs.mkdirSync(path.join(dir, "ignition"));
  for (const entry of ["modules", "parameters"]) {
    fs.symlinkSync(path.join(REPO, "ignition", entry), path.join(dir, "ignition", entry));
  }
  return dir;
}

/** A new terminal's environment: the test run's ROAMLEDGER_* and HARDHAT_* variables left out. */
function terminalEnv(rpcUrl: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(ROAMLEDGER_|HARDHAT_|TS_NODE_)/.test(key)) env[key] = value;
  }
  env.ROAMLEDGER_RPC_URL = rpcUrl;
  return env;
}

/** The repository's changed, new and ignored files where the walkthrough writes (ignored ones included). */
const gitStatus = () =>
  execFileSync(
    "git",
    [
      "status",
      "--porcelain",
      "--ignored",
      "--untracked-files=all",
      "--",
      "ignition",
      ".roamledger",
      "out/walkthrough",
      "usage",
      "examples",
    ],
    { cwd: REPO, encoding: "utf8" },
  );

/** One bash script running `lines` in order; each line's output between markers, stopping at the first failure. */
function script(lines: readonly string[]): string {
  const parts = ["exec 2>&1"];
  lines.forEach((line, i) => {
    parts.push(`printf '\\n@@@ line ${i}\\n'`, line, `rc=$?; printf '\\n@@@ exit ${i} %d\\n' $rc; [ $rc -eq 0 ] || exit $rc`);
  });
  return `${parts.join("\n")}\n`;
}

/** The output of each line that ran, and its exit code. */
function outputsOf(output: string): { text: string; code: number }[] {
  const results: { text: string; code: number }[] = [];
  for (const m of output.matchAll(/@@@ line (\d+)\n([\s\S]*?)\n@@@ exit \1 (\d+)\n/g)) {
    results[Number(m[1])] = { text: m[2], code: Number(m[3]) };
  }
  return results;
}

describe("README: Quick start and Working with a chain, followed literally on a separate node", function () {
  this.timeout(20 * 60_000);
  const readme = fs.readFileSync(path.join(REPO, "README.md"), "utf8");
  const quickStart = shellLines(readme, "Quick start");
  const walkthrough = shellLines(readme, "Working with a chain");

  it("skips only the lines of its documented list, each of which README has", function () {
    const all = [...quickStart, ...walkthrough].map(withoutComment);
    for (const line of Object.keys(SKIPPED)) expect(all, `README no longer has "${line}": update SKIPPED`).to.include(line);
    expect(walkthrough.map(withoutComment).filter((l) => l === NODE_LINE)).to.have.length(1);
    expect(walkthrough.length).to.be.greaterThan(10);
  });

  it("runs every other line against a `npx hardhat node` of its own; each exits 0 and prints what README says", async function () {
    const before = gitStatus();
    const dir = scratchCopy();
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const env = terminalEnv(url);
    const runnable: string[] = [];
    let node: ReturnType<typeof spawnTracked> | undefined;
    let stopGroup: (() => void) | undefined;
    try {
      for (const line of [...quickStart, ...walkthrough]) {
        const command = withoutComment(line);
        if (SKIPPED[command]) continue;
        if (command === NODE_LINE) {
          // npx starts hardhat as a grandchild: the node runs in a process group of its own, stopped as a whole.
          node = spawnTracked("bash", ["-c", `exec ${command} --hostname 127.0.0.1 --port ${port}`], {
            cwd: dir,
            env,
            stdio: ["ignore", "pipe", "pipe"],
            detached: true,
          });
          const group = node.pid;
          if (group !== undefined) stopGroup = atExit(() => killGroup(group, "SIGKILL"));
          const output = tail(node.stdout);
          tail(node.stderr);
          await waitForNode(url, node, output);
          continue;
        }
        runnable.push(line);
      }
      expect(node, "README starts a node").to.not.equal(undefined);
      const file = path.join(dir, "readme.sh");
      fs.writeFileSync(file, script(runnable));
      const run = spawnSync("bash", [file], { cwd: dir, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
      // The whole transcript outlives the scratch copy, for whoever reads a failure.
      fs.writeFileSync(TRANSCRIPT, run.stdout);
      const results = outputsOf(run.stdout);
      runnable.forEach((line, i) => {
        const result = results[i];
        expect(result, `line ${i + 1} did not run: ${line}\n${run.stdout.slice(-4000)}`).to.not.equal(undefined);
        expect(result.code, `${line}\n${result.text}\n(the whole run: ${TRANSCRIPT})`).to.equal(0);
      });
      for (const [prefix, expected] of PRINTS) {
        const index = runnable.findIndex((l) => l.startsWith(prefix));
        expect(index, `README has a line starting "${prefix}"`).to.be.greaterThan(-1);
        expect(results[index].text, `${runnable[index]} (the whole run: ${TRANSCRIPT})`).to.match(expected);
      }
    } finally {
      if (node?.pid !== undefined) {
        killGroup(node.pid, "SIGTERM");
        await stopTracked(node);
        killGroup(node.pid, "SIGKILL");
        stopGroup?.();
      }
    }
    expect(gitStatus(), "the walkthrough touched the repository").to.equal(before);
  });
});

/** Sends `signal` to every process of the group `pgid` (npx, its shell, hardhat); none left is fine. */
function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // the group is gone already
  }
}

/** Waits until the node answers eth_chainId 31337 (the chain of `npx hardhat node`), for 120 s at most. */
async function waitForNode(url: string, node: ReturnType<typeof spawnTracked>, output: () => string): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (node.exitCode !== null) throw new Error(`npx hardhat node exited with ${node.exitCode}\n${output()}`);
    try {
      expect(Number(await rpc<string>(url, "eth_chainId"))).to.equal(31337);
      return;
    } catch (error) {
      if (error instanceof AssertionError) throw error;
      if (Date.now() > deadline) throw new Error(`npx hardhat node did not answer on ${url} within 120 s\n${output()}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
