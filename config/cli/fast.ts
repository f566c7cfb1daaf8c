/**
 * The fast start of the RoamLedger CLI (docs/testing.md, "How start-up works").
 *
 * `npx hardhat <task>` used to transpile and load every task, all of lib/ and every toolbox plugin before it
 * could print a line (4 to 15 s). hardhat.config.js now asks `chooseStart` first:
 *
 * - For `--help` (of Hardhat or of a RoamLedger task) and for a RoamLedger task that needs no plugin but
 *   hardhat-ethers, the tasks are declared from a manifest, .cli/manifest.json: every task's name,
 *   description and parameters (types, defaults, optional, flag, variadic), as the task files declare them.
 *   Each RoamLedger task gets a lazy action: only when it runs is its task file required (through the
 *   transpile cache of config/cli/tsCache.js), and its real action runs with the same arguments.
 * - Anything else (compile, test, run, coverage, node, console, deploy, plugins' tasks) takes the full start:
 *   config/full.ts under ts-node, as before.
 *
 * The manifest is used only while every file it was built from (tasks/, lib/, typechain-types/, config/ and
 * the package and TypeScript settings) has the size and modification time it had then; otherwise it is rebuilt
 * first, in a child process that loads the full configuration and reads Hardhat's own task definitions
 * (`buildManifest`). The task's code itself always comes from its current source.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { extendEnvironment, scope, task, types } from "hardhat/config";
import { HardhatPluginError } from "hardhat/plugins";
import { HardhatContext } from "hardhat/internal/context";
import { ArgumentsParser } from "hardhat/internal/cli/ArgumentsParser";
import { HARDHAT_PARAM_DEFINITIONS } from "hardhat/internal/core/params/hardhat-params";
import { getEnvHardhatArguments } from "hardhat/internal/core/params/env-variables";
import { loadConfigAndTasks } from "hardhat/internal/core/config/config-loading";
import { TasksDSL } from "hardhat/internal/core/tasks/dsl";
import * as TASK_NAMES from "hardhat/builtin-tasks/task-names";
import type { ArgumentType, ConfigurableTaskDefinition, HardhatUserConfig, ParamDefinition, TaskDefinition } from "hardhat/types";

const ROOT = path.resolve(__dirname, "..", "..");
/** Where the manifest and the transpile cache live (git-ignored); ROAMLEDGER_CLI_CACHE moves it (tests). */
export const cliDir = (): string => process.env.ROAMLEDGER_CLI_CACHE || path.join(ROOT, ".cli");
const manifestPath = (): string => path.join(cliDir(), "manifest.json");
/** What the manifest depends on: a change to any of these files makes it stale. */
export const WATCHED = [
  "tasks",
  "lib",
  "typechain-types",
  "config",
  "hardhat.config.js",
  "tsconfig.json",
  "package.json",
  "package-lock.json",
];
const FORMAT = 1;
const PLUGIN = "roamledger";
/** Tasks of the toolbox's plugins: never started fast, so no manifest is built for them. */
const PLUGIN_TASKS = ["coverage", "typechain", "verify", "ignition", "sourcify", "etherscan-verify"];
/** What a task file must not use under the fast start (only hardhat-ethers is loaded there). */
const NEEDS_FULL_START = /\bhre\.(ignition|viem|run)\b/;

export interface ParamEntry {
  name: string;
  description?: string;
  type: string;
  /** JSON; a bigint as { bigint: "<decimal>" }; absent when undefined. */
  defaultValue?: unknown;
  isOptional: boolean;
  isFlag: boolean;
  isVariadic: boolean;
}

export interface TaskEntry {
  name: string;
  description?: string;
  /** The task file (relative to the project root) that declares a RoamLedger task; absent for Hardhat's and plugins' tasks. */
  file?: string;
  /** The task needs the full start (its file uses hre.ignition, hre.viem or hre.run). */
  full?: boolean;
  params: ParamEntry[];
  positional: ParamEntry[];
}

export interface Manifest {
  format: number;
  /** Every watched file when the build started: relative path -> [mtimeMs, size]. */
  files: Record<string, [number, number]>;
  /** Every task that is not a subtask: RoamLedger's (with `file`), Hardhat's and the plugins'. */
  tasks: TaskEntry[];
  scopes: { name: string; description?: string }[];
}

