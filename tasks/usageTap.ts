import path from "node:path";
import type { Signer } from "ethers";
import { task } from "hardhat/config";
import { tokenInfo } from "../lib/agreements/chain";
import { plmnOfTadig } from "../lib/consortium/tadig";
import { formatAmount } from "../lib/core/amount";
import { ROLE_BITS } from "../lib/core/enums";
import { InputError } from "../lib/core/errors";
import { parsePeriod } from "../lib/core/period";
import { formatPlmn } from "../lib/core/plmn";
import { type ClassRating, convertTap, rateServices, type TapConversion } from "../lib/tap/convert";
import { tadigPartyCheck } from "../lib/tap/map";
import { openTermsInForce } from "../lib/usage/ingest/terms";
import { chainTime } from "../lib/usage/ingest/process";
import { pairKeyWith, storeFor, tapSequenceDir } from "../lib/usage/pair";
import { RATS } from "../lib/usage/types";
import type { Hex } from "../lib/util/hex";
import type { RoamLedgerClient } from "../lib/chain/client";
import { FROM_HELP, plmnArg } from "./cli/args";
import { cliProgress } from "./cli/progress";
import { action, clientFor, keystoreFor, memberOfSigner, out } from "./common";

const n = (x: number) => x.toLocaleString("en-US");

interface TapArgs {
  file: string;
  home: string;
  period: string;
  out: string;
  rat: string;
  visited?: string;
  store?: string;
  keystore?: string;
  from?: string;
}

/** --rat: one of RATS (TAP 3.12 carries none for these call events). */
function ratArg(text: string): number {
  const rat = RATS.indexOf(text.trim().toLowerCase() as (typeof RATS)[number]);
  if (rat < 0)
    throw new InputError(`${text} is not a radio access technology`, {
      location: { param: "rat" },
      hint: `pass one of ${RATS.join(", ")}.`,
    });
  return rat;
}

task(
  "usage:tap",
  "Visited carrier: converts a TAP 3.12 file (GSMA TD.57) to a usage CSV usage:ingest takes, checking its parties (TADIG codes on chain), version, file sequence number and AuditControlInfo; writes <file>.rejects.csv and <out>.charges.csv (TAP's charges per record) and prints TAP's charge per service next to RoamLedger's rating under the pair's agreement",
)
  .addParam("file", "The TAP file (a TransferBatch, BER; told by its content, whatever its name)")
  .addParam("home", "The home carrier billed (the file's recipient), as MCC-MNC (e.g. 262-01)")
  .addParam("period", "Billing period, YYYY-MM; call events starting outside it (UTC) are rejected")
  .addParam("out", "The usage CSV to write (atomically; <out>.charges.csv beside it)")
  .addOptionalParam("rat", `Radio access technology of every record: TAP 3.12 carries none (${RATS.join(", ")})`, "lte")
  .addOptionalParam("visited", "The visited carrier (the file's sender), as MCC-MNC (default: your own, the --from account's carrier)")
  .addOptionalParam(
    "store",
    "Payload store folder; its tap/ folder holds the file sequence logs (default: the carrier profile's, else $ROAMLEDGER_STORE, else <key store>/store)",
  )
  .addOptionalParam(
    "keystore",
    "Key store folder, to open the agreement's sealed terms for the rating (default: the carrier profile's, else $ROAMLEDGER_HOME or ./.roamledger)",
  )
  .addOptionalParam("from", FROM_HELP)
  .setAction(
    action(async (args: TapArgs, hre) => {
      const home = plmnArg("home", args.home);
      const period = parsePeriod(args.period);
      const rat = ratArg(args.rat);
      if (path.resolve(args.out) === path.resolve(args.file)) {
        throw new InputError("is the TAP file itself", { location: { param: "out" }, hint: "name another file for the usage CSV." });
      }
      const client = await clientFor(hre, args.from);
      const visited =
        args.visited !== undefined ? plmnArg("visited", args.visited) : (await memberOfSigner(client, ROLE_BITS.carrier)).plmn;
      const ks = keystoreFor(args.keystore);
      const store = storeFor(ks, args.store);
      const conversion = await convertTap({
        file: args.file,
        out: args.out,
        home,
        visited,
        period,
        rat,
        checkParties: tadigPartyCheck((code) => plmnOfTadig(client, code), { home, visited, file: args.file }),
        sequenceDir: tapSequenceDir(store),
        progress: cliProgress,
      });
      printConversion(conversion, { home, visited });
      const { chainId } = await hre.ethers.provider.getNetwork();
      await printReconciliation(conversion, { client, home, visited, period, chainId, keystore: ks });
    }),
  );

