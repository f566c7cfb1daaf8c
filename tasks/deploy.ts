import path from "node:path";
import fs from "node:fs";
import { task, types } from "hardhat/config";
import { action, isDevelopmentChain, keystoreFor, out } from "./common";
import { ConfigError } from "../lib/core/errors";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { type MemberTadigCodes, readDeployParameters } from "../lib/consortium/parameters";
import { ensureTadigCodes } from "../lib/consortium/tadig";
import { connectRoamLedger } from "../lib/chain/client";
import type { RoamLedgerAddresses } from "../lib/chain/deployment";
import { formatPlmn } from "../lib/core/plmn";
import { commandLine } from "./cli/errors";

/**
 * After admission, each carrier's TADIG codes of the parameters file: registered from its operator account
 * when that account is one of the network's (a development chain's accounts, or a key in
 * ROAMLEDGER_PRIVATE_KEYS); otherwise the line its admin key runs is printed. Codes the member holds already
 * (a re-run) are kept; a code another member holds is refused before anything is sent for that member.
 */
async function registerTadigCodes(hre: HardhatRuntimeEnvironment, addresses: RoamLedgerAddresses, members: readonly MemberTadigCodes[]) {
  const signers = await hre.ethers.getSigners();
  if (members.length > 0) out("TADIG codes (each carrier's operator account registers its own):");
  for (const m of members) {
    const text = formatPlmn(m.plmn);
    const signer = signers.find((s) => m.operators.includes(s.address));
    if (!signer) {
      const by = { member: text, account: m.operators[0] };
      out(`  ${text.padEnd(8)} ${m.codes.join(", ")}: to register from its admin key, not an account of this network:`);
      for (const code of m.codes) out(`    ${commandLine({ operation: "carrier:tadig", args: { add: code }, by })}`);
      continue;
    }
    const { held } = await ensureTadigCodes(connectRoamLedger(addresses, signer), m.codes);
    out(`  ${text.padEnd(8)} ${m.codes.join(", ")}${held.length > 0 ? ` (${held.join(", ")} registered before)` : ""}`);
  }
}

task(
  "deploy",
  "Deploys RoamLedger (CarrierRegistry, RoamingAgreements, DeviceRegistry, UsageLedger, SettlementEscrow, NodeRegistry) with Ignition, then registers the carriers' TADIG codes from their operator accounts; run once per consortium chain by its governance",
)
  .addOptionalParam(
    "parameters",
    "Deployment parameters JSON (bootstrap members with their TADIG codes, quorum, proposal lifetime, submission grace, infrastructure accounts); default ignition/parameters/<network>.json",
  )
  .addFlag("devToken", "Also deploy the development SettlementToken (dev and test chains only)")
  .addOptionalParam(
    "keystore",
    'Key store for members whose encryptionKey is "dev-keystore" (development chains only; default $ROAMLEDGER_HOME or ./.roamledger)',
  )
  .addOptionalParam("deploymentId", "Ignition deployment id (default chain-<chainId>)", undefined, types.string)
  .setAction(
    action(async (args: { parameters?: string; devToken: boolean; keystore?: string; deploymentId?: string }, hre) => {
      const file = args.parameters ?? path.join(hre.config.paths.root, "ignition", "parameters", `${hre.network.name}.json`);
      if (!fs.existsSync(file)) {
        throw new ConfigError(`No deployment parameters for network ${hre.network.name} (looked for ${file})`, {
          hint: "write one like ignition/parameters/localhost.json, or pass --parameters <file>.",
        });
      }
      const accounts = (await hre.ethers.getSigners()).map((s) => s.address);
      const development = await isDevelopmentChain(hre);
      const { tadig, ...parameters } = readDeployParameters(file, accounts, keystoreFor(args.keystore), { development });
      const { default: RoamLedgerModule } = await import("../ignition/modules/RoamLedger");
      // hre.ignition.deploy does not read hardhat.config's `ignition` settings by itself (the
      // `ignition deploy` task does): pass them, e.g. requiredConfirmations 1 on a QBFT chain.
      const config = hre.config.ignition;
      const deployed = await hre.ignition.deploy(RoamLedgerModule, {
        parameters: parameters as never,
        config,
        deploymentId: args.deploymentId,
        displayUi: false,
      });
      out(`RoamLedger deployed on ${hre.network.name}:`);
      for (const [name, contract] of Object.entries(deployed)) out(`  ${name.padEnd(18)} ${await contract.getAddress()}`);
      out(`Members: ${parameters.CarrierRegistry.bootstrapMembers.map((m) => `${formatPlmn(m.plmn)} ${m.name}`).join(", ")}`);
      const addresses = Object.fromEntries(
        await Promise.all(Object.entries(deployed).map(async ([name, contract]) => [name, await contract.getAddress()])),
      ) as RoamLedgerAddresses;
      if (args.devToken) {
        const { default: TokenModule } = await import("../ignition/modules/SettlementToken");
        const { settlementToken } = await hre.ignition.deploy(TokenModule, { config, deploymentId: args.deploymentId, displayUi: false });
        out(`  settlementToken    ${await settlementToken.getAddress()} (development token)`);
      }
      await registerTadigCodes(hre, addresses, tadig);
    }),
  );
