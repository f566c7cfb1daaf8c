/**
 * The fast CLI start (config/cli/fast.ts, hardhat.config.js; docs/testing.md, "How start-up works"): the task
 * manifest declares exactly what the task files declare, a stale manifest is never used, and a command started
 * fast prints and exits as the full start (ROAMLEDGER_CLI=full) does. Timing is measured by `npm run bench --
 * --only cli`, not here.
 */
import { expect } from "chai";
import { execFile, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import hre from "hardhat";
import type { TaskDefinition } from "hardhat/types";
import { isFresh, snapshot, taskEntry, type Manifest } from "../../config/cli/fast";
import { cliWorld, type CliWorld } from "../helpers/cli";

const ROOT = hre.config.paths.root;
const HARDHAT = path.join(ROOT, "node_modules", ".bin", "hardhat");

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `hardhat <args>` as an operator runs it, in the project folder; the fast start unless env says otherwise. */
function hardhat(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [HARDHAT, ...args], { cwd: ROOT, env, timeout: 300_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** This process's environment without what would change the runs (a forced start, quiet output, a network). */
function cleanEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ["ROAMLEDGER_CLI", "ROAMLEDGER_CLI_CACHE", "ROAMLEDGER_QUIET", "HARDHAT_NETWORK", "TS_NODE_FILES", "TS_NODE_PROJECT"])
    delete env[k];
  return { ...env, ...extra };
}

/** Builds a manifest into `dir` as the fast start does (a child process loading the full configuration). */
function buildManifest(dir: string): Manifest {
  const code = `require(${JSON.stringify(path.join(ROOT, "config/cli/tsCache.js"))}).register(); require(${JSON.stringify(path.join(ROOT, "config/cli/fast.ts"))}).writeManifest();`;
  const r = spawnSync(process.execPath, ["-e", code], { cwd: ROOT, env: cleanEnv({ ROAMLEDGER_CLI_CACHE: dir }), encoding: "utf8" });
  expect(r.status, r.stderr).to.equal(0);
  return JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8")) as Manifest;
}

/** Runs `fn` with a fresh temporary folder (a manifest cache of its own), removed after. */
async function inTempCache(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "roamledger-cli-cache-"));
  try {
    await fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes `from`, changed by `change` (given it and its carrier:show entry), as the manifest of folder `dir`. */
function writeChanged(dir: string, from: Manifest, change: (m: Manifest, show: Manifest["tasks"][number]) => void): void {
  const copy: Manifest = JSON.parse(JSON.stringify(from));
  const show = copy.tasks.find((t) => t.name === "carrier:show");
  if (!show) throw new Error("no carrier:show in the manifest");
  change(copy, show);
  fs.writeFileSync(path.join(dir, "manifest.json"), JSON.stringify(copy));
}

/** Every `task("name"` call in tasks/*.ts, by file: read from the sources, apart from Hardhat. */
function declaredInSources(): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of fs.readdirSync(path.join(ROOT, "tasks")).filter((x) => x.endsWith(".ts"))) {
    const text = fs.readFileSync(path.join(ROOT, "tasks", f), "utf8");
    for (const m of text.matchAll(/\btask\(\s*"([^"]+)"/g)) out.set(m[1], `tasks/${f}`);
  }
  return out;
}

