import type { ContractRunner } from "ethers";
import {
  CarrierRegistry__factory,
  DeviceRegistry__factory,
  RoamingAgreements__factory,
  DevicePolicy__factory,
  UsageLedger__factory,
  SettlementEscrow__factory,
  NodeRegistry__factory,
  type NodeRegistry,
  type CarrierRegistry,
  type DeviceRegistry,
  type RoamingAgreements,
  type DevicePolicy,
  type UsageLedger,
  type SettlementEscrow,
} from "../../typechain-types";
import type { RoamLedgerAddresses } from "./deployment";

/** Typed ethers bindings of one deployment, for one signer (or a read-only provider). */
export interface RoamLedgerClient {
  addresses: RoamLedgerAddresses;
  carriers: CarrierRegistry;
  agreements: RoamingAgreements;
  devices: DeviceRegistry;
  ledger: UsageLedger;
  escrow: SettlementEscrow;
  /** The members' Besu nodes; undefined for a deployment made before NodeRegistry existed. */
  nodes?: NodeRegistry;
  runner: ContractRunner;
  /** The policy contract of a device, by its address. */
  policyAt(address: string): DevicePolicy;
}

export function connectRoamLedger(addresses: RoamLedgerAddresses, runner: ContractRunner): RoamLedgerClient {
  return {
    addresses,
    carriers: CarrierRegistry__factory.connect(addresses.carrierRegistry, runner),
    agreements: RoamingAgreements__factory.connect(addresses.roamingAgreements, runner),
    devices: DeviceRegistry__factory.connect(addresses.deviceRegistry, runner),
    ledger: UsageLedger__factory.connect(addresses.usageLedger, runner),
    escrow: SettlementEscrow__factory.connect(addresses.settlementEscrow, runner),
    nodes: addresses.nodeRegistry ? NodeRegistry__factory.connect(addresses.nodeRegistry, runner) : undefined,
    runner,
    policyAt: (address: string) => DevicePolicy__factory.connect(address, runner),
  };
}
