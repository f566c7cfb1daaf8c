import { task } from "hardhat/config";
import { action, clientFor, keystoreFor, memberOfSigner, out } from "./common";
import { FROM_HELP, plmnArg } from "./cli/args";
import { formatPlmn } from "../lib/core/plmn";
import { shareImsiKey, receiveImsiKey } from "../lib/keys/share";
import { imsiKeyFingerprint } from "../lib/crypto/envelope";
import { ROLE_BITS } from "../lib/core/enums";

const KEYSTORE_HELP = "Key store folder (default $ROAMLEDGER_HOME or ./.roamledger)";

task(
  "keys:init",
  "Creates your member's keys in the local key store if missing: the encryption key pair (its public half goes on-chain) and, for a carrier, the IMSI key",
)
  .addParam("plmn", "Your member, as MCC-MNC (e.g. 262-01)")
  .addOptionalParam("keystore", KEYSTORE_HELP)
  .setAction(
    action(async (args: { plmn: string; keystore?: string }) => {
      const text = formatPlmn(plmnArg("plmn", args.plmn));
      const ks = keystoreFor(args.keystore);
      const { publicKey } = ks.ensureEncryptionKey(text);
      const imsiKey = ks.ensureImsiKey(text);
      out(`Keys of ${text} in ${ks.root}:`);
      out(`  encryption public key: ${publicKey}   (give this to governance for admission)`);
      out(`  IMSI key fingerprint:  ${imsiKeyFingerprint(imsiKey)}   (the key itself never leaves; share it with keys:share)`);
    }),
  );

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
      out(`${formatPlmn(partner)} stores it with: npx hardhat keys:receive --home ${self.text}`);
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