describe("CLI start-up: the fast start", function () {
  this.timeout(900_000);
  let cache: string;
  let manifest: Manifest;

  before(function () {
    cache = fs.mkdtempSync(path.join(os.tmpdir(), "roamledger-cli-cache-"));
    manifest = buildManifest(cache);
  });

  after(function () {
    fs.rmSync(cache, { recursive: true, force: true });
  });

  it("compile still generates the typechain bindings under the JavaScript config (the toolbox turns them off for one unless told)", function () {
    const typechain = (hre.config as unknown as { typechain: { dontOverrideCompile: boolean; outDir: string } }).typechain;
    expect(hre.config.paths.configFile.endsWith("hardhat.config.js")).to.equal(true);
    expect(typechain.dontOverrideCompile).to.equal(false);
    expect(typechain.outDir).to.equal("typechain-types");
  });

  it("the manifest declares every task as Hardhat has it: name, description, every parameter with type, default, optional, flag, variadic", function () {
    const real = Object.values(hre.tasks as Record<string, TaskDefinition>).filter((d) => !d.isSubtask);
    expect(manifest.tasks.map((t) => t.name).sort()).to.deep.equal(real.map((d) => d.name).sort());
    for (const def of real) {
      const entry = manifest.tasks.find((t) => t.name === def.name);
      expect(JSON.stringify({ ...entry, file: undefined, full: undefined }), def.name).to.equal(JSON.stringify(taskEntry(def)));
    }
    const sources = declaredInSources();
    expect(sources.size).to.be.greaterThan(30);
    // Every task named literally in tasks/*.ts is there, marked with its file (some names are computed, e.g.
    // device:suspend and device:reinstate: Hardhat's definitions above cover those).
    const ours = new Map(manifest.tasks.filter((t) => t.file).map((t) => [t.name, t.file]));
    for (const [name, file] of sources) expect(ours.get(name), name).to.equal(file);
    expect(ours.get("device:suspend")).to.equal("tasks/device.ts");
    expect([...ours.values()].every((f) => /^tasks\/[\w.]+\.ts$/.test(f ?? ""))).to.equal(true);
    // Parameters of every kind came through (types by name, defaults, flags, optional).
    const ingest = manifest.tasks.find((t) => t.name === "usage:ingest");
    expect(ingest?.params.find((p) => p.name === "batchSize")).to.include({ type: "int", isOptional: true, isFlag: false });
    const besu = manifest.tasks.find((t) => t.name === "besu:genesis")?.params.find((p) => p.name === "validators");
    expect(besu).to.include({ type: "int", defaultValue: 4, isOptional: true });
    // deploy uses hre.ignition: it always takes the full start; the read-only tasks do not.
    expect(manifest.tasks.find((t) => t.name === "deploy")?.full).to.equal(true);
    expect(manifest.tasks.find((t) => t.name === "carrier:list")?.full).to.equal(false);
  });

  it("a manifest is fresh only while every watched file keeps its size and modification time: none changed, added or removed", function () {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "roamledger-cli-fresh-"));
    try {
      fs.mkdirSync(path.join(root, "tasks"));
      fs.mkdirSync(path.join(root, "lib", "core"), { recursive: true });
      fs.writeFileSync(path.join(root, "tasks", "a.ts"), "export {};\n");
      fs.writeFileSync(path.join(root, "lib", "core", "b.ts"), "export const b = 1;\n");
      const at = (files: Manifest["files"]): Manifest => ({ format: 1, files, tasks: [], scopes: [] });
      const m = at(snapshot(root));
      expect(Object.keys(m.files)).to.deep.equal(["tasks/a.ts", "lib/core/b.ts"]);
      expect(isFresh(m, root)).to.equal(true);
      const old = fs.statSync(path.join(root, "lib", "core", "b.ts"));
      fs.utimesSync(path.join(root, "lib", "core", "b.ts"), old.atime, new Date(old.mtimeMs + 2000));
      expect(isFresh(m, root), "modification time").to.equal(false);
      const m2 = at(snapshot(root));
      // Another size, the same modification time.
      fs.writeFileSync(path.join(root, "lib", "core", "b.ts"), "export const b = 12;\n");
      fs.utimesSync(path.join(root, "lib", "core", "b.ts"), old.atime, new Date(old.mtimeMs + 2000));
      expect(isFresh(m2, root), "size").to.equal(false);
      const m3 = at(snapshot(root));
      fs.writeFileSync(path.join(root, "tasks", "c.ts"), "export {};\n");
      expect(isFresh(m3, root), "a file added").to.equal(false);
      fs.rmSync(path.join(root, "tasks", "c.ts"));
      expect(isFresh(m3, root)).to.equal(true);
      fs.rmSync(path.join(root, "tasks", "a.ts"));
      expect(isFresh(m3, root), "a file removed").to.equal(false);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it("a stale manifest is rebuilt (and said so on stderr) before the command starts; a fresh one is used as it is", async function () {
    await inTempCache(async (dir) => {
      writeChanged(dir, manifest, (stale, show) => {
        stale.files["tasks/carrier.ts"] = [1, 1];
        show.description = "A DESCRIPTION ONLY THE STALE MANIFEST HAS";
      });
      const run = await hardhat(["carrier:show", "--help"], cleanEnv({ ROAMLEDGER_CLI_CACHE: dir }));
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stderr).to.match(/RoamLedger: task manifest rebuilt in \d+\.\d s/);
      expect(run.stdout).to.include("Shows one consortium member").and.not.include("ONLY THE STALE");
      const rebuilt = JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8")) as Manifest;
      expect(rebuilt.files["tasks/carrier.ts"]).to.deep.equal(manifest.files["tasks/carrier.ts"]);
      // Fresh now: used as it is, no rebuild (the description comes from the manifest).
      writeChanged(dir, rebuilt, (_fresh, show) => {
        show.description = "FROM THE MANIFEST";
      });
      const again = await hardhat(["carrier:show", "--help"], cleanEnv({ ROAMLEDGER_CLI_CACHE: dir }));
      expect(again.stderr).to.equal("");
      expect(again.stdout).to.include("FROM THE MANIFEST");
    });
  });

  it("a task whose file no longer declares what the manifest says is refused, not run", async function () {
    await inTempCache(async (dir) => {
      writeChanged(dir, manifest, (_tampered, show) => {
        show.params.push({ name: "extra", type: "string", isOptional: true, isFlag: false, isVariadic: false });
      });
      const run = await hardhat(["carrier:show", "--plmn", "262-01"], cleanEnv({ ROAMLEDGER_CLI_CACHE: dir }));
      expect(run.code).to.equal(1);
      expect(run.stderr).to.include("tasks/carrier.ts changed while `carrier:show` was starting: run the command again");
    });
  });

  it("`hardhat --help` and a task's --help print what the full start prints", async function () {
    for (const args of [["--help"], ["usage:ingest", "--help"]]) {
      const [fast, full] = await Promise.all([
        hardhat(args, cleanEnv({ ROAMLEDGER_CLI_CACHE: cache })),
        hardhat(args, cleanEnv({ ROAMLEDGER_CLI: "full" })),
      ]);
      expect(full.code, full.stderr).to.equal(0);
      expect(fast).to.deep.equal(full);
    }
  });

  describe("against a local node", function () {
    let world: CliWorld;

    before(async function () {
      world = await cliWorld();
    });

    after(async function () {
      await world?.stop();
    });

    const both = (args: string[]) =>
      Promise.all([
        hardhat([...args, "--network", "localhost"], cleanEnv({ ...world.env, ROAMLEDGER_CLI_CACHE: cache })),
        hardhat([...args, "--network", "localhost"], cleanEnv({ ...world.env, ROAMLEDGER_CLI: "full" })),
      ]);

    it("a read-only task prints the same and exits 0 under both starts", async function () {
      const [fast, full] = await both(["carrier:list"]);
      expect(full.code, full.stderr).to.equal(0);
      expect(full.stdout).to.match(/^2 members/);
      expect(fast).to.deep.equal(full);
    });

    it("bad input: the same short error (no stack trace) and exit code 1 under both starts", async function () {
      const [fast, full] = await both(["carrier:show", "--plmn", "26-01"]);
      expect(full.code).to.equal(1);
      expect(full.stderr)
        .to.match(/^Error: /)
        .and.not.match(/\n\s+at /);
      expect(fast).to.deep.equal(full);
    });
  });
});