function printConversion(c: TapConversion, pair: { home: Hex; visited: Hex }): void {
  const h = c.header;
  out(
    `TAP ${h.specificationVersion}.${h.releaseVersion} ${h.kind === "notification" ? "Notification" : "TransferBatch"} ${h.fileSequenceNumber}`,
  );
  out(`  sender ${h.sender} (${formatPlmn(pair.visited)}), recipient ${h.recipient} (${formatPlmn(pair.home)}), checked on chain`);
  if (h.fileTypeIndicator === "T") out("  a test file (FileTypeIndicator T)");
  const s = c.summary;
  out(
    `  call events: ${n(s.callEvents)}${
      Object.keys(s.byKind).length
        ? ` (${Object.entries(s.byKind)
            .map(([k, v]) => `${k} ${n(v ?? 0)}`)
            .join(", ")})`
        : ""
    }`,
  );
  out(`  unknown tags skipped: ${n(s.unknownTags)}`);
  out(
    `  AuditControlInfo: passes (${n(s.audit.computed.callEvents)} call events, TotalCharge ${formatAmount(BigInt(s.audit.computed.totalCharge), c.decimalPlaces, { digits: c.decimalPlaces })} ${c.currency})`,
  );
  const records = Object.values(c.services).reduce((sum, t) => sum + t.records, 0);
  out(`Records: ${n(records)} written to ${c.out}; TAP charges per record in ${c.chargesFile}`);
  for (const [service, t] of Object.entries(c.services)) {
    const what =
      service === "data"
        ? `${n(t.bytesUp + t.bytesDown)} bytes, ${n(t.seconds)} s`
        : service === "sms"
          ? `${n(t.events)} messages`
          : `${n(t.seconds)} s`;
    out(`  ${service}: ${n(t.records)} records, ${what}`);
  }
  out(`Rejected: ${n(c.rejects.total)} call events${c.rejects.total ? `, listed in ${c.rejects.path}` : ""}`);
  for (const [code, count] of Object.entries(c.rejects.counts))
    out(`  ${code}: ${n(count ?? 0)}${code === "NOT_BILLABLE" ? " (reported, not billed through RoamLedger, not returned in RAP)" : ""}`);
}

/** Per service, TAP's charge next to RoamLedger's rating under the agreement in force (when the key store opens its terms). */
async function printReconciliation(
  c: TapConversion,
  ctx: { client: RoamLedgerClient; home: Hex; visited: Hex; period: number; chainId: bigint; keystore: ReturnType<typeof keystoreFor> },
): Promise<void> {
  const tap = (amount: number) => `${formatAmount(BigInt(amount), c.decimalPlaces, { digits: c.decimalPlaces })} ${c.currency}`;
  let rated: Record<string, ClassRating[]> | undefined;
  let token = { decimals: 0, symbol: "" };
  let why = "";
  try {
    const pairKey = await pairKeyWith(ctx.client, { keystore: ctx.keystore, self: ctx.visited, partner: ctx.home });
    const now = await chainTime(ctx.client.runner as Signer);
    const terms = await openTermsInForce({ ...ctx, pairKey }, now);
    token = await tokenInfo(terms.settlementToken, ctx.client.runner as Signer);
    rated = rateServices(c.services, terms, ctx.visited);
  } catch (error) {
    why = (error as Error).message.split("\n")[0];
  }
  out("TAP's charge per service, and RoamLedger's rating of the same usage:");
  if (!rated) out(`  (RoamLedger's rating is not shown: the agreement's terms cannot be read: ${why})`);
  const money = (units: bigint) => `${formatAmount(units, token.decimals)}${token.symbol ? ` ${token.symbol}` : ""}`;
  for (const [service, t] of Object.entries(c.services)) {
    const line = `  ${service}: TAP ${tap(t.charge)} (tax ${tap(t.tax)}, discount ${tap(t.discount)})`;
    const classes = rated?.[service];
    if (!rated) out(line);
    else if (!classes || classes.length === 0) out(`${line}; RoamLedger: no rate plan of the agreement prices your network's usage`);
    else out(`${line}; RoamLedger ${classes.map((r) => `${money(r.amount)} (class ${r.tariffClass})`).join(", ")}`);
  }
  if (rated)
    out(
      "  RoamLedger's figure depends on each device's tariff class (known at usage:ingest); no monthly fees, surcharges or SLA credits here.",
    );
}