/** Size and modification time of every watched file (a few ms: stat only). */
export function snapshot(root = ROOT): Record<string, [number, number]> {
  const files: Record<string, [number, number]> = {};
  const walk = (rel: string): void => {
    let st: fs.Stats;
    try {
      st = fs.statSync(path.join(root, rel));
    } catch {
      return;
    }
    if (st.isDirectory()) {
      for (const name of fs.readdirSync(path.join(root, rel)).sort()) walk(path.join(rel, name));
    } else {
      files[rel.split(path.sep).join("/")] = [st.mtimeMs, st.size];
    }
  };
  for (const rel of WATCHED) walk(rel);
  return files;
}

/** True when every watched file is as the manifest recorded it (none added, none removed, none changed). */
export function isFresh(manifest: Manifest, root = ROOT): boolean {
  const now = snapshot(root);
  const recorded = Object.keys(manifest.files);
  if (recorded.length !== Object.keys(now).length) return false;
  return recorded.every((f) => now[f] !== undefined && now[f][0] === manifest.files[f][0] && now[f][1] === manifest.files[f][1]);
}

export function readManifest(): Manifest | undefined {
  try {
    const m = JSON.parse(fs.readFileSync(manifestPath(), "utf8")) as Manifest;
    return m.format === FORMAT ? m : undefined;
  } catch {
    return undefined;
  }
}

function encodeDefault(value: unknown): unknown {
  if (typeof value === "bigint") return { bigint: value.toString() };
  if (value === null || ["string", "number", "boolean"].includes(typeof value)) return value;
  if (Array.isArray(value)) return value.map(encodeDefault);
  throw new Error(`a default value of type ${typeof value} cannot be kept in the manifest`);
}

function decodeDefault(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decodeDefault);
  if (value !== null && typeof value === "object" && "bigint" in value) return BigInt((value as { bigint: string }).bigint);
  return value;
}

function paramEntry(p: ParamDefinition<unknown>): ParamEntry {
  const entry: ParamEntry = { name: p.name, type: p.type.name, isOptional: p.isOptional, isFlag: p.isFlag, isVariadic: p.isVariadic };
  if (p.description !== undefined) entry.description = p.description;
  if (p.defaultValue !== undefined) entry.defaultValue = encodeDefault(p.defaultValue);
  return entry;
}

/** A task definition as the manifest keeps it (what `--help` shows and the argument parser uses). */
export function taskEntry(def: TaskDefinition): TaskEntry {
  const entry: TaskEntry = {
    name: def.name,
    params: Object.values(def.paramDefinitions).map(paramEntry),
    positional: def.positionalParamDefinitions.map(paramEntry),
  };
  if (def.description !== undefined) entry.description = def.description;
  return entry;
}

/** The first file under tasks/ on the stack: the task file whose `task(...)` call is running. */
function callerTaskFile(): string | undefined {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 100;
  const stack = new Error().stack ?? "";
  Error.stackTraceLimit = limit;
  const dir = path.join(ROOT, "tasks") + path.sep;
  for (const line of stack.split("\n")) {
    const m = /\(?((?:\/|[A-Za-z]:\\)[^():]+\.ts):\d+:\d+\)?$/.exec(line.trim());
    if (m?.[1].startsWith(dir)) return path.relative(ROOT, m[1]).split(path.sep).join("/");
  }
  return undefined;
}

/**
 * Builds the manifest (run in a child process by `rebuild`): loads config/full.ts (every plugin and task) into a
 * fresh Hardhat context, noting which task file declares each task, and writes Hardhat's own definitions.
 * The watched files are read before anything loads, so a change during the build leaves the manifest stale.
 */
export function buildManifest(): Manifest {
  const files = snapshot();
  const ctx = HardhatContext.createHardhatContext();
  const origin = new Map<string, string>();
  const dsl = ctx.tasksDSL as unknown as { _addTask: (id: unknown, ...rest: unknown[]) => unknown };
  const addTask = dsl._addTask.bind(dsl);
  dsl._addTask = (id: unknown, ...rest: unknown[]) => {
    const file = callerTaskFile();
    if (typeof id === "string" && file) origin.set(id, file);
    return addTask(id, ...rest);
  };
  const parsed = new ArgumentsParser().parseHardhatArguments(HARDHAT_PARAM_DEFINITIONS, {} as never, []);
  loadConfigAndTasks(
    { ...parsed.hardhatArguments, config: path.join(ROOT, "config", "full.ts") },
    { showEmptyConfigWarning: false, showSolidityConfigWarnings: false },
  );
  const tasks: TaskEntry[] = [];
  for (const def of Object.values(ctx.tasksDSL.getTaskDefinitions())) {
    if (def.isSubtask) continue;
    const entry = taskEntry(def);
    const file = origin.get(def.name);
    if (file) {
      entry.file = file;
      entry.full = NEEDS_FULL_START.test(fs.readFileSync(path.join(ROOT, file), "utf8"));
    }
    tasks.push(entry);
  }
  if (!tasks.some((t) => t.file)) throw new Error("no RoamLedger task was declared (run `npx hardhat compile` first)");
  const scopes = Object.values(ctx.tasksDSL.getScopesDefinitions()).map((s) => ({ name: s.name, description: s.description }));
  return { format: FORMAT, files, tasks, scopes };
}

