import fs from "node:fs";
import path from "node:path";
import { task, types } from "hardhat/config";
import { action, out } from "./common";
import { plmnArg } from "./cli/args";
import { InputError } from "../lib/core/errors";
import { Progress } from "./cli/progress";
import type { GeneratedFormat } from "../lib/usage/generate";
import { RATS, type Rat } from "../lib/usage/types";
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
  sender?: string;
  recipient?: string;
  sequence?: number;
  utcOffset?: string;
  rat?: string;
  testData: boolean;
  csvOut?: string;
}

const TAP_ONLY = ["sender", "recipient", "sequence", "utcOffset", "rat", "csvOut"] as const;

/** The format asked for (or implied by --out), checked; TAP's own flags only with TAP. */
function formatOf(args: Args): GeneratedFormat | undefined {
  if (args.format !== undefined && args.format !== "csv" && args.format !== "jsonl" && args.format !== "tap") {
    throw new InputError(`--format ${args.format} is not csv, jsonl or tap`);
  }
  const tap = args.format === "tap" || (args.format === undefined && /\.tap$/i.test(args.out));
  const given = TAP_ONLY.filter((k) => args[k] !== undefined);
  if (!tap && (given.length > 0 || args.testData)) {
    const flag = given.length > 0 ? given[0].replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`) : "test-data";
    throw new InputError(`--${flag} is for TAP files`, { hint: "add --format tap (or drop the flag)." });
  }
  if (args.rat !== undefined && !(RATS as readonly string[]).includes(args.rat)) {
    throw new InputError(`--rat ${args.rat} is not a radio access technology`, { hint: `use one of ${RATS.join(", ")}.` });
  }
  if (args.csvOut !== undefined && [args.out, args.devicesOut].some((f) => path.resolve(f) === path.resolve(args.csvOut as string))) {
    throw new InputError("--csv-out names the same file as --out or --devices-out", { hint: "give the CSV its own name." });
  }
  return tap ? "tap" : (args.format as GeneratedFormat | undefined);
}

task(
  "usage:generate",
  "Writes a synthetic month of IoT roaming usage (CSV, JSON lines or a TAP 3.12 file) and its devices file, the same for the same seed",
)
  .addParam("home", "Home carrier of the devices, MCC-MNC (e.g. 262-01)")
  .addParam("visited", "Visited carrier that served them, MCC-MNC (e.g. 724-05)")
  .addParam("period", "Month, yyyy-mm (e.g. 2026-11)")
  .addOptionalParam("records", "About how many usage records to write (the fleet size follows); or give --devices", undefined, types.int)
  .addOptionalParam("devices", "How many devices (the record count follows); or give --records", undefined, types.int)
  .addParam("out", "Usage file to write (.csv, .jsonl, or a TAP file with --format tap)")
  .addParam("devicesOut", "Devices CSV to write (imsi,class,policy[,maker], for device:register with test/fixtures/policies.json)")
  .addOptionalParam("format", "csv, jsonl or tap (default: from the --out extension; .tap is TAP)")
  .addOptionalParam("seed", "PRNG seed: the same seed and options give the same files", 1, types.int)
  .addOptionalParam("fraudRate", "Share of devices breaking their policy (default 0.005)", undefined, types.float)
  .addOptionalParam("malformedRate", "Chance of a malformed line after each record (default 0.001; TAP: none)", undefined, types.float)
  .addOptionalParam("permanentRoamers", "Devices present every day of the month (default 2% of the fleet)", undefined, types.int)
  .addOptionalParam("imsiPrefix", "Digits every IMSI starts with (default: the home MCC and MNC)")
  .addOptionalParam("maker", "Device-maker member (MCC-MNC) to put in the devices file's maker column")
  .addOptionalParam("summary", "Also write the summary (out-of-policy devices, permanent roamers, malformed lines) as JSON to this file")
  .addOptionalParam("sender", "TAP: TADIG code of the visited network (default: from --visited, e.g. 724-05 -> BRA05)")
  .addOptionalParam("recipient", "TAP: TADIG code of the home network (default: from --home, e.g. 262-01 -> DEU01)")
  .addOptionalParam("sequence", "TAP: FileSequenceNumber, 1 to 99999 (default 1)", undefined, types.int)
  .addOptionalParam("utcOffset", "TAP: the visited network's UTC offset, +hhmm (default: its country's, else +0000)")
  .addOptionalParam("rat", "TAP: the radio access technology of every record, as usage:tap reads it back (default lte)")
  .addFlag("testData", "TAP: mark the file as test data (FileTypeIndicator T)")
  .addOptionalParam(
    "csvOut",
    "TAP: also write the records the TAP file holds as a usage CSV (TAP record ids; signalling left out, one SMS a record)",
  )
  .setAction(
    action(async (args: Args) => {
      const home = plmnArg("home", args.home);
      const visited = plmnArg("visited", args.visited);
      if (!args.period) throw new InputError("--period is required", { hint: "pass --period like 2026-11." });
      const period = parsePeriod(args.period);
      const format = formatOf(args);
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
        format,
        tap:
          format === "tap"
            ? {
                sender: args.sender,
                recipient: args.recipient,
                sequence: args.sequence,
                utcOffset: args.utcOffset,
                rat: args.rat as Rat | undefined,
                testData: args.testData,
                csvOut: args.csvOut,
              }
            : undefined,
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
      const tap = summary.tap;
      if (tap) {
        out(
          `TAP ${tap.sender} -> ${tap.recipient}, file sequence number ${tap.fileSequenceNumber}: ${tap.callEvents} call events ` +
            `(${tap.callEventsByService.voice} voice, ${tap.callEventsByService.sms} SMS, ${tap.callEventsByService.data} data), ` +
            `TotalCharge ${tap.totalCharge} (10^-${tap.tapDecimalPlaces} SDR); ${tap.signallingLeftOut} signalling records left out (TAP has none)`,
        );
        if (tap.csvFile) out(`The same records as CSV (TAP record ids) -> ${tap.csvFile}`);
      }
      out(`Devices -> ${args.devicesOut}`);
      out(`Out of policy: ${summary.outOfPolicy.map((d) => `${d.imsi} (${d.kind})`).join(", ") || "none"}`);
      out(`Permanent roamers (present all ${summary.days} days): ${summary.permanentRoamers.length}`);
      out(`Malformed lines: ${malformed}${args.summary ? `; line numbers in ${args.summary}` : ""}`);
    }),
  );
