import path from "node:path";
import { task, types } from "hardhat/config";
import { InputError } from "../lib/core/errors";
import { parsePeriod } from "../lib/core/period";
import { DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE } from "../lib/usage/ingest";
import { DEFAULT_POLL_MS, DEFAULT_SETTLE_MS, type FileOutcome, streamUsage } from "../lib/usage/stream";
import { formatPeriod } from "../lib/core/period";
import type { Signer } from "ethers";
import { FROM_HELP, plmnArg } from "./cli/args";
import { action, out } from "./common";
import { cliProgress } from "./cli/progress";
import { pairKeys, visitedSide } from "./usage";
import { tadigPartyCheck } from "../lib/tap/map";
import { plmnOfTadig } from "../lib/consortium/tadig";
import { tapSequenceDir } from "../lib/usage/pair";

const n = (x: number) => x.toLocaleString("en-US");

task(
  "usage:stream",
  "Visited carrier: follows a spool folder where the mediation drops usage files (CSV, JSON lines, TAP 3.12) of a home partner and ingests each complete file as it lands (checks against policy, fraud flags on chain within seconds, batches sealed and submitted), exactly once across kills and restarts; see docs/stream.md",
)
  .addParam(
    "dir",
    "The spool folder; complete files only: write `name.tmp` (or a hidden `.name`) and rename, or leave the file unchanged for --settle-seconds",
  )
  .addParam("home", "The home carrier billed, as MCC-MNC (e.g. 262-01); one spool per home partner")
  .addOptionalParam(
    "period",
    "auto: each record's month (a file spanning a month end is split; new months go to their own period's batches), or a fixed YYYY-MM",
    "auto",
  )
  .addOptionalParam(
    "batchRecords",
    `Records per batch (default ${DEFAULT_BATCH_SIZE}); a run's last batch is sealed when its file (or group, --batch-seconds) ends`,
    undefined,
    types.int,
  )
  .addOptionalParam(
    "batchSeconds",
    "0 (default): each file is a run of its own, its last batch sealed when it ends. More: CSV and JSON-lines files wait in the spool and go in one run once they hold --batch-records records or the oldest landed this many seconds ago, whichever comes first (fewer, fuller batches: a pair and period take at most 2,048); each file's fraud is still screened and flagged as it lands",
    undefined,
    types.float,
  )
  .addOptionalParam(
    "settleSeconds",
    `Seconds a file must stay unchanged before it is taken (default ${DEFAULT_SETTLE_MS / 1000})`,
    undefined,
    types.float,
  )
  .addOptionalParam("pollSeconds", `Seconds between looks at the spool (default ${DEFAULT_POLL_MS / 1000})`, undefined, types.float)
  .addFlag("once", "Drain the files in the spool (waiting for those still settling), then exit (for scripts)")
  .addOptionalParam("store", "Payload store folder both carriers reach (as usage:ingest)")
  .addOptionalParam("keystore", "Key store folder (as usage:ingest); the pair's local usage state lives there")
  .addOptionalParam("from", FROM_HELP)
  .setAction(
    action(async (args: StreamArgs, hre) => {
      const home = plmnArg("home", args.home);
      const period = args.period.trim().toLowerCase() === "auto" ? undefined : parsePeriod(args.period);
      const batchSize = args.batchRecords ?? DEFAULT_BATCH_SIZE;
      if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
        throw new InputError(`${batchSize} is out of range`, {
          location: { param: "batchRecords" },
          hint: `use 1 to ${n(MAX_BATCH_SIZE)} records per batch.`,
        });
      }
      const settleMs = secondsArg("settleSeconds", args.settleSeconds, DEFAULT_SETTLE_MS);
      const pollMs = secondsArg("pollSeconds", args.pollSeconds, DEFAULT_POLL_MS);
      const batchSeconds = secondsArg("batchSeconds", args.batchSeconds, 0, 86_400) / 1000;
      const side = await visitedSide(hre, { ...args, home }, "usage:stream");
      const keys = await pairKeys(hre, { ...side, home });
      const controller = new AbortController();
      const kill = () => process.exit(130);
      const stop = () => {
        out("stopping after the file in hand (Ctrl-C again to kill; a killed stream resumes where it was)");
        unlisten();
        controller.abort();
        process.once("SIGINT", kill);
      };
      const unlisten = () => {
        process.removeListener("SIGINT", stop);
        process.removeListener("SIGTERM", stop);
        process.removeListener("SIGINT", kill);
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      out(
        `Streaming usage of ${args.home} on ${side.self.text} from ${args.dir} (period ${period === undefined ? "auto" : formatPeriod(period)}, ${n(batchSize)} records per batch${batchSeconds > 0 ? ` or ${batchSeconds} s, whichever comes first` : ""})${args.once ? ", until drained" : "; Ctrl-C to stop"}.`,
      );
      // The listeners go whatever the end (a refused spool throws): left behind, a later signal would
      // run this finished stream's `stop`.
      const totals = await streamUsage({
        spool: args.dir,
        home,
        visited: side.self.plmn,
        period,
        batchSize,
        batchSeconds,
        settleMs,
        pollMs,
        once: args.once,
        signal: controller.signal,
        client: side.client,
        signer: side.client.runner as Signer,
        store: side.store,
        workDir: side.workDir,
        ...keys,
        log: (line) => out(`  ${line}`),
        onFile: printOutcome,
        // A bar per file while it is read and its batches sent (none when the output is not a terminal).
        progress: cliProgress,
        // TAP files (told by their content): TADIG codes checked on chain, file sequence numbers in <store>/tap.
        tapParties: tadigPartyCheck((code) => plmnOfTadig(side.client, code), { home, visited: side.self.plmn }),
        tapSequenceDir: tapSequenceDir(side.store),
      }).finally(unlisten);
      out(
        `Streamed ${n(totals.files)} file(s) (${n(totals.rejectedFiles)} refused whole): ${n(totals.records)} records committed, ${n(totals.flagged)} device(s) flagged, ${n(totals.batches)} batch(es).`,
      );
    }),
  );

interface StreamArgs {
  dir: string;
  home: string;
  period: string;
  batchRecords?: number;
  batchSeconds?: number;
  settleSeconds?: number;
  pollSeconds?: number;
  once: boolean;
  store?: string;
  keystore?: string;
  from?: string;
}

function secondsArg(param: string, value: number | undefined, fallbackMs: number, max = 3600): number {
  if (value === undefined) return fallbackMs;
  if (!Number.isFinite(value) || value < 0 || value > max) {
    throw new InputError(`${value} is out of range`, { location: { param }, hint: `pass 0 to ${n(max)} seconds.` });
  }
  return Math.round(value * 1000);
}

/** One status line per file, and one per part (month) of it. */
function printOutcome(o: FileOutcome): void {
  out(
    o.files
      ? `${o.files.length} files from ${o.name} as one run -> ${path.dirname(o.movedTo)}/ (see ${o.movedTo}.group.txt)`
      : `${o.name} -> ${o.movedTo}`,
  );
  for (const p of o.parts) {
    const month = formatPeriod(p.period);
    if (p.refused !== undefined) {
      out(`  ${month}: refused whole: ${p.refused}`);
      continue;
    }
    const s = p.summary;
    if (!s) continue;
    const already = s.alreadyDone ? " (ingested before a restart; nothing sent again)" : "";
    out(
      `  ${month}: ${n(s.accepted)} records committed, ${n(s.rejected)} rejected, ${n(s.flaggedDevices)} device(s) flagged, ${s.batches.length} batch(es)${already}`,
    );
  }
}
