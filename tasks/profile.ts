import fs from "node:fs";
import path from "node:path";
import { task } from "hardhat/config";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { getAddress, isAddress, type Signer } from "ethers";
import { action, chooseFrom, clientFor, isDevelopmentChain, keystoreFor, out, profileNow } from "./common";
import { amountArg, FROM_HELP, plmnArg } from "./cli/args";
import { profilesFile, saveProfile } from "./cli/profile";
import { commandLine } from "./cli/errors";
import { ConfigError, InputError } from "../lib/core/errors";
import { formatPlmn, parsePlmn } from "../lib/core/plmn";
import { roleNames, permissionNames } from "../lib/core/roles";
import { MEMBER_STATUSES } from "../lib/core/enums";
import { loadDevToken } from "../lib/chain/deployment";
import { sendAndWait } from "../lib/chain/send";
import { Amount } from "../lib/core/amount";
import type { Keystore } from "../lib/keys/keystore";
import type { RoamLedgerClient } from "../lib/chain/client";
import type { Hex } from "../lib/util/hex";
import { SettlementToken__factory } from "../typechain-types";

/**
 * Who am I: the carrier profile a command acts as (`roamledger.json`, `ROAMLEDGER_PROFILE`), and the
 * development token's mint for local chains.
 */

/** What the key store holds for `plmn`: its own keys and the partners' IMSI keys received. */
function keystoreContents(ks: Keystore, plmn: string): string[] {
  const lines = [
    `  encryption key: ${ks.hasEncryptionKey(plmn) ? ks.encryptionKey(plmn).publicKey : "none (npx hardhat keys:init)"}`,
    `  IMSI key:       ${ks.hasImsiKey(plmn) ? "present" : "none"}`,
  ];
  const partners = path.dirname(ks.partnerImsiKeyPath(plmn, plmn));
  const received = fs.existsSync(partners)
    ? fs
        .readdirSync(partners)
        .filter((f) => f.endsWith(".imsi.key"))
        .map((f) => f.replace(/\.imsi\.key$/, ""))
    : [];
  lines.push(`  partners' IMSI keys: ${received.length ? received.join(", ") : "none"}`);
  return lines;
}

/** The account's member on chain, its roles and status, and the account's operator permissions. */
async function memberLines(client: RoamLedgerClient, address: string, expected?: string): Promise<string[]> {
  const member = (await client.carriers.memberOf(address)) as Hex;
  if (member === "0x000000") {
    return [
      `Member:   none: ${address} is not an operator of any member${expected ? ` (the profile says ${expected})` : ""}`,
      "  Member commands need --from <operator account> or a profile (profile:add).",
    ];
  }
  const m = await client.carriers.getMember(member);
  const permissions = await client.carriers.operatorPermissions(address);
  const lines = [
    `Member:   ${formatPlmn(member)} ${m.name} (${roleNames(m.roles)}; ${MEMBER_STATUSES[Number(m.status)] ?? m.status})`,
    `  this account's permissions: ${permissionNames(permissions)}`,
  ];
  if (expected && expected !== formatPlmn(member)) {
    lines.push(`  WARNING: the profile says ${expected}, but the account operates for ${formatPlmn(member)}: fix "from" in the profile.`);
  }
  return lines;
}

task(
  "profile:show",
  "Who am I: the active carrier profile, where it came from, its account, member and permissions on chain, its key store",
)
  .addOptionalParam("from", FROM_HELP)
  .setAction(
    action(async (args: { from?: string }, hre) => {
      const active = profileNow();
      const choice = chooseFrom(args.from);
      out(`Profiles file: ${profilesFile(hre.config.paths.root)}${fs.existsSync(profilesFile(hre.config.paths.root)) ? "" : " (none)"}`);
      if (active) {
        const p = active.profile;
        out(`Profile:  ${p.name} (${active.source})`);
        out(`  plmn ${p.plmn}, from ${p.from}${p.network ? `, network ${p.network}` : ""}${p.store ? `, store ${p.store}` : ""}`);
      } else {
        out("Profile:  none (set ROAMLEDGER_PROFILE=<name>, or add one with profile:add)");
      }
      out(`Network:  ${hre.network.name}`);
      const client = await clientFor(hre, args.from, { sends: false });
      const address = await (client.runner as Signer).getAddress();
      const why = { flag: `--from ${choice.from}`, profile: `the profile's "from": ${choice.from}`, default: "default: account 0" }[
        choice.source
      ];
      out(`Account:  ${address} (${why})`);
      for (const line of await memberLines(client, address, choice.source === "profile" ? active?.profile.plmn : undefined)) out(line);
      const ks = keystoreFor(undefined);
      out(`Key store: ${ks.root}${active?.profile.keystore ? " (the profile's)" : ""}`);
      const member = (await client.carriers.memberOf(address)) as Hex;
      const plmn = member !== "0x000000" ? formatPlmn(member) : active?.profile.plmn;
      if (plmn) for (const line of keystoreContents(ks, plmn)) out(line);
    }),
  );

