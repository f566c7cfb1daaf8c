import fs from "node:fs";
import path from "node:path";
import { ConfigError } from "../core/errors";

/** Addresses of one RoamLedger deployment. */
export interface RoamLedgerAddresses {
  carrierRegistry: string;
  roamingAgreements: string;
  deviceRegistry: string;
  usageLedger: string;
  settlementEscrow: string;
}

/** Ignition's future ids for each contract of the RoamLedger module. */
const FUTURES: Record<keyof RoamLedgerAddresses, string> = {
  carrierRegistry: "CarrierRegistry#CarrierRegistry",
  roamingAgreements: "RoamingAgreements#RoamingAgreements",
  deviceRegistry: "DeviceRegistry#DeviceRegistry",
  usageLedger: "UsageLedger#UsageLedger",
  settlementEscrow: "SettlementEscrow#SettlementEscrow",
};

/** Where Ignition keeps the deployment of a chain. */
export function deploymentDir(root: string, chainId: bigint | number): string {
  return path.join(root, "ignition", "deployments", `chain-${chainId}`);
}

/** Picks the RoamLedger addresses out of an Ignition `deployed_addresses.json` object. */
export function addressesFromIgnition(deployed: Record<string, string>, source: string): RoamLedgerAddresses {
  const out: Partial<RoamLedgerAddresses> = {};
  for (const [key, future] of Object.entries(FUTURES) as [keyof RoamLedgerAddresses, string][]) {
    const address = deployed[future];
    if (!address) {
      throw new ConfigError(`${source} has no address for ${future}`, {
        hint: "run `npx hardhat deploy --network <network>` to (re)deploy RoamLedger on this network.",
      });
    }
    out[key] = address;
  }
  return out as RoamLedgerAddresses;
}

/**
 * Addresses of the deployment on a chain: from `$ROAMLEDGER_DEPLOYMENT` (a JSON file of Ignition's
 * shape) when set, else from `ignition/deployments/chain-<id>/deployed_addresses.json` under `root`.
 */
export function loadDeployment(root: string, chainId: bigint | number): RoamLedgerAddresses {
  const file = process.env.ROAMLEDGER_DEPLOYMENT ?? path.join(deploymentDir(root, chainId), "deployed_addresses.json");
  if (!fs.existsSync(file)) {
    throw new ConfigError(`No RoamLedger deployment found for chain ${chainId} (looked for ${file})`, {
      hint: "deploy first with `npx hardhat deploy --network <network>`, or point ROAMLEDGER_DEPLOYMENT at the deployed_addresses.json of the consortium's deployment.",
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (cause) {
    throw new ConfigError(`${file} is not valid JSON`, { cause, hint: "restore it from the deployment or redeploy." });
  }
  return addressesFromIgnition(parsed as Record<string, string>, file);
}
