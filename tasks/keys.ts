import { task } from "hardhat/config";
import { action, clientFor, keystoreFor, memberOfSigner, out, stepBy } from "./common";
import { commandLine } from "./cli/errors";
import { FROM_HELP, plmnArg } from "./cli/args";
import { formatPlmn } from "../lib/core/plmn";
import { shareImsiKey, receiveImsiKey } from "../lib/keys/share";
import { imsiKeyFingerprint } from "../lib/crypto/envelope";
import { ROLE_BITS } from "../lib/core/enums";
import { loadDeployment } from "../lib/chain/deployment";
import { connectRoamLedger } from "../lib/chain/client";
import type { Hex } from "../lib/util/hex";
import type { HardhatRuntimeEnvironment } from "hardhat/types";

const KEYSTORE_HELP = "Your carrier's own key store folder (default: the profile's, else $ROAMLEDGER_HOME or ./.roamledger)";

task(
  "keys:init",
  "Creates your member's keys in the local key store if missing: the encryption key pair (its public half goes on-chain) and, for a carrier, the IMSI key",
)
  .addParam("plmn", "Your member, as MCC-MNC (e.g. 262-01)")
  .addOptionalParam("keystore", KEYSTORE_HELP)
  .setAction(
    action(async (args: { plmn: string; keystore?: string }, hre) => {
      const plmn = plmnArg("plmn", args.plmn);
      const text = formatPlmn(plmn);
      const ks = keystoreFor(args.keystore);
      const { publicKey } = ks.ensureEncryptionKey(text);
      const imsiKey = ks.ensureImsiKey(text);
      out(`Keys of ${text} in ${ks.root}:`);
      out(`  encryption public key: ${publicKey}   (${await registration(hre, plmn, publicKey)})`);
      out(`  IMSI key fingerprint:  ${imsiKeyFingerprint(imsiKey)}   (the key itself never leaves; share it with keys:share)`);
    }),
  );

/** What to do with a member's encryption public key: give it to governance, or nothing (already registered). */
async function registration(hre: HardhatRuntimeEnvironment, plmn: Hex, publicKey: string): Promise<string> {
  const give = `give this to governance: "encryptionKey" in the deployment parameters, or carrier:propose --key`;
  let registered: { status: bigint; encryptionKey: string };
  try {
    const { chainId } = await hre.ethers.provider.getNetwork();
    const client = connectRoamLedger(loadDeployment(hre.config.paths.root, chainId), hre.ethers.provider);
    if ((await hre.ethers.provider.getCode(client.addresses.carrierRegistry)) === "0x") return give;
    registered = await client.carriers.getMember(plmn);
  } catch {
    return give; // no deployment on this network (yet), or no node: the key is for the parameters
  }
  if (registered.status === 0n) return `${formatPlmn(plmn)} is not a member on ${hre.network.name} yet: ${give}`;
  if (registered.encryptionKey.toLowerCase() === publicKey.toLowerCase()) return `registered on ${hre.network.name}: nothing to give`;
  return `NOT the key ${formatPlmn(plmn)} registered on ${hre.network.name}: use the key store that holds it, or carrier:rotate-key to register this one`;
}

task("keys:share", "Home carrier: seals your IMSI key to a roaming partner's registered encryption key and publishes the envelope on-chain")
  .addParam("partner", "The roaming partner, as MCC-MNC (e.g. 724-05)")
  .addOptionalParam("keystore", KEYSTORE_HELP)
  .addOptionalParam("from", FROM_HELP)
  .setAction(
    action(async (args: { partner: string; keystore?: string; from?: string }, hre) => {
      const partner = plmnArg("partner", args.partner);
      const client = await clientFor(hre, args.from);
      const self = await memberOfSigner(client, ROLE_BITS.carrier);
      const { fingerprint, txHash } = await shareImsiKey(client, {
        keystore: keystoreFor(args.keystore),
        home: self.plmn,
        partner: partner,
      });
      out(`IMSI key of ${self.text} shared with ${formatPlmn(partner)} (fingerprint ${fingerprint}, tx ${txHash}).`);
      const receive = await stepBy(hre, client, partner, { operation: "keys:receive", args: { home: self.text } });
      out(`${formatPlmn(partner)} stores it with: ${commandLine(receive)}`);
    }),
  );

task(
  "keys:receive",
  "Visited carrier: fetches the IMSI key a home carrier shared with you, opens it with your encryption key and stores it",
)
  .addParam("home", "The home carrier that shared its key, as MCC-MNC (e.g. 262-01)")
  .addOptionalParam("keystore", KEYSTORE_HELP)
  .addOptionalParam("from", FROM_HELP)
  .setAction(
    action(async (args: { home: string; keystore?: string; from?: string }, hre) => {
      const home = plmnArg("home", args.home);
      const client = await clientFor(hre, args.from, { sends: false });
      const self = await memberOfSigner(client, ROLE_BITS.carrier);
      const ks = keystoreFor(args.keystore);
      const { fingerprint } = await receiveImsiKey(client, { keystore: ks, self: self.plmn, home: home });
      out(
        `Stored the IMSI key of ${formatPlmn(home)} (fingerprint ${fingerprint}) in ${ks.partnerImsiKeyPath(self.text, formatPlmn(home))}.`,
      );
    }),
  );