task(
  "profile:add",
  "Adds (or replaces) a carrier profile in roamledger.json ($ROAMLEDGER_CONFIG): the carrier commands then act as without --from",
)
  .addParam("name", "Profile name, as ROAMLEDGER_PROFILE names it (e.g. 262-01)")
  .addParam("plmn", "The carrier, as MCC-MNC (e.g. 262-01)")
  .addParam("from", "Its operator account: an index into the network's accounts or a 0x address")
  .addOptionalParam("keystore", "Its key store folder (default: .roamledger/<plmn>)")
  .addOptionalParam("store", "Its sealed-payload store folder (default: <key store>/store)")
  .addOptionalParam(
    "profileNetwork",
    "The network its commands use by default (e.g. localhost, besu); default: the --network this command is given, if any",
  )
  .setAction(
    action(async (args: { name: string; plmn: string; from: string; keystore?: string; store?: string; profileNetwork?: string }, hre) => {
      const network = args.profileNetwork ?? hre.hardhatArguments.network;
      const plmn = formatPlmn(plmnArg("plmn", args.plmn));
      if (!/^\d+$/.test(args.from) && !isAddress(args.from)) {
        throw new InputError(`--from ${JSON.stringify(args.from)} is not an account index or a 0x address`);
      }
      if (network !== undefined && !(network in hre.config.networks)) {
        throw new InputError(`--profile-network ${network} is not a network of the Hardhat config (config/base.ts)`, {
          hint: `use one of ${Object.keys(hre.config.networks).join(", ")}.`,
        });
      }
      const file = profilesFile(hre.config.paths.root);
      // Paths are given from here; the file keeps them relative to its own folder, where it resolves them.
      const relative = (p?: string) => {
        if (p === undefined) return undefined;
        const rel = path.relative(path.dirname(file), path.resolve(p)) || ".";
        return rel.startsWith("..") ? path.resolve(p) : rel;
      };
      const keystore = relative(args.keystore ?? path.join(".roamledger", plmn));
      const { replaced } = saveProfile(file, args.name, { plmn, from: args.from, keystore, store: relative(args.store), network });
      out(`${replaced ? "Replaced" : "Added"} profile ${args.name} in ${file}: ${plmn}, from ${args.from}, key store ${keystore}.`);
      out(`Use it with: export ROAMLEDGER_PROFILE=${args.name}   (check with: npx hardhat profile:show)`);
    }),
  );

/** The account `--to` names: a member (its first operator), an account index, or an address. */
async function recipient(hre: HardhatRuntimeEnvironment, client: RoamLedgerClient, to: string | undefined): Promise<string> {
  if (to === undefined || to === "") return (client.runner as Signer).getAddress();
  if (isAddress(to)) return getAddress(to);
  if (/^\d+$/.test(to)) {
    const signers = await hre.ethers.getSigners();
    const signer = signers[Number(to)];
    if (!signer) throw new InputError(`--to ${to}: there are only ${signers.length} accounts (0-${signers.length - 1})`);
    return signer.address;
  }
  const plmn = parsePlmn(to, { param: "to" });
  const operators = (await client.carriers.operatorsOf(plmn)) as string[];
  if (operators.length === 0) throw new InputError(`--to ${formatPlmn(plmn)} is not a member with an operator account`);
  return getAddress(operators[0]);
}

task(
  "dev:mint",
  "Development chains only (hardhat, localhost/anvil, chain id 31337 or 1337): mints the development SettlementToken (deploy --dev-token) to an operator account, for escrow:deposit",
)
  .addParam("amount", 'Amount in token units, e.g. "10000"')
  .addOptionalParam(
    "to",
    "Who gets it: a member as MCC-MNC (its first operator account), an account index or an address (default: the account of --from or the profile)",
  )
  .addOptionalParam("token", "Token address (default: the development token of the deployment record)")
  .addOptionalParam("from", FROM_HELP)
  .setAction(
    action(async (args: { amount: string; to?: string; token?: string; from?: string }, hre) => {
      const { chainId } = await hre.ethers.provider.getNetwork();
      if (!(await isDevelopmentChain(hre))) {
        throw new ConfigError(`dev:mint runs on development chains only; network ${hre.network.name} is chain ${chainId}`, {
          details: "Settlement tokens of a real chain are issued by their issuer, never minted by RoamLedger's tasks.",
          hint: "fund the operator account from your treasury; on a local node use --network localhost (chain id 31337).",
        });
      }
      const client = await clientFor(hre, args.from, { sends: false });
      const address = args.token ?? loadDevToken(hre.config.paths.root, chainId);
      if (!address || !isAddress(address)) {
        throw new ConfigError(`no development token on chain ${chainId}`, {
          hint: "deploy with --dev-token (npx hardhat deploy --dev-token), or pass --token <address>.",
        });
      }
      const to = await recipient(hre, client, args.to);
      const token = SettlementToken__factory.connect(address, hre.ethers.provider);
      const owner = await token.owner();
      const minter = (await hre.ethers.getSigners()).find((s) => s.address.toLowerCase() === owner.toLowerCase());
      if (!minter) throw new ConfigError(`the token's owner ${owner} is not one of the accounts of network ${hre.network.name}`);
      const info = { address, symbol: await token.symbol(), decimals: Number(await token.decimals()) };
      const amount = amountArg(args.amount, info);
      const receipt = await sendAndWait(() => token.connect(minter).mint(to, amount.units));
      const balance = Amount.fromUnits(info, await token.balanceOf(to));
      out(`Minted ${amount.format()} ${info.symbol} to ${to} (tx ${receipt.hash}); it now holds ${balance.format()} ${info.symbol}.`);
      if (!args.to)
        out(
          `Deposit with: ${commandLine({ operation: "escrow:deposit", args: { amount: amount.format(), token: address }, caller: true })}`,
        );
    }),
  );
