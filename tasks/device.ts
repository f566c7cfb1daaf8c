import { task, types } from "hardhat/config";
import { action, clientFor, keystoreFor, memberOfSigner, out } from "./common";
import { FROM_HELP, plmnArg } from "./cli/args";
import { isoTime } from "../lib/agreements/terms";
import { ConfigError, InputError, type InputLocation } from "../lib/core/errors";
import { readPolicies } from "../lib/devices/policy";
import {
  readDevices,
  ensurePolicies,
  checkMakers,
  registerDevices,
  checkRegisterBatchSize,
  DEFAULT_REGISTER_BATCH,
  MAX_REGISTER_BATCH,
} from "../lib/devices/registration";
import { MEASURED_GAS } from "../lib/chain/gasBudget";
import { createDeviceIdDeriver, imsiBelongsTo } from "../lib/core/imsi";
import { readCsvWithHeader } from "../lib/util/csv";
import { formatPlmn, isValidPlmnHex } from "../lib/core/plmn";
import { isHex, type Hex } from "../lib/util/hex";
import { Progress } from "./cli/progress";
import { withDecodedRevert } from "../lib/chain/revert";
import type { Keystore } from "../lib/keys/keystore";
import type { RoamLedgerClient } from "../lib/chain/client";
import { ROLE_BITS, SERVICES, ROUTINGS, DEVICE_CLASSES, DEVICE_STATUSES } from "../lib/core/enums";

const KEYSTORE_HELP = "Key store folder holding the IMSI keys (default: the carrier profile's, else $ROAMLEDGER_HOME or ./.roamledger)";

task(
  "device:register",
  "Home carrier: registers devices in bulk from a CSV, each with its own policy contract; safe to re-run after a crash",
)
  .addParam(
    "file",
    "Devices CSV with header imsi,class,policy[,maker]: class is nb-iot|lte-m|cat-1|5g, policy a name in --policies, maker an optional device-maker member (MCC-MNC)",
  )
  .addParam("policies", 'Policies JSON: { "<name>": { services, tariffClass, routing, caps, ... } } (see docs/devices.md)')
  .addOptionalParam(
    "batchSize",
    `Devices per transaction (1 to the registry's maximum, ${MAX_REGISTER_BATCH}; about ${MEASURED_GAS.registerDevice.perItem.toLocaleString("en-US")} gas each: the default of ${DEFAULT_REGISTER_BATCH} uses at most 3/4 of the 16,777,216 gas a transaction may use)`,
    DEFAULT_REGISTER_BATCH,
    types.int,
  )
  .addOptionalParam("keystore", KEYSTORE_HELP)
  .addOptionalParam("from", FROM_HELP)
  .setAction(
    action(async (args: { file: string; policies: string; batchSize: number; keystore?: string; from?: string }, hre) => {
      const client = await clientFor(hre, args.from);
      const home = await memberOfSigner(client, ROLE_BITS.carrier);
      const imsiKey = keystoreFor(args.keystore).imsiKey(home.text);
      // Everything is read and checked before the first transaction: a bad file or batch size sends nothing.
      await checkRegisterBatchSize(client, args.batchSize);
      const policies = readPolicies(args.policies, home.plmn);
      const devices = await readDevices(args.file, { home: home.plmn, imsiKey: imsiKey, policyNames: new Set(policies.keys()) });
      await checkMakers(client, devices, args.file);
      const { ids, defined } = await ensurePolicies(
        client,
        policies,
        devices.map((d) => d.policyName),
      );
      if (defined.length) out(`Defined ${defined.length} new polic${defined.length === 1 ? "y" : "ies"}: ${defined.join(", ")}`);
      let progress: Progress | undefined;
      const result = await registerDevices(client, devices, {
        policyIds: ids,
        batchSize: args.batchSize,
        onProgress: (done, total) => {
          if (total === 0) return;
          progress ??= new Progress({ label: "registering devices", total, unit: "devices" });
          progress.update(done);
        },
      });
      progress?.done();
      out(
        `${home.text}: registered ${result.registered} devices in ${result.transactions} transactions ` +
          `(${result.gasUsed} gas, ${result.registered ? (Number(result.gasUsed) / result.registered).toFixed(0) : 0} per device); ` +
          `${result.skipped} already registered, skipped.`,
      );
    }),
  );

