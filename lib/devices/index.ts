// The devices folder's public surface (see docs/architecture.md, "The library's map").
export * from "./policy";
export * from "./registration";
export * from "./resolver";
