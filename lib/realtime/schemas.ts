import { DENY_REASONS, SERVICES } from "../core/enums";

/** `GET /v1/decision`'s query: validated before the handler runs (400 with what is wrong otherwise). */
export const DECISION_QUERY = {
  type: "object",
  required: ["imsi", "service"],
  additionalProperties: false,
  properties: {
    imsi: { type: "string", pattern: "^[0-9]{15}$" },
    service: { type: "string", enum: [...SERVICES] },
    home: { type: "string", pattern: "^[0-9]{3}-?[0-9]{2,3}$" },
  },
} as const;

const CAPS = {
  type: "object",
  properties: {
    dailyBytes: { type: "number" },
    monthlyBytes: { type: "number" },
    dailyEvents: { type: "number" },
    monthlyEvents: { type: "number" },
  },
} as const;

/** The decision (serialized by this schema: fast, and nothing else leaks out). */
export const DECISION_REPLY = {
  type: "object",
  properties: {
    serve: { type: "boolean" },
    reason: { type: "string", enum: [...DENY_REASONS] },
    detail: { type: "string" },
    steerable: { type: "boolean" },
    homeRouted: { type: "boolean" },
    localBreakout: { type: "boolean" },
    tariffClass: { type: "integer" },
    policyVersion: { type: "integer" },
    home: { type: "string" },
    caps: CAPS,
    capsLeft: {
      type: "object",
      nullable: true,
      properties: {
        dailyBytes: { type: "number", nullable: true },
        monthlyBytes: { type: "number", nullable: true },
        dailyEvents: { type: "number", nullable: true },
        monthlyEvents: { type: "number", nullable: true },
        countedAt: { type: "string" },
      },
    },
    block: { type: "integer" },
    time: { type: "integer" },
  },
} as const;

/** Most queries one `POST /v1/decisions` may carry (a burst of attaches is sent as several). */
export const MAX_BATCH = 1000;

/** `POST /v1/decisions`'s body: the queries of `GET /v1/decision`, answered in order. */
export const DECISIONS_BODY = {
  type: "object",
  required: ["queries"],
  additionalProperties: false,
  properties: {
    queries: { type: "array", minItems: 1, maxItems: MAX_BATCH, items: DECISION_QUERY },
  },
} as const;

/** Its answer: one decision per query, in the queries' order, all at the same block. */
export const DECISIONS_REPLY = {
  type: "object",
  properties: {
    block: { type: "integer" },
    decisions: { type: "array", items: DECISION_REPLY },
  },
} as const;

/** What each query parameter must be, for the 400's message. */
export const PARAM_RULES: Record<string, string> = {
  imsi: "the 15 digits of an IMSI (MCC, MNC, MSIN), nothing around them",
  service: `one of ${SERVICES.join(", ")}`,
  home: "the home network's MCC-MNC, e.g. 262-01 (a 2- and a 3-digit MNC differ)",
  queries: `an array of 1 to ${MAX_BATCH} queries, each {"imsi": "<15 digits>", "service": "data|sms|voice|signalling", "home"?: "MCC-MNC"}`,
};