/** The IMSI key that makes ids of `home`'s devices: our own, or one a partner shared with us. */
function imsiKeyFor(ks: Keystore, self: string | undefined, home: string): Uint8Array {
  if (ks.hasImsiKey(home)) return ks.imsiKey(home);
  if (!self) {
    throw new InputError(`no IMSI key of ${home} in the key store`, {
      hint: `pass --as <your PLMN> to use the key ${home} shared with you (keys:receive), or --id with the device id.`,
    });
  }
  return ks.partnerImsiKey(self, home);
}

/** Resolves --imsi / --id into a device id (and its home network when known from the IMSI). */
async function resolveDevice(client: RoamLedgerClient, args: { imsi?: string; id?: string; as?: string; keystore?: string }): Promise<Hex> {
  if (args.id) {
    if (!isHex(args.id.toLowerCase(), 32)) throw new InputError("--id must be a 32-byte hex device id (0x + 64 hex digits)");
    return args.id.toLowerCase() as Hex;
  }
  const { imsi } = args;
  if (!imsi) throw new InputError("pass --imsi or --id", { hint: "e.g. --imsi 262011234567890" });
  const members = (await client.carriers.memberIds()).filter((p) => isValidPlmnHex(p)).map((p) => formatPlmn(p));
  const home = members.find((m) => imsiBelongsTo(imsi, m));
  if (!home) {
    throw new InputError("the IMSI belongs to no member network", {
      location: { param: "imsi" },
      hint: "check the IMSI (15 digits starting with the home MCC and MNC).",
    });
  }
  const self = args.as ? formatPlmn(plmnArg("as", args.as)) : undefined;
  return createDeviceIdDeriver(imsiKeyFor(keystoreFor(args.keystore), self, home), home)(imsi);
}

/** The members with a standing fraud flag on the device, as "724-05 since <time>". */
async function standingFlags(client: RoamLedgerClient, id: Hex): Promise<string[]> {
  const flags: string[] = [];
  for (const plmn of (await client.carriers.memberIds()).filter((p) => isValidPlmnHex(p))) {
    const [standing, since] = await client.devices.fraudFlag(id, plmn);
    if (standing) flags.push(`${formatPlmn(plmn)} since ${isoTime(since)}`);
  }
  return flags;
}

task("device:show", "Shows a device: home, class, status, policy contract, current policy and its version history")
  .addOptionalParam("imsi", "The device's IMSI (needs its home carrier's IMSI key in the key store)")
  .addOptionalParam("id", "The device id (0x + 64 hex digits), instead of --imsi")
  .addOptionalParam("as", "Your member (MCC-MNC), to use an IMSI key a home carrier shared with you")
  .addOptionalParam("keystore", KEYSTORE_HELP)
  .setAction(
    action(async (args: { imsi?: string; id?: string; as?: string; keystore?: string }, hre) => {
      const client = await clientFor(hre, undefined, { sends: false });
      const id = await resolveDevice(client, args);
      const d = await client.devices.getDevice(id);
      if (d.status === 0n) throw new InputError(`device ${id} is not registered`, { hint: "check the IMSI / id and the network." });
      out(`device ${id}`);
      out(`  home:           ${formatPlmn(d.home)}`);
      out(`  maker:          ${d.maker === "0x000000" ? "-" : formatPlmn(d.maker)}`);
      out(`  class:          ${DEVICE_CLASSES[Number(d.deviceClass)]}`);
      out(`  status:         ${DEVICE_STATUSES[Number(d.status)]}`);
      out(`  flagged by:     ${(await standingFlags(client, id)).join(", ") || "-"} (refused there until the home confirms or dismisses)`);
      out(`  registered:     ${isoTime(d.registeredAt)}`);
      out(`  policy contract ${await client.devices.predictPolicyAddress(id)}`);
      for (let v = Number(d.policyVersion); v >= 1; v--) {
        const { policy: p, policyId, since, until } = await client.devices.policyVersion(id, v);
        const window = `${isoTime(since)} .. ${until ? isoTime(until) : "now"}`;
        out(`  policy v${v} (definition ${policyId}, ${window})`);
        const services = SERVICES.filter((_, i) => Number(p.services) & (1 << i));
        out(
          `    services ${services.join(", ") || "signalling only"}; tariff class ${p.tariffClass}; ${ROUTINGS[Number(p.routing)]}; ${p.missionCritical ? "mission-critical (never steer)" : "steerable"}`,
        );
        out(
          `    caps: ${p.dailyBytesCap || "∞"} B/day, ${p.monthlyBytesCap || "∞"} B/month, ${p.dailyEventsCap || "∞"} events/day, ${p.monthlyEventsCap || "∞"} events/month; max ${p.maxVisitedDays || "∞"} days per visited network`,
        );
        out(`    networks: ${p.allowedNetworks.length ? p.allowedNetworks.map(formatPlmn).join(", ") : "any with an agreement"}`);
      }
    }),
  );

