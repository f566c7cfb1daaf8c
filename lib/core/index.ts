// The core folder's public surface (see docs/architecture.md, "The library's map").
export * from "./amount";
export * from "./errors";
export * from "./imsi";
export * from "./period";
export * from "./plmn";
export * from "./roles";
export * from "./enums";
