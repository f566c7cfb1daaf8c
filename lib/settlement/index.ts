// The settlement folder's public surface (see docs/architecture.md, "The library's map").
export * from "./escrow";
export * from "./invoiceSignature";
export * from "./rating";
export * from "./report";
