// The watch folder's public surface (see docs/architecture.md, "The library's map").
export * from "./watch";
export { alertId, type WebhookOptions, WebhookSender, type WebhookStats, webhookUrl } from "./webhook";
