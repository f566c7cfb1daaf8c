import fs from "node:fs";
import path from "node:path";
import { task, types } from "hardhat/config";
import { action, out } from "./common";
import { plmnArg } from "./cli/args";
import { InputError } from "../lib/core/errors";
import { Progress } from "./cli/progress";
import type { UsageFormat } from "../lib/usage/parse";
import { formatPeriod, parsePeriod } from "../lib/core/period";
import { generateUsage, MALFORMED_KINDS } from "../lib/usage/generate";

interface Args {
  home?: string;
  visited?: string;
  period?: string;
  records?: number;
  devices?: number;
  out: string;
  devicesOut: string;
  format?: string;
  seed: number;
  fraudRate?: number;
  malformedRate?: number;
  permanentRoamers?: number;
  imsiPrefix?: string;
  maker?: string;
  summary?: string;
}

task("usage:generate", "Writes a synthetic month of IoT roaming usage (CSV or JSON lines) and its devices file, the same for the same seed")
  .addParam("home", "Home carrier of the devices, MCC-MNC (e.g. 262-01)")
  .addParam("visited", "Visited carrier that served them, MCC-MNC (e.g. 724-05)")
  .addParam("period", "Month, yyyy-mm (e.g. 2026-11)")
  .addOptionalParam("records", "About how many usage records to write (the fleet size follows); or give --devices", undefined, types.int)
  .addOptionalParam("devices", "How many devices (the record count follows); or give --records", undefined, types.int)
  .addParam("out", "Usage file to write (.csv or .jsonl)")
  .addParam("devicesOut", "Devices CSV to write (imsi,class,policy[,maker], for device:register with test/fixtures/policies.json)")
  .addOptionalParam("format", "csv or jsonl (default: from the --out extension)")
  .addOptionalParam("seed", "PRNG seed: the same seed and options give the same files", 1, types.int)
  .addOptionalParam("fraudRate", "Share of devices breaking their policy (default 0.005)", undefined, types.float)
  .addOptionalParam("malformedRate", "Chance of a malformed line after each record (default 0.001)", undefined, types.float)
  .addOptionalParam("permanentRoamers", "Devices present every day of the month (default 2% of the fleet)", undefined, types.int)
  .addOptionalParam("imsiPrefix", "Digits every IMSI starts with (default: the home MCC and MNC)")
  .addOptionalParam("maker", "Device-maker member (MCC-MNC) to put in the devices file's maker column")
  .addOptionalParam("summary", "Also write the summary (out-of-policy devices, permanent roamers, malformed lines) as JSON to this file")
  .setAction(
    action(async (args: Args) => {
      const home = plmnArg("home", args.home);
      const visited = plmnArg("visited", args.visited);
      if (!args.period) throw new InputError("--period is required", { hint: "pass --period like 2026-11." });
      const period = parsePeriod(args.period);
      if (args.format !== undefined && args.format !== "csv" && args.format !== "jsonl") {
        throw new InputError(`--format ${args.format} is not csv or jsonl`);
      }
      if (path.resolve(args.out) === path.resolve(args.devicesOut)) {
        throw new InputError("--out and --devices-out name the same file", { hint: "give the devices file its own name." });
      }
      if (args.maker !== undefined) plmnArg("maker", args.maker);
      const progress = new Progress({ label: "generating usage", total: args.records, unit: "lines" });
      const summary = generateUsage({
        home,
        visited,
        period,
        records: args.records,
        devices: args.devices,
        seed: args.seed,
        format: args.format as UsageFormat | undefined,
        usageOut: args.out,
        devicesOut: args.devicesOut,
        imsiPrefix: args.imsiPrefix,
        fraudRate: args.fraudRate,
        malformedRate: args.malformedRate,
        permanentRoamers: args.permanentRoamers,
        maker: args.maker,
        onProgress: (lines) => progress.update(lines),
      });
      progress.done();
      if (args.summary) fs.writeFileSync(args.summary, `${JSON.stringify(summary, null, 2)}\n`);
      const byPolicy = Object.entries(summary.devicesByPolicy)
        .map(([p, n]) => `${n} ${p}`)
        .join(", ");
      const malformed = MALFORMED_KINDS.map((k) => `${summary.malformed[k].length} ${k}`).join(", ");
      out(
        `${formatPeriod(period)}: ${summary.records} records (${summary.format}) of ${summary.devices} devices (${byPolicy}) -> ${args.out}`,
      );
      out(`Devices -> ${args.devicesOut}`);
      out(`Out of policy: ${summary.outOfPolicy.map((d) => `${d.imsi} (${d.kind})`).join(", ") || "none"}`);
      out(`Permanent roamers (present all ${summary.days} days): ${summary.permanentRoamers.length}`);
      out(`Malformed lines: ${malformed}${args.summary ? `; line numbers in ${args.summary}` : ""}`);
    }),
  );
