/**
 * RoamLedger's library, as a carrier backend imports it (`import { connectRoamLedger } from "roamledger"`).
 * One folder per concept a carrier knows; docs/architecture.md has the map.
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
