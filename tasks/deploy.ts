import path from "node:path";
import fs from "node:fs";
import { task, types } from "hardhat/config";
import { action, isDevelopmentChain, keystoreFor, out } from "./common";
import { ConfigError } from "../lib/core/errors";
import { readDeployParameters } from "../lib/consortium/parameters";
import { formatPlmn } from "../lib/core/plmn";

task(
  "deploy",
  "Deploys RoamLedger (CarrierRegistry, RoamingAgreements, DeviceRegistry, UsageLedger) with Ignition; run once per consortium chain by its governance",
)
  .addOptionalParam(
    "parameters",
    "Deployment parameters JSON (bootstrap members, quorum, proposal lifetime, submission grace, infrastructure accounts); default ignition/parameters/<network>.json",
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
      const parameters = readDeployParameters(file, accounts, keystoreFor(args.keystore), { development });
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
      if (args.devToken) {
        const { default: TokenModule } = await import("../ignition/modules/SettlementToken");
        const { settlementToken } = await hre.ignition.deploy(TokenModule, { config, deploymentId: args.deploymentId, displayUi: false });
        out(`  settlementToken    ${await settlementToken.getAddress()} (development token)`);
      }
    }),
  );
