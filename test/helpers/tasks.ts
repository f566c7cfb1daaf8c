import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { RoamLedgerAddresses } from "../../lib/chain/deployment";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { addressesOf, deployConsortium, type Consortium } from "./fixtures";

/** Writes a deployment's addresses as Ignition's deployed_addresses.json has them (what ROAMLEDGER_DEPLOYMENT points at). */
export function writeDeploymentFile(file: string, addresses: RoamLedgerAddresses): void {
  fs.writeFileSync(
    file,
    JSON.stringify({
      "CarrierRegistry#CarrierRegistry": addresses.carrierRegistry,
      "RoamingAgreements#RoamingAgreements": addresses.roamingAgreements,
      "DeviceRegistry#DeviceRegistry": addresses.deviceRegistry,
      "UsageLedger#UsageLedger": addresses.usageLedger,
      "SettlementEscrow#SettlementEscrow": addresses.settlementEscrow,
      ...(addresses.nodeRegistry ? { "NodeRegistry#NodeRegistry": addresses.nodeRegistry } : {}),
    }),
  );
}

/** The temp folder useDeploymentForTasks made, and the function that removes it and restores the environment. */
export type TasksEnv = { dir: string; cleanup: () => void };

/**
 * Points the tasks at a fixture's deployment: writes its addresses in Ignition's
 * deployed_addresses.json shape to a temp file and sets ROAMLEDGER_DEPLOYMENT (and a temp key store
 * in ROAMLEDGER_HOME, and ROAMLEDGER_QUIET so task output does not clutter the test report).
 * Returns the temp folder and a cleanup function that restores the environment.
 */
export async function useDeploymentForTasks(c: Consortium | { addresses: RoamLedgerAddresses }): Promise<TasksEnv> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "roamledger-tasks-"));
  const file = path.join(dir, "deployed_addresses.json");
  writeDeploymentFile(file, "addresses" in c ? c.addresses : await addressesOf(c));
  const saved = {
    ROAMLEDGER_DEPLOYMENT: process.env.ROAMLEDGER_DEPLOYMENT,
    ROAMLEDGER_HOME: process.env.ROAMLEDGER_HOME,
    ROAMLEDGER_QUIET: process.env.ROAMLEDGER_QUIET,
    ROAMLEDGER_CONFIG: process.env.ROAMLEDGER_CONFIG,
    ROAMLEDGER_PROFILE: process.env.ROAMLEDGER_PROFILE,
  };
  process.env.ROAMLEDGER_DEPLOYMENT = file;
  // No carrier profile unless a test writes one: a developer's roamledger.json must not change the tests.
  process.env.ROAMLEDGER_CONFIG = path.join(dir, "roamledger.json");
  delete process.env.ROAMLEDGER_PROFILE;
  process.env.ROAMLEDGER_HOME = path.join(dir, "keys");
  process.env.ROAMLEDGER_QUIET = "1";
  return {
    dir,
    cleanup: () => {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * For the tests of the describe block it is called in: before each, the consortium fixture deployed and the
 * tasks pointed at it (useDeploymentForTasks); after each, the environment restored. Read `.c` and `.env`
 * inside the tests.
 */
export function tasksOnConsortium(): { readonly c: Consortium; readonly env: TasksEnv } {
  const fixture = {} as { c: Consortium; env: TasksEnv };
  beforeEach(async function () {
    fixture.c = await loadFixture(deployConsortium);
    fixture.env = await useDeploymentForTasks(fixture.c);
  });
  afterEach(() => fixture.env.cleanup());
  return fixture;
}

/** Index of a signer among hardhat's default accounts, as `--from` takes it. */
export const FROM = { deployer: "0", de: "1", us: "2", br: "3", maker: "4", de2: "5", outsider: "6" } as const;

/** The message a task fails with; fails the test if the task succeeds. */
export async function failureOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error("expected the task to fail");
}

/** Runs `fn` with task output on (ROAMLEDGER_QUIET off), returning what it printed. */
export async function captured(fn: () => Promise<unknown>): Promise<string> {
  const quiet = process.env.ROAMLEDGER_QUIET;
  const log = console.log;
  const lines: string[] = [];
  process.env.ROAMLEDGER_QUIET = "0";
  console.log = (...args: unknown[]) => void lines.push(args.map(String).join(" "));
  try {
    await fn();
  } finally {
    console.log = log;
    // Unset stays unset (assigning undefined would store the string "undefined").
    if (quiet === undefined) delete process.env.ROAMLEDGER_QUIET;
    else process.env.ROAMLEDGER_QUIET = quiet;
  }
  return lines.join("\n");
}
