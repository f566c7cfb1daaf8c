// The invoice folder's public surface (see docs/architecture.md, "The library's map").
export * from "./billing";
export * from "./billingModel";
export * from "./chain";
export * from "./model";
export * from "./number";
export * from "./pdf";
export * from "./render";
export * from "./sealed";
export * from "./text";
export * from "./textInvoice";
export * from "./types";
export * from "./verify";
