// The usage folder's public surface (see docs/architecture.md, "The library's map").
export * from "./batch";
export * from "./batchBuilder";
export * from "./check";
export * from "./generate";
export * from "./ingest";
export * from "./leaf";
export * from "./merkle";
export * from "./pair";
export * from "./parse";
export * from "./payload";
export * from "./recordIdSet";
export * from "./rejects";
export * from "./sealThread";
export * from "./state";
export * from "./store";
export * from "./types";
export * from "./verify";
