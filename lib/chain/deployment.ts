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
  /**
   * The NodeRegistry (members' Besu nodes, for `besu:permissions`): absent from deployments made before it
   * existed; deploying again adds it (Ignition deploys only what is missing).
   */
  nodeRegistry?: string;
}

/** Ignition's future ids for each contract of the RoamLedger module. */
const FUTURES: Record<Exclude<keyof RoamLedgerAddresses, "nodeRegistry">, string> = {
  carrierRegistry: "CarrierRegistry#CarrierRegistry",
  roamingAgreements: "RoamingAgreements#RoamingAgreements",
  deviceRegistry: "DeviceRegistry#DeviceRegistry",
  usageLedger: "UsageLedger#UsageLedger",
  settlementEscrow: "SettlementEscrow#SettlementEscrow",
};

/** Ignition's future id of the NodeRegistry (optional in a deployment record: older ones lack it). */
const NODE_REGISTRY_FUTURE = "NodeRegistry#NodeRegistry";

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

/**
 * Ignition's folder: `$ROAMLEDGER_IGNITION_DIR` when set (relative to `root`), else `<root>/ignition`. `deploy`
 * writes its records there (config/base.ts `paths.ignition`) and every other task reads them from there.
 */
export function ignitionDir(root: string): string {
  return path.resolve(root, process.env.ROAMLEDGER_IGNITION_DIR?.trim() || "ignition");
}

/** Where Ignition keeps the deployment of a chain. */
export function deploymentDir(root: string, chainId: bigint | number): string {
  return path.join(ignitionDir(root), "deployments", `chain-${chainId}`);
}

/** The deployment record of a chain: `$ROAMLEDGER_DEPLOYMENT` when set, else the one under the Ignition folder. */
export function deploymentFile(root: string, chainId: bigint | number): string {
  const configured = process.env.ROAMLEDGER_DEPLOYMENT?.trim();
  return configured ? path.resolve(configured) : path.join(deploymentDir(root, chainId), "deployed_addresses.json");
}

/**
 * The development SettlementToken `deploy --dev-token` put on a chain (Ignition future
 * SettlementToken#SettlementToken in the deployment record), or undefined when there is none.
 */
export function loadDevToken(root: string, chainId: bigint | number): string | undefined {
  const file = deploymentFile(root, chainId);
  if (!fs.existsSync(file)) return undefined;
  const value = readJsonInput(file, "deployment record").value as Record<string, unknown>;
  const address = value?.["SettlementToken#SettlementToken"];
  return typeof address === "string" && isAddress(address) ? getAddress(address) : undefined;
}

/** Picks the RoamLedger addresses out of an Ignition `deployed_addresses.json` object. */
export function addressesFromIgnition(deployed: Record<string, unknown>, source: string): RoamLedgerAddresses {
  const out: Partial<RoamLedgerAddresses> = {};
  for (const [key, future] of Object.entries(FUTURES) as [Exclude<keyof RoamLedgerAddresses, "nodeRegistry">, string][]) {
    const address = deployed[future];
    if (typeof address !== "string" || !isAddress(address)) {
      throw new ConfigError(`${source} has no address for ${future}`, {
        hint: "(re)deploy RoamLedger on this network.",
        next: DEPLOY,
      });
    }
    out[key] = getAddress(address);
  }
  const nodes = deployed[NODE_REGISTRY_FUTURE];
  if (typeof nodes === "string" && isAddress(nodes)) out.nodeRegistry = getAddress(nodes);
  return out as RoamLedgerAddresses;
}

/**
 * Addresses of the deployment on a chain: from `$ROAMLEDGER_DEPLOYMENT` (a JSON file of Ignition's
 * shape) when set, else from `deployments/chain-<id>/deployed_addresses.json` in the Ignition folder
 * (`$ROAMLEDGER_IGNITION_DIR`, default `ignition/` under `root`).
 */
export function loadDeployment(root: string, chainId: bigint | number): RoamLedgerAddresses {
  const file = deploymentFile(root, chainId);
  if (!fs.existsSync(file)) {
    throw new ConfigError(`No RoamLedger deployment found for chain ${chainId} (looked for ${file})`, {
      hint: "deploy RoamLedger on this network first (with the same ROAMLEDGER_IGNITION_DIR, if you deployed with one), or point ROAMLEDGER_DEPLOYMENT at the deployed_addresses.json of the consortium's deployment.",
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
