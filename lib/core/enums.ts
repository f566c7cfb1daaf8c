/**
 * The contracts' enums and role bits, mirrored once for the whole library: each list is in the
 * contract's order (index = the value on-chain) and holds the name files, flags and reports use.
 * `CONTRACT_ENUMS` pairs each list with its Solidity declaration; test/unit/lib/enums.test.ts checks every
 * pair against the compiled contracts, so a reordered or added member fails the tests, not a settlement.
 */

/** `DeviceClass` (contracts/types/DeviceTypes.sol). */
export const DEVICE_CLASSES = ["nb-iot", "lte-m", "cat-1", "5g"] as const;
export type DeviceClassName = (typeof DEVICE_CLASSES)[number];

/** `DeviceStatus`: `none` is an unknown device. */
export const DEVICE_STATUSES = ["none", "active", "suspended", "fraud-flagged"] as const;
export type DeviceStatusName = (typeof DEVICE_STATUSES)[number];

/** `Service`: the bit of service i in a policy's mask is 1 << i. */
export const SERVICES = ["data", "sms", "voice", "signalling"] as const;
export type ServiceName = (typeof SERVICES)[number];

/** `Routing`. */
export const ROUTINGS = ["home-routed", "local-breakout"] as const;
export type RoutingName = (typeof ROUTINGS)[number];

/** `DenyReason`: why a visited network may not serve a device (`none` when it may). */
export const DENY_REASONS = [
  "none",
  "unknown-device",
  "device-suspended",
  "device-fraud-flagged",
  "policy-not-yet-valid",
  "policy-expired",
  "service-not-allowed",
  "network-not-allowed",
  "no-agreement",
  "class-not-priced",
] as const;
export type DenyReasonName = (typeof DENY_REASONS)[number];

/** `Billing` (contracts/types/UsageTypes.sol): why a committed record is not billable. */
export const BILLING = [
  "billable",
  "service-not-allowed",
  "network-not-allowed",
  "daily-cap-exceeded",
  "monthly-cap-exceeded",
  "device-suspended",
  "policy-not-valid",
] as const;
export type BillingName = (typeof BILLING)[number];

/** `BatchStatus`: `none` is an unknown batch. */
export const BATCH_STATUSES = ["none", "submitted", "accepted", "rejected", "expired"] as const;
export type BatchStatusName = (typeof BATCH_STATUSES)[number];

/** `IRoamingAgreements.VersionStatus`. */
export const VERSION_STATUSES = ["none", "proposed", "accepted", "withdrawn", "superseded"] as const;
export type VersionStatusName = (typeof VERSION_STATUSES)[number];

/** `ICarrierRegistry.MemberStatus`. */
export const MEMBER_STATUSES = ["none", "active", "suspended"] as const;
export type MemberStatusName = (typeof MEMBER_STATUSES)[number];

/** `ICarrierRegistry.ProposalKind`. */
export const PROPOSAL_KINDS = ["admit", "suspend", "reinstate", "allow-infra-account", "revoke-infra-account", "pause", "unpause"] as const;
export type ProposalKindName = (typeof PROPOSAL_KINDS)[number];

/**
 * `ISettlementEscrow.InvoiceStatus`: `proposed` (signed by the payee), `claimed` (the payer did not sign in
 * time), `revealing` (a reveal is under way), `closed` (amount final and reserved on the payer), `settled`.
 */
export const INVOICE_STATUSES = ["none", "proposed", "claimed", "revealing", "closed", "settled"] as const;
export type InvoiceStatusName = (typeof INVOICE_STATUSES)[number];

/** `ISettlementEscrow.Resolution`: how a closed invoice's amount was fixed. */
export const RESOLUTIONS = ["none", "co-signed", "proven", "revealed"] as const;
export type ResolutionName = (typeof RESOLUTIONS)[number];

/** Role bits of a member, as in contracts/types/Roles.sol (`Roles.CARRIER` ...), by their names in files and flags. */
export const ROLE_BITS = { carrier: 1, "device-maker": 2, governor: 4 } as const;
export type RoleName = keyof typeof ROLE_BITS;

/** Each mirrored enum with its Solidity name and member names, for the check against the compiled contracts. */
export const CONTRACT_ENUMS: Record<string, { solidity: readonly string[]; names: readonly string[] }> = {
  DeviceClass: { solidity: ["NbIot", "LteM", "Cat1Plus", "Nr5g"], names: DEVICE_CLASSES },
  DeviceStatus: { solidity: ["None", "Active", "Suspended", "FraudFlagged"], names: DEVICE_STATUSES },
  Service: { solidity: ["Data", "Sms", "Voice", "Signalling"], names: SERVICES },
  Routing: { solidity: ["HomeRouted", "LocalBreakout"], names: ROUTINGS },
  DenyReason: {
    solidity: [
      "None",
      "UnknownDevice",
      "DeviceSuspended",
      "DeviceFraudFlagged",
      "PolicyNotYetValid",
      "PolicyExpired",
      "ServiceNotAllowed",
      "NetworkNotAllowed",
      "NoAgreement",
      "ClassNotPriced",
    ],
    names: DENY_REASONS,
  },
  Billing: {
    solidity: [
      "Billable",
      "ServiceNotAllowed",
      "NetworkNotAllowed",
      "DailyCapExceeded",
      "MonthlyCapExceeded",
      "DeviceSuspended",
      "PolicyNotValid",
    ],
    names: BILLING,
  },
  BatchStatus: { solidity: ["None", "Submitted", "Accepted", "Rejected", "Expired"], names: BATCH_STATUSES },
  "IRoamingAgreements.VersionStatus": { solidity: ["None", "Proposed", "Accepted", "Withdrawn", "Superseded"], names: VERSION_STATUSES },
  "ICarrierRegistry.MemberStatus": { solidity: ["None", "Active", "Suspended"], names: MEMBER_STATUSES },
  "ICarrierRegistry.ProposalKind": {
    solidity: ["Admit", "Suspend", "Reinstate", "AllowInfraAccount", "RevokeInfraAccount", "Pause", "Unpause"],
    names: PROPOSAL_KINDS,
  },
  "ISettlementEscrow.InvoiceStatus": {
    solidity: ["None", "Proposed", "Claimed", "Revealing", "Closed", "Settled"],
    names: INVOICE_STATUSES,
  },
  "ISettlementEscrow.Resolution": { solidity: ["None", "CoSigned", "Proven", "Revealed"], names: RESOLUTIONS },
};
