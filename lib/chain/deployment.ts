import fs from "node:fs";
import path from "node:path";
import { getAddress, isAddress } from "ethers";
import { z } from "zod";
import { ConfigError, type NextStep } from "../core/errors";
import { checkJson, readJsonInput } from "../util/jsonSchema";

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

const DEPLOY: NextStep = { operation: "deploy" };

/**
 * An Ignition `deployed_addresses.json` with an address for every RoamLedger contract (other futures, such
 * as the development token, are allowed).
 */
const ignitionAddresses = z.looseObject(
  Object.fromEntries(
    Object.values(FUTURES).map((future) => [
      future,
      z.string({ error: `no address for ${future}` }).refine(isAddress, { error: `the address of ${future} is not an address` }),
    ]),
  ),
);

/** Where Ignition keeps the deployment of a chain. */
export function deploymentDir(root: string, chainId: bigint | number): string {
  return path.join(root, "ignition", "deployments", `chain-${chainId}`);
}

/** Picks the RoamLedger addresses out of an Ignition `deployed_addresses.json` object. */
export function addressesFromIgnition(deployed: Record<string, unknown>, source: string): RoamLedgerAddresses {
  const out: Partial<RoamLedgerAddresses> = {};
  for (const [key, future] of Object.entries(FUTURES) as [keyof RoamLedgerAddresses, string][]) {
    const address = deployed[future];
    if (typeof address !== "string" || !isAddress(address)) {
      throw new ConfigError(`${source} has no address for ${future}`, {
        hint: "(re)deploy RoamLedger on this network.",
        next: DEPLOY,
      });
    }
    out[key] = getAddress(address);
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
      hint: "deploy RoamLedger on this network first, or point ROAMLEDGER_DEPLOYMENT at the deployed_addresses.json of the consortium's deployment.",
      next: DEPLOY,
    });
  }
  const checked = checkJson(readJsonInput(file, "deployment record"), ignitionAddresses);
  if (!checked.ok) {
    throw new ConfigError(`${file} is not the record of a RoamLedger deployment`, {
      details: checked.errors.map((e) => e.shortMessage).join("\n"),
      hint: "restore it from the deployment, or deploy again.",
      next: DEPLOY,
    });
  }
  return addressesFromIgnition(checked.value, file);
}