/** Child process entry: builds the manifest and writes it whole (a concurrent reader sees the old or the new one). */
export function writeManifest(): void {
  const manifest = buildManifest();
  fs.mkdirSync(cliDir(), { recursive: true });
  const tmp = `${manifestPath()}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(manifest)}\n`);
  fs.renameSync(tmp, manifestPath());
  // Transpiled files no current source needs, a week old: gone (config/cli/tsCache.js).
  (require("./tsCache.js") as { prune(olderThanMs: number): void }).prune(7 * 24 * 3600_000);
}

/** Rebuilds the manifest in a child process; says so on stderr, with the time it took. */
function rebuild(): Manifest | undefined {
  const started = Date.now();
  const code = `require(${JSON.stringify(path.join(__dirname, "tsCache.js"))}).register(); require(${JSON.stringify(__filename)}).writeManifest();`;
  const child = spawnSync(process.execPath, ["-e", code], { cwd: ROOT, encoding: "utf8", env: { ...process.env, ROAMLEDGER_QUIET: "1" } });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const say = (line: string) => process.env.ROAMLEDGER_QUIET !== "1" && process.stderr.write(`${line}\n`);
  const manifest = child.status === 0 ? readManifest() : undefined;
  if (manifest) {
    say(
      `RoamLedger: task manifest rebuilt in ${seconds} s (tasks/, lib/, typechain-types/ or the config changed): ${path.relative(process.cwd(), manifestPath())}`,
    );
  } else {
    const why = `${child.stderr ?? ""}`.trim().split("\n").filter(Boolean).pop() ?? `exit code ${child.status}`;
    say(`RoamLedger: could not build the task manifest (${why}); starting without it`);
  }
  return manifest;
}

/** True when this process is the Hardhat CLI (not a script or test runner that loads Hardhat as a library). */
function isHardhatCli(): boolean {
  return /[\\/](hardhat|cli\.js|bootstrap\.js)$/.test(process.argv[1] ?? "");
}

export type Start = { kind: "full" } | { kind: "fast"; manifest: Manifest };

/** What the command line asks for: a task to run, or the help of a task (undefined: Hardhat's own help). */
function requested(argv: string[]): { help: boolean; name?: string } | undefined {
  try {
    const env = getEnvHardhatArguments(HARDHAT_PARAM_DEFINITIONS, process.env);
    const { hardhatArguments, scopeOrTaskName, allUnparsedCLAs } = new ArgumentsParser().parseHardhatArguments(
      HARDHAT_PARAM_DEFINITIONS,
      env,
      argv,
    );
    if (hardhatArguments.version) return undefined;
    if (scopeOrTaskName === undefined || scopeOrTaskName === TASK_NAMES.TASK_HELP) {
      return { help: true, name: scopeOrTaskName === undefined ? undefined : allUnparsedCLAs[1] };
    }
    return { help: hardhatArguments.help, name: scopeOrTaskName };
  } catch {
    return undefined; // Hardhat reports the bad command line itself
  }
}

/** Whether the request can start fast with this manifest. */
function fastWith(manifest: Manifest, req: { help: boolean; name?: string }): boolean {
  if (req.help && req.name === undefined) return true;
  const entry = manifest.tasks.find((t) => t.name === req.name && t.file);
  return entry !== undefined && (req.help || !entry.full);
}

