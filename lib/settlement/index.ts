// The settlement folder's public surface (see docs/architecture.md, "The library's map").
// invoices.ts: propose, co-sign and close invoices; its `RESOLUTIONS` are lib/core/enums' and its
// `ProposeResult` is re-exported by lib/index.ts as `InvoiceProposeResult` (lib/agreements has one too).
export * from "./claims";
export * from "./escrow";
export * from "./invoices";
export * from "./invoiceSignature";
export * from "./rating";
export * from "./report";
export * from "./totals";
