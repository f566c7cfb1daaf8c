import hre from "hardhat";
import { expect } from "chai";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { SigningKey } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import RoamLedgerModule from "../../ignition/modules/RoamLedger";
import SettlementTokenModule from "../../ignition/modules/SettlementToken";
import type {
  CarrierRegistry,
  DeviceRegistry,
  RoamingAgreements,
  SettlementEscrow,
  SettlementToken,
  UsageLedger,
  NodeRegistry,
} from "../../typechain-types";
import { parsePlmn } from "../../lib/core/plmn";
import { scopeDeviceId } from "../../lib/core/imsi";
import { ROLE_BITS } from "../../lib/core/enums";
import type { PolicyStruct } from "../../lib/devices/policy";
import type { Hex } from "../../lib/util/hex";
import type { TermsLike } from "../../lib/agreements/terms";
import type { RoamLedgerAddresses } from "../../lib/chain/deployment";
import { agreeSealed, fixturePrivateKey } from "./agreement";
import { monthOf, monthsBefore, type Month } from "./period";

/** Role bits (contracts/types/Roles.sol), from the library's one mirror of them. */
export const ROLE = { CARRIER: ROLE_BITS.carrier, DEVICE_MAKER: ROLE_BITS["device-maker"], GOVERNOR: ROLE_BITS.governor } as const;

/** The consortium every unit test starts from. */
export const PLMN = {
  DE: parsePlmn("262-01"),
  US: parsePlmn("310-410"),
  BR: parsePlmn("724-05"),
  MAKER: parsePlmn("999-01"),
  NEWCOMER: parsePlmn("234-15"),
} as const;

/** A deterministic, valid secp256k1 compressed public key for tests. */
export function testEncryptionKey(seed: number): string {
  return SigningKey.computePublicKey(`0x${seed.toString(16).padStart(64, "0")}`, true);
}

/** The usage ledger's submission grace in unit tests (the deployment default is 3 days). */
export const SUBMISSION_GRACE = 3600;

export interface Consortium {
  carriers: CarrierRegistry;
  agreements: RoamingAgreements;
  devices: DeviceRegistry;
  ledger: UsageLedger;
  escrow: SettlementEscrow;
  /** The members' Besu nodes (optional: fixtures built without the full module lack it). */
  nodes?: NodeRegistry;
  token: SettlementToken;
  deployer: HardhatEthersSigner;
  /** First operator of each member. */
  de: HardhatEthersSigner;
  us: HardhatEthersSigner;
  br: HardhatEthersSigner;
  maker: HardhatEthersSigner;
  /** Second operator of DE. */
  de2: HardhatEthersSigner;
  /** An account of no member. */
  outsider: HardhatEthersSigner;
  /** Spare accounts for admissions. */
  spare: HardhatEthersSigner[];
}

type Operators = Pick<Consortium, "deployer" | "de" | "de2" | "us" | "br" | "maker">;

/**
 * The CarrierRegistry's Ignition parameters of the unit tests: DE, US and BR are carriers and governors
 * (quorum 2 of 3 with 5001 bps), MAKER is a device maker; each with its operators and a test encryption
 * key, the deployer the infrastructure account.
 */
export function carrierRegistryParameters(s: Operators) {
  const member = (plmn: string, roles: number, name: string, operators: string[], seed: number) => ({
    plmn,
    roles,
    name,
    encryptionKey: testEncryptionKey(seed),
    operators,
  });
  return {
    bootstrapMembers: [
      member(PLMN.DE, ROLE.CARRIER | ROLE.GOVERNOR, "Telekom Deutschland", [s.de.address, s.de2.address], 1),
      member(PLMN.US, ROLE.CARRIER | ROLE.GOVERNOR, "US Mobile IoT", [s.us.address], 2),
      member(PLMN.BR, ROLE.CARRIER | ROLE.GOVERNOR, "Vivo Brasil", [s.br.address], 3),
      member(PLMN.MAKER, ROLE.DEVICE_MAKER, "Acme Meters", [s.maker.address], 4),
    ],
    thresholdBps: 5001,
    proposalLifetime: 7 * 24 * 3600,
    infraAccounts: [s.deployer.address],
  };
}