/** Decides how this Hardhat process starts (hardhat.config.js). ROAMLEDGER_CLI=full always takes the full start. */
export function chooseStart(argv = process.argv.slice(2)): Start {
  if (process.env.ROAMLEDGER_CLI === "full" || !isHardhatCli()) return { kind: "full" };
  const req = requested(argv);
  if (!req) return { kind: "full" };
  let manifest = readManifest();
  if (!manifest || !isFresh(manifest)) {
    const builtin = Object.values(TASK_NAMES) as string[];
    const known = manifest?.tasks.find((t) => t.name === req.name);
    const notOurs = known ? !known.file : req.name !== undefined && (builtin.includes(req.name) || PLUGIN_TASKS.includes(req.name));
    if (notOurs && !(req.help && req.name === undefined)) return { kind: "full" };
    manifest = rebuild();
    if (!manifest) return { kind: "full" };
  }
  return fastWith(manifest, req) ? { kind: "fast", manifest } : { kind: "full" };
}

/** Declares one task's parameters as the manifest has them. */
function declareParams(def: ConfigurableTaskDefinition, entry: TaskEntry): void {
  const typeOf = (p: ParamEntry) => {
    const t = (types as Record<string, ArgumentType<unknown>>)[p.type];
    if (!t) throw new HardhatPluginError(PLUGIN, `task ${entry.name}: parameter --${p.name} has type ${p.type}, unknown to the fast start`);
    return t;
  };
  for (const p of entry.params) {
    if (p.isFlag) def.addFlag(p.name, p.description);
    else def.addParam(p.name, p.description, decodeDefault(p.defaultValue), typeOf(p), p.isOptional);
  }
  for (const p of entry.positional) {
    if (p.isVariadic)
      def.addVariadicPositionalParam(p.name, p.description, decodeDefault(p.defaultValue) as unknown[], typeOf(p), p.isOptional);
    else def.addPositionalParam(p.name, p.description, decodeDefault(p.defaultValue), typeOf(p), p.isOptional);
  }
}

/** Task files are loaded into this DSL, apart from the CLI's: their real definitions, for the lazy actions. */
let loaded: TasksDSL | undefined;

/** The task's real definition: its file loaded now; refused when it no longer declares what the manifest says. */
export function realDefinition(entry: TaskEntry): TaskDefinition {
  const ctx = HardhatContext.getHardhatContext() as { tasksDSL: TasksDSL };
  const cli = ctx.tasksDSL;
  loaded ??= new TasksDSL();
  ctx.tasksDSL = loaded;
  try {
    require(path.join(ROOT, entry.file as string));
  } finally {
    ctx.tasksDSL = cli;
  }
  const def = loaded.getTaskDefinition(undefined, entry.name);
  if (!def || JSON.stringify(taskEntry(def)) !== JSON.stringify({ ...entry, file: undefined, full: undefined })) {
    throw new HardhatPluginError(PLUGIN, `${entry.file} changed while \`${entry.name}\` was starting: run the command again`);
  }
  return def;
}

/** Declares every task of the manifest on the CLI's context: RoamLedger's with lazy actions, others for the help. */
function declareTasks(manifest: Manifest): void {
  const dsl = HardhatContext.getHardhatContext().tasksDSL;
  for (const s of manifest.scopes) {
    if (!dsl.getScopesDefinitions()[s.name]) scope(s.name, s.description);
  }
  for (const entry of manifest.tasks) {
    const existing = dsl.getTaskDefinition(undefined, entry.name);
    if (entry.file) {
      const def = task(entry.name, entry.description);
      declareParams(def, entry);
      def.setAction((args, hre, runSuper) => realDefinition(entry).action(args, hre, runSuper));
    } else if (!existing) {
      // A plugin's task, listed by `--help`; running it takes the full start (chooseStart).
      const def = task(entry.name, entry.description);
      declareParams(def, entry);
      def.setAction(async () => {
        throw new HardhatPluginError(PLUGIN, `${entry.name} needs the full start: run it with ROAMLEDGER_CLI=full`);
      });
    } else if (existing.description !== entry.description) {
      (existing as ConfigurableTaskDefinition).setDescription(entry.description ?? "");
    }
  }
}

/** The configuration of the fast start: base settings, hardhat-ethers, the manifest's tasks. */
export function fastConfig(manifest: Manifest): HardhatUserConfig {
  require("@nomicfoundation/hardhat-ethers");
  declareTasks(manifest);
  extendEnvironment((hre) => {
    for (const plugin of ["ignition", "viem"]) {
      Object.defineProperty(hre, plugin, {
        configurable: true,
        get() {
          throw new HardhatPluginError(
            PLUGIN,
            `hre.${plugin} is not loaded by the fast start (config/cli/fast.ts): run the command with ROAMLEDGER_CLI=full, and use hre.${plugin} in the task file itself so that it always starts in full`,
          );
        },
      });
    }
  });
  return (require("../base") as typeof import("../base")).config;
}
