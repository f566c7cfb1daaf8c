import type { DeviceClassName } from "../../core/enums";
import { BlockWriter } from "./blockWriter";
import { type Fleet, FRAUD_KINDS, METER, planFleet, POLICIES, TRACKER } from "./fleet";
import { Rng } from "./rng";
import { type GenerateOptions, type GenerateSummary, type OutOfPolicyDevice, resolveSettings } from "./settings";
import { tapEncoderFor, writeTapUsageFile } from "./tapFile";
import { type UsageFileSummary, writeUsageFile } from "./usageFile";

/**
 * Deterministic synthetic usage of one month for one (home, visited) pair: a devices CSV in the
 * format of `device:register` (docs/devices.md) and a usage file (CSV or JSON lines) in the format
 * of docs/usage-records.md, or a TAP 3.12 file of the same usage (tapFile.ts). Same options and seed, same bytes. Memory holds a few bytes per device and
 * one day of planned records (about 20 bytes each), never the whole file.
 *
 * The fleet (fleet.ts): NB-IoT meters, LTE-M trackers and a few drones. Some meters break their
 * data-only policy (voice calls, SMS, or streaming far beyond the daily cap from an LTE phone, as a
 * stolen SIM would); some devices stay the whole month (permanent roamers); a few extra lines are
 * malformed (usageFile.ts). The summary says exactly which, so tests and the demo can check what the
 * ingest finds.
 */

export { defaultTadig, defaultUtcOffset } from "./tapFile";
export {
  type GeneratedFormat,
  type GeneratedPolicy,
  type GenerateOptions,
  type GenerateSummary,
  MALFORMED_KINDS,
  MALFORMED_REJECT_CODES,
  type MalformedKind,
  type OutOfPolicyDevice,
  type OutOfPolicyKind,
  type TapGenerateOptions,
} from "./settings";

/** Writes the devices file and the usage file; returns what was put in them. */
export function generateUsage(options: GenerateOptions): GenerateSummary {
  const s = resolveSettings(options);
  // Every option checked before a file is written.
  const encoder = s.format === "tap" ? tapEncoderFor(s, options.tap ?? {}) : undefined;
  const rng = new Rng(s.seed);
  const fleet = planFleet(s, rng);
  writeDevicesFile(fleet, options.devicesOut, s.maker);
  const usage: UsageFileSummary & { tap?: GenerateSummary["tap"] } = encoder
    ? writeTapUsageFile(
        { settings: { ...s, home: options.home, visited: options.visited }, fleet, rng },
        { file: options.usageOut, encoder, csvOut: options.tap?.csvOut, onProgress: options.onProgress },
      )
    : writeUsageFile({ settings: s, fleet, rng }, { file: options.usageOut, onProgress: options.onProgress });
  const outOfPolicy: OutOfPolicyDevice[] = [];
  const permanentRoamers: string[] = [];
  for (let i = 0; i < fleet.count; i++) {
    if (fleet.fraud[i]) outOfPolicy.push({ imsi: fleet.imsis[i], kind: FRAUD_KINDS[fleet.fraud[i] - 1], records: usage.fraudRecords[i] });
    if (fleet.presence[i] === fleet.allDays) permanentRoamers.push(fleet.imsis[i]);
  }
  return {
    format: s.format,
    seed: s.seed,
    usageFile: options.usageOut,
    devicesFile: options.devicesOut,
    days: s.days,
    devices: fleet.count,
    devicesByPolicy: fleet.byPolicy,
    records: usage.records,
    recordsByService: usage.recordsByService,
    lines: usage.lines,
    outOfPolicy,
    permanentRoamers,
    malformed: usage.malformed,
    ...(usage.tap ? { tap: usage.tap } : {}),
  };
}

/**
 * The devices file, as device:register reads it: imsi, class, policy (and the maker, when given). Lines
 * written by hand as the usage lines are (usageFile.ts): no field needs quoting.
 */
function writeDevicesFile(fleet: Fleet, file: string, maker: string | undefined): void {
  BlockWriter.writeFile(file, (writer) => {
    writer.write(maker ? "imsi,class,policy,maker\n" : "imsi,class,policy\n");
    for (let i = 0; i < fleet.count; i++) {
      writer.write(`${fleet.imsis[i]},${deviceClass(fleet, i)},${POLICIES[fleet.kind[i]]}${maker ? `,${maker}` : ""}\n`);
    }
  });
}

function deviceClass(fleet: Fleet, i: number): DeviceClassName {
  if (fleet.kind[i] === METER) return "nb-iot";
  if (fleet.kind[i] === TRACKER) return "lte-m";
  return fleet.droneRat[i] === 1 ? "5g" : "cat-1";
}