/** Device ids from --imsi or from the imsi column of --file, with the home network checked. */
async function idsFromArgs(args: { imsi?: string; file?: string }, home: string, imsiKey: Uint8Array): Promise<Hex[]> {
  const derive = createDeviceIdDeriver(imsiKey, home);
  const check = (imsi: string, location: InputLocation) => {
    if (!imsiBelongsTo(imsi, home)) throw new InputError(`IMSI is not of ${home}`, { location });
    return derive(imsi);
  };
  if (args.imsi) return [check(args.imsi, { param: "imsi" })];
  if (!args.file) throw new InputError("pass --imsi or --file", { hint: "--file takes a CSV with an imsi column." });
  const ids: Hex[] = [];
  for await (const row of readCsvWithHeader(args.file, { required: ["imsi"] })) {
    if ("error" in row) throw row.error;
    ids.push(check(row.record.imsi, { file: args.file, line: row.line }));
  }
  return ids;
}

/** The registry's per-call limits (each fits under the EIP-7825 gas cap): chunk sizes of the tasks below. */
type BatchLimit = "updatePolicies" | "suspend" | "reinstate" | "confirmFraud" | "dismissFraudFlags";

/**
 * Sends `fn` over chunks of ids, each as large as the registry's limit for the call, with a progress
 * bar; each chunk is one all-or-nothing transaction.
 */
async function inChunks(
  client: RoamLedgerClient,
  job: { label: string; limit: BatchLimit; ids: Hex[] },
  fn: (chunk: Hex[]) => Promise<unknown>,
): Promise<void> {
  const { label, ids } = job;
  const size = Number((await client.devices.batchLimits())[job.limit]);
  const progress = new Progress({ label, total: ids.length, unit: "devices" });
  for (let i = 0; i < ids.length; i += size) {
    await withDecodedRevert(fn.bind(null, ids.slice(i, i + size)) as () => Promise<unknown>);
    progress.update(Math.min(i + size, ids.length));
  }
  progress.done();
}

task(
  "policy:update",
  "Home carrier: moves devices to a policy from a policies file, as a new policy version (earlier versions stay readable)",
)
  .addParam("policies", "Policies JSON (see docs/devices.md)")
  .addParam("policy", "Name of the policy in --policies to apply")
  .addOptionalParam("imsi", "One device's IMSI")
  .addOptionalParam("file", "CSV with an imsi column: every device to update")
  .addOptionalParam("keystore", KEYSTORE_HELP)
  .addOptionalParam("from", FROM_HELP)
  .setAction(
    action(async (args: { policies: string; policy: string; imsi?: string; file?: string; keystore?: string; from?: string }, hre) => {
      const client = await clientFor(hre, args.from);
      const home = await memberOfSigner(client, ROLE_BITS.carrier);
      const policies = readPolicies(args.policies, home.plmn);
      if (!policies.has(args.policy)) {
        throw new InputError(`no policy "${args.policy}" in the file`, {
          location: { file: args.policies },
          hint: `it has: ${[...policies.keys()].join(", ")}.`,
        });
      }
      const ids = await idsFromArgs(args, home.text, keystoreFor(args.keystore).imsiKey(home.text));
      const { ids: policyIds } = await ensurePolicies(client, policies, [args.policy]);
      const policyId = policyIds.get(args.policy);
      if (policyId === undefined) throw new ConfigError(`policy "${args.policy}" has no on-chain id after it was defined`);
      await inChunks(client, { label: "updating policies", limit: "updatePolicies", ids }, async (chunk) =>
        (await client.devices.updatePolicies(chunk, policyId)).wait(),
      );
      out(`${ids.length} device(s) of ${home.text} now on policy "${args.policy}" (definition ${policyId}).`);
    }),
  );