/**
 * The escrow's delays for a ledger with `grace` (the module's defaults when they fit): the constructor wants
 * the withdrawal delay over a month + grace + the longest dispute window + the sign window, and the solo delay
 * over grace + dispute window + sign window.
 */
function escrowParametersFor(grace: number) {
  const DAY_SECONDS = 24 * 3600;
  const lag = grace + 90 * DAY_SECONDS + 7 * DAY_SECONDS;
  return { withdrawalDelay: Math.max(140 * DAY_SECONDS, 31 * DAY_SECONDS + lag), soloSettleDelay: Math.max(110 * DAY_SECONDS, lag) };
}

/**
 * Deploys RoamLedger through its Ignition module with the four bootstrap members of carrierRegistryParameters,
 * and the development token. `submissionGrace` (default SUBMISSION_GRACE, one hour) lets a test bill a past period
 * whose fixtures have fixed dates.
 */
export async function deployConsortium(options: { submissionGrace?: number } = {}): Promise<Consortium> {
  const [deployer, de, us, br, maker, de2, outsider, ...spare] = await hre.ethers.getSigners();
  const submissionGrace = options.submissionGrace ?? SUBMISSION_GRACE;
  const { carrierRegistry, roamingAgreements, deviceRegistry, usageLedger, settlementEscrow, nodeRegistry } = await hre.ignition.deploy(
    RoamLedgerModule,
    {
      parameters: {
        CarrierRegistry: carrierRegistryParameters({ deployer, de, de2, us, br, maker }),
        UsageLedger: { submissionGrace },
        SettlementEscrow: escrowParametersFor(submissionGrace),
      },
    },
  );
  const { settlementToken } = await hre.ignition.deploy(SettlementTokenModule);
  return {
    carriers: carrierRegistry as unknown as CarrierRegistry,
    token: settlementToken as unknown as SettlementToken,
    agreements: roamingAgreements as unknown as RoamingAgreements,
    devices: deviceRegistry as unknown as DeviceRegistry,
    ledger: usageLedger as unknown as UsageLedger,
    escrow: settlementEscrow as unknown as SettlementEscrow,
    nodes: nodeRegistry as unknown as NodeRegistry,
    deployer,
    de,
    us,
    br,
    maker,
    de2,
    outsider,
    spare,
  };
}

/** The SLA of the tests' terms: 500 ms latency, 100 kbit/s, 99 % availability; 1 %, 1 % and 2 % credit when missed. */
export const TEST_SLA = {
  maxLatencyMs: 500,
  minThroughputKbps: 100,
  minAvailabilityBps: 9_900,
  latencyCreditBps: 100,
  throughputCreditBps: 100,
  availabilityCreditBps: 200,
} as const;

/** Agreement terms both ways between `a` and `b` (one tariff class each way), valid for a year from `from`. */
export function simpleTerms({ a, b, from, token }: { a: string; b: string; from: number; token: string }) {
  const plan = (visited: string) => ({
    visited,
    tariffClass: 1,
    perMb: 1_000n,
    perSignallingEvent: 1n,
    perSms: 10n,
    perVoiceMinute: 50n,
    monthlyFeePerDevice: 100n,
    tiers: [],
  });
  return {
    settlementToken: token,
    validFrom: from,
    validUntil: from + 365 * 24 * 3600,
    disputeWindow: 7 * 24 * 3600,
    permanentRoamingDays: 90,
    permanentRoamingSurchargePerDay: 5n,
    sla: TEST_SLA,
    ratePlans: [plan(a), plan(b)],
  };
}

