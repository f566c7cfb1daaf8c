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
export * from "./zk";
export * from "./tap";
// The decision service (lib/realtime): its entry points; the rest is imported from "roamledger/realtime" paths.
export {
  startDecisionService,
  keystoreEnvelopeOpener,
  DecisionCache,
  ChainFollower,
  UsageCounters,
  serveStandalone,
  DecisionClient,
  DecisionUnavailable,
  type DecisionAnswer,
  type DecisionClientOptions,
  type DecisionQuery,
  type DecisionService,
  type DecisionServiceOptions,
  type StandaloneConfig,
  type CapsLeft,
} from "./realtime";

// Names two folders export: the root picks one and renames the other.
// `RESOLUTIONS` is the same list in lib/core/enums and lib/settlement/invoices.
export { RESOLUTIONS, type ResolutionName } from "./core";
// `ProposeResult`: lib/agreements' (an agreement proposal); an invoice proposal's is `InvoiceProposeResult`.
export type { ProposeResult } from "./agreements";
export type { ProposeResult as InvoiceProposeResult } from "./settlement/invoices";

// What an invoice is rated from, as `proposeInvoice`, `cosignInvoice` and `revealClaim` take it: each side
// builds it from its own copies: `periodUsageOf` from `countedPeriod`, `fullTermsOf` from `agreementTerms`.
// The terms are exported as `InvoiceTerms`: lib/agreements' `FullTerms` is what `agreementTerms` returns.
export { fullTermsOf, periodUsageOf, type CountedPeriodLike } from "./invoice/inputs";
export type { CountedBatchUsage, FullTerms as InvoiceTerms, PeriodUsage } from "./invoice/usage";

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
  RatingAdjudicator__factory,
  Groth16Verifier__factory,
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