for (const [name, verb] of [
  ["device:suspend", "suspends"],
  [
    "device:reinstate",
    "reinstates (also after a confirmed fraud; clears every partner's flag, each partner then waits 7 days to flag again)",
  ],
] as const) {
  task(name, `Home carrier: ${verb} devices; visited networks see it at once in the device's policy contract`)
    .addOptionalParam("imsi", "One device's IMSI")
    .addOptionalParam("file", "CSV with an imsi column: every device concerned")
    .addOptionalParam("reason", "Reason code recorded with a suspension (0-255)", 0, types.int)
    .addOptionalParam("keystore", KEYSTORE_HELP)
    .addOptionalParam("from", FROM_HELP)
    .setAction(
      action(async (args: { imsi?: string; file?: string; reason: number; keystore?: string; from?: string }, hre) => {
        const client = await clientFor(hre, args.from);
        const home = await memberOfSigner(client, ROLE_BITS.carrier);
        const ids = await idsFromArgs(args, home.text, keystoreFor(args.keystore).imsiKey(home.text));
        const suspend = name === "device:suspend";
        const job = { label: suspend ? "suspending" : "reinstating", limit: suspend ? "suspend" : "reinstate", ids } as const;
        await inChunks(client, job, async (chunk) =>
          (await (suspend ? client.devices.suspendDevices(chunk, args.reason) : client.devices.reinstateDevices(chunk))).wait(),
        );
        out(`${ids.length} device(s) of ${home.text} ${suspend ? "suspended" : "reinstated"}.`);
      }),
    );
}

task(
  "device:confirm-fraud",
  "Home carrier: confirms a partner's fraud flag (or your own finding): every visited network then refuses the devices until device:reinstate",
)
  .addOptionalParam("imsi", "One device's IMSI")
  .addOptionalParam("file", "CSV with an imsi column: every device to confirm")
  .addOptionalParam("keystore", KEYSTORE_HELP)
  .addOptionalParam("from", FROM_HELP)
  .setAction(
    action(async (args: { imsi?: string; file?: string; keystore?: string; from?: string }, hre) => {
      const client = await clientFor(hre, args.from);
      const home = await memberOfSigner(client, ROLE_BITS.carrier);
      const ids = await idsFromArgs(args, home.text, keystoreFor(args.keystore).imsiKey(home.text));
      await inChunks(client, { label: "confirming fraud", limit: "confirmFraud", ids }, async (chunk) =>
        (await client.devices.confirmFraud(chunk)).wait(),
      );
      out(`${ids.length} device(s) of ${home.text} confirmed as fraud: refused on every network until device:reinstate.`);
    }),
  );

task(
  "device:dismiss-flags",
  "Home carrier: dismisses one partner's fraud flags on devices; that partner may not flag them again for 7 days, nor ever with the same evidence",
)
  .addParam("reporter", "The partner whose flags to dismiss (MCC-MNC, e.g. 724-05)")
  .addOptionalParam("imsi", "One device's IMSI")
  .addOptionalParam("file", "CSV with an imsi column: every device whose flag to dismiss")
  .addOptionalParam("keystore", KEYSTORE_HELP)
  .addOptionalParam("from", FROM_HELP)
  .setAction(
    action(async (args: { reporter: string; imsi?: string; file?: string; keystore?: string; from?: string }, hre) => {
      const reporter = plmnArg("reporter", args.reporter);
      const client = await clientFor(hre, args.from);
      const home = await memberOfSigner(client, ROLE_BITS.carrier);
      const ids = await idsFromArgs(args, home.text, keystoreFor(args.keystore).imsiKey(home.text));
      await inChunks(client, { label: "dismissing flags", limit: "dismissFraudFlags", ids }, async (chunk) =>
        (await client.devices.dismissFraudFlags(chunk, reporter)).wait(),
      );
      out(
        `${ids.length} flag(s) of ${formatPlmn(reporter)} on devices of ${home.text} dismissed; it may flag them again from 7 days on, with new evidence.`,
      );
    }),
  );
