/**
 * RoamLedger's library, as a carrier backend imports it (`import { connectRoamLedger } from "roamledger"`).
 * One folder per concept a carrier knows; docs/architecture.md has the map, docs/sdk.md the package.
 */
export * from "./core";
export * from "./util";
export * from "./chain";
export * from "./consortium";
export * from "./crypto";
export * from "./keys";
export * from "./devices";
export * from "./agreements";
export * from "./usage";
export * from "./settlement";
export * from "./invoice";
export * from "./watch";
export * from "./besu";

// The typed ethers bindings (typechain) of the deployed contracts, their interfaces and the settlement
// token's, for calls the library has no function for: `connectRoamLedger` returns these types.
export {
  CarrierRegistry__factory,
  DevicePolicy__factory,
  DeviceRegistry__factory,
  RoamingAgreements__factory,
  SettlementEscrow__factory,
  SettlementToken__factory,
  UsageLedger__factory,
  ICarrierRegistry__factory,
  IDevicePolicy__factory,
  IDeviceRegistry__factory,
  IRoamingAgreements__factory,
  ISettlementEscrow__factory,
  IUsageLedger__factory,
  IERC20Metadata__factory,
} from "../typechain-types";
export type {
  CarrierRegistry,
  DevicePolicy,
  DeviceRegistry,
  RoamingAgreements,
  SettlementEscrow,
  SettlementToken,
  UsageLedger,
  ICarrierRegistry,
  IDevicePolicy,
  IDeviceRegistry,
  IRoamingAgreements,
  ISettlementEscrow,
  IUsageLedger,
  IERC20Metadata,
} from "../typechain-types";
export type { TypedContractEvent, TypedEventLog, TypedListener } from "../typechain-types/common";
