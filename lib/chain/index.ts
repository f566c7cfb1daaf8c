// The chain folder's public surface (see docs/architecture.md, "The library's map").
export * from "./client";
export * from "./deployment";
export * from "./revert";
export * from "./send";
export * from "./txQueue";
export * from "./viem";
