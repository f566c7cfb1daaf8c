import { task, types } from "hardhat/config";
import { action, clientFor, keystoreFor, memberOfSigner, out, stepBy } from "./common";
import { FROM_HELP, plmnArg, accountMember } from "./cli/args";
import { commandLine } from "./cli/errors";
import { ROLE_BITS } from "../lib/core/enums";
import { InputError } from "../lib/core/errors";
import { acceptAgreement, describeAgreement, describeVersion, proposeAgreement, readAgreement, readVersion } from "../lib/agreements/chain";
import { localTermsPath } from "../lib/agreements/localTerms";
import { formatPlmn } from "../lib/core/plmn";
import type { Hex } from "../lib/util/hex";
import type { RoamLedgerClient } from "../lib/chain/client";

const KEYSTORE_HELP =
  "Key store folder (default: the carrier profile's, else $ROAMLEDGER_HOME or ./.roamledger): your encryption key seals and opens the terms, and a copy of each version's full terms is kept there";

/**
 * An `--agreement-version` argument: a version number from 1. (Hardhat keeps `--version` for itself.)
 */
function versionArg(value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > 2 ** 32 - 1) {
    throw new InputError(`--agreement-version must be a version number from 1, found ${value}`, {
      hint: "see the versions with agreement:show.",
    });
  }
  return value;
}

/** `--as`, or else the member the client's account operates for. */
async function selfFor(client: RoamLedgerClient, as?: string): Promise<Hex> {
  if (as) return plmnArg("as", as);
  const plmn = await accountMember(client);
  if (!plmn) {
    throw new InputError("whose agreement? The account is no member's operator", {
      hint: "pass --as with your carrier (MCC-MNC), e.g. --as 262-01.",
    });
  }
  return plmn;
}

task(
  "agreement:propose",
  "Either carrier (home or visited): proposes roaming-agreement terms from a JSON file to a partner, as the initial agreement or an amendment that replaces the current terms from its validFrom on; the chain gets only the public part (token, validity, dispute window, which tariff classes each side prices: devices in any other class are refused service) and a commitment, the partner the terms sealed with the pair's key",
)
  .addParam("partner", "The roaming partner, as MCC-MNC (e.g. 724-05); must be an active carrier member")
  .addParam(
    "terms",
    'Terms JSON file: { settlementToken, validFrom, validUntil (ISO 8601 UTC), disputeWindowDays, permanentRoaming: { days, surchargePerDay } | null, sla: { maxLatencyMs, minThroughputKbps, minAvailabilityPercent, latencyCreditPercent, throughputCreditPercent, availabilityCreditPercent }, rates: [{ visited, tariffClass, perMb, perSignallingEvent, perSms, perVoiceMinute, monthlyFeePerDevice, tiers: [{ fromMb, discountPercent }] }] }; amounts are strings in token units, e.g. "0.50", converted exactly with the token\'s decimals',
  )
  .addOptionalParam("keystore", KEYSTORE_HELP)
  .addOptionalParam("from", FROM_HELP)
  .setAction(
    action(async (args: { partner: string; terms: string; keystore?: string; from?: string }, hre) => {
      const partner = plmnArg("partner", args.partner);
      const client = await clientFor(hre, args.from);
      const self = await memberOfSigner(client, ROLE_BITS.carrier);
      const keystore = keystoreFor(args.keystore);
      const result = await proposeAgreement(client, { self: self.plmn, partner, file: args.terms, keystore });
      out(`${self.text} proposed version ${result.version} of the agreement with ${formatPlmn(partner)} (tx ${result.txHash}).`);
      out(`  on chain: the public part and the terms commitment ${result.termsCommitment}`);
      out(`  the full terms went sealed for ${formatPlmn(partner)} (${result.sealedBytes} bytes); your copy: ${result.localFile}`);
      const accept = { operation: "agreement:accept", args: { partner: self.text, agreementVersion: String(result.version) } };
      out(`${formatPlmn(partner)} accepts it with: ${commandLine(await stepBy(hre, client, partner, accept))}`);
    }),
  );

task(
  "agreement:accept",
  "Either carrier (home or visited): opens the partner's pending proposal with the pair's key, checks it against its on-chain commitment and public part (token, validity, dispute window, the tariff classes each side prices) and the terms rules, and only then accepts it (it then binds both); prints the terms accepted",
)
  .addParam("partner", "The carrier that made the proposal, as MCC-MNC (e.g. 262-01)")
  .addParam(
    "agreementVersion",
    "The pending version to accept (from agreement:show); naming it makes sure the terms cannot change under you",
    undefined,
    types.int,
  )
  .addOptionalParam("keystore", KEYSTORE_HELP)
  .addOptionalParam("from", FROM_HELP)
  .setAction(
    action(async (args: { partner: string; agreementVersion: number; keystore?: string; from?: string }, hre) => {
      const partner = plmnArg("partner", args.partner);
      const version = versionArg(args.agreementVersion);
      const client = await clientFor(hre, args.from);
      const self = await memberOfSigner(client, ROLE_BITS.carrier);
      const keystore = keystoreFor(args.keystore);
      const { txHash } = await acceptAgreement(client, { self: self.plmn, partner, version, keystore });
      out(
        `${self.text} accepted version ${version} of the agreement with ${formatPlmn(partner)} (tx ${txHash}); these terms now bind both:`,
      );
      // The terms accepted were opened, checked and copied to the key store: read back from there.
      const view = await readVersion(client, { self: self.plmn, partner, version, keystore });
      for (const line of describeVersion(view, self.plmn)) out(line);
      out(`  your copy: ${localTermsPath(keystore, { self: self.plmn, partner, version })}`);
    }),
  );

task(
  "agreement:show",
  "Anyone (read-only): shows the agreement with a partner: every version with its status, proposer, times, validity, token and dispute window, and which version is in force now; the rates, tiers and SLA only to a party with its key store",
)
  .addParam("partner", "The other carrier, as MCC-MNC (e.g. 724-05)")
  .addOptionalParam("agreementVersion", "Show only this version (default: all of them)", undefined, types.int)
  .addOptionalParam("as", "Your carrier, as MCC-MNC (default: the member of the first configured account)")
  .addOptionalParam("keystore", KEYSTORE_HELP)
  .setAction(
    action(async (args: { partner: string; agreementVersion?: number; as?: string; keystore?: string }, hre) => {
      const partner = plmnArg("partner", args.partner);
      const version = args.agreementVersion === undefined ? undefined : versionArg(args.agreementVersion);
      const client = await clientFor(hre, undefined, { sends: false });
      const self = await selfFor(client, args.as);
      const keystore = keystoreFor(args.keystore);
      for (const line of describeAgreement(await readAgreement(client, { self, partner, version, keystore }))) out(line);
    }),
  );