/** A data-only meter policy of `owner`, with caps; override any field. */
export function meterPolicy(owner: Hex, overrides: Partial<PolicyStruct> = {}): PolicyStruct {
  return {
    owner,
    services: 1, // data only
    tariffClass: 1,
    routing: 0,
    missionCritical: false,
    maxVisitedDays: 90,
    validFrom: 0n,
    validUntil: 0n,
    maxLatencyMs: 0,
    minThroughputKbps: 0,
    dailyBytesCap: 10_000n,
    monthlyBytesCap: 200_000n,
    dailyEventsCap: 50,
    monthlyEventsCap: 1_000,
    allowedNetworks: [],
    ...overrides,
  };
}

/** A made-up local device id for tests (not an HMAC of any IMSI): what a registration carries. */
export const localId = (i: number) => hre.ethers.keccak256(hre.ethers.toUtf8Bytes(`device-${i}`)) as Hex;

/** The on-chain id of the device `home` (DE unless given) registers with `localId(i)` (ids are scoped by home). */
export const deviceId = (i: number, home: Hex = PLMN.DE) => scopeDeviceId(home, localId(i));

/** The deployment's addresses, as lib/ clients take them. */
export async function addressesOf(c: Consortium): Promise<RoamLedgerAddresses> {
  return {
    carrierRegistry: await c.carriers.getAddress(),
    roamingAgreements: await c.agreements.getAddress(),
    deviceRegistry: await c.devices.getAddress(),
    usageLedger: await c.ledger.getAddress(),
    settlementEscrow: await c.escrow.getAddress(),
    ...(c.nodes ? { nodeRegistry: await c.nodes.getAddress() } : {}),
  };
}

/**
 * DE proposes `terms` to BR, sealed for BR with the pair's key (DE's fixture encryption key, seed 1), and
 * BR accepts the new version with its commitment.
 */
export async function agreeDeBrWith(c: Pick<Consortium, "agreements" | "de" | "br">, terms: TermsLike): Promise<void> {
  await agreeSealed({
    agreements: c.agreements,
    signer: c.de,
    acceptor: c.br,
    proposer: PLMN.DE,
    counterparty: PLMN.BR,
    proposerKey: fixturePrivateKey(1),
    terms,
  });
}

/** DE proposes `simpleTerms` to BR from the latest block's time on, sealed, and BR accepts version 1. */
export async function agreeDeBr(c: Consortium): Promise<void> {
  const now = (await hre.ethers.provider.getBlock("latest"))!.timestamp;
  await agreeDeBrWith(c, simpleTerms({ a: PLMN.DE, b: PLMN.BR, from: now, token: await c.token.getAddress() }));
}

/**
 * Last month by the chain's clock, a period that is over (its submission grace too): the chain is first
 * moved two days into its current month when it is not that far yet.
 */
export async function lastMonthOver(): Promise<Month> {
  const now = await time.latest();
  const { start } = monthOf(now);
  if (now < start + 2 * 24 * 3600) await time.increaseTo(start + 2 * 24 * 3600);
  return monthsBefore(now);
}

/**
 * What "only the operators of an active carrier" means for `send`: refused from an account of no member
 * (CarrierRegistryNotActiveOperator) and from the device maker's operator (CarrierRegistryMissingRole, no
 * carrier role).
 */
export async function expectCarrierOperatorsOnly(
  c: { carriers: CarrierRegistry; outsider: HardhatEthersSigner; maker: HardhatEthersSigner },
  send: (from: HardhatEthersSigner) => Promise<unknown>,
): Promise<void> {
  await expect(send(c.outsider)).to.be.revertedWithCustomError(c.carriers, "CarrierRegistryNotActiveOperator").withArgs(c.outsider.address);
  await expect(send(c.maker))
    .to.be.revertedWithCustomError(c.carriers, "CarrierRegistryMissingRole")
    .withArgs(c.maker.address, PLMN.MAKER, ROLE.CARRIER);
}
