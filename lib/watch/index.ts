// The watch folder's public surface (see docs/architecture.md, "The library's map").
export * from "./watch";
