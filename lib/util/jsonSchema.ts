import { z } from "zod";
import { InputError, type NextStep } from "../core/errors";
import { lineOfPath, readJsonFile, type JsonPath } from "./json";

/**
 * JSON input files checked by zod schemas. Every problem becomes an InputError at the line of the value
 * it is about. A schema words what is wrong in its messages; what to do comes from the custom issue's
 * params (`hint`), else from what the field is (the file's `about`). A member that is absent is reported
 * as missing whatever its schema would say about `undefined`.
 */

/** What the custom issues of our schemas carry besides their message. */
export interface ProblemParams {
  hint?: string;
  next?: NextStep;
}

/** How the problems of one kind of file are named. */
export interface JsonProblemOptions {
  /** The field a problem names, from its path (default {@link fieldName}). */
  field?: (path: JsonPath) => string | undefined;
  /** What the value at `path` is, told to a user who got it wrong: "integer 0-255: the tariff class". */
  about?: (path: JsonPath) => string | undefined;
}

/** A JSON input file as read: its path, its text (to find lines in) and its parsed value. */
export interface JsonInput {
  file: string;
  text: string;
  value: unknown;
}

/** A file's value as its schema outputs it, or every problem of the file in the order of its lines. */
export type Checked<T> = { ok: true; value: T } | { ok: false; errors: InputError[] };

/** Reads and parses a JSON input file; `what` names it in the errors ("policies", "agreement terms"). */
export function readJsonInput(file: string, what: string): JsonInput {
  return { file, ...readJsonFile(file, what) };
}

/** Checks a JSON input against `schema`. */
export function checkJson<S extends z.ZodType>(input: JsonInput, schema: S, options: JsonProblemOptions = {}): Checked<z.output<S>> {
  const result = schema.safeParse(input.value, { reportInput: true });
  if (result.success) return { ok: true, value: result.data };
  const errors = result.error.issues.map((issue) => inputError(issue, input, options));
  // Array.prototype.sort is stable: problems on one line keep the schema's order.
  return { ok: false, errors: errors.sort((a, b) => (a.location?.line ?? 0) - (b.location?.line ?? 0)) };
}

/** `["rates", 1, "perMb"]` as `rates[1].perMb`; the empty path (the document) as "". */
export function fieldName(path: JsonPath): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}

/** The member name a path ends in (array indexes skipped): `["members", 2, "operators", 0]` -> "operators". */
export function memberName(path: JsonPath): string | undefined {
  for (let i = path.length - 1; i >= 0; i--) {
    const step = path[i];
    if (typeof step === "string") return step;
  }
  return undefined;
}

function inputError(issue: z.core.$ZodIssue, input: JsonInput, options: JsonProblemOptions): InputError {
  const path = pathOf(issue);
  const key = memberName(path);
  const params: ProblemParams = issue.code === "custom" ? (issue.params ?? {}) : {};
  // An absent member reaches its schema as undefined, which JSON cannot otherwise hold.
  const missing = key !== undefined && typeof path.at(-1) === "string" && "input" in issue && issue.input === undefined;
  const about = options.about?.(path);
  const aboutHint = about && key ? `${key}: ${about}.` : undefined;
  return new InputError(missing ? `missing field "${key}"` : issue.message, {
    location: { file: input.file, line: lineOfPath(input.text, path), field: (options.field ?? fieldName)(path) || undefined },
    // What the field is tells how to write a missing one better than what its parser says of nothing.
    hint: missing ? (aboutHint ?? params.hint) : (params.hint ?? aboutHint),
    next: params.next,
  });
}

/** Adds a problem to a check: at the value checked, or at `path` below it. */
export function addProblem(ctx: z.core.$RefinementCtx, message: string, options: ProblemParams & { path?: JsonPath } = {}): void {
  const { path, ...params } = options;
  ctx.addIssue({ code: "custom", message, ...(path ? { path: [...path] } : {}), params });
}

/** A value one of the library's parsers reads (a PLMN id, an amount): its InputError is this value's problem. */
export function parsedBy<T>(parse: (value: unknown) => T) {
  return z.unknown().transform((value, ctx): T => {
    try {
      return parse(value);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      addProblem(ctx, err.problem, { hint: err.hint, next: err.next });
      return z.NEVER;
    }
  });
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * A JSON object with the members of `shape`. Any other member is an unknown field, named with the known
 * ones, unless `others` is "ignore" (for reading one member of a file whose other problems are reported
 * elsewhere). A value that is no object is refused alone, with `example` as the hint.
 */
export function jsonObject<S extends z.ZodRawShape>(shape: S, example: string, options: { others?: "refuse" | "ignore" } = {}) {
  const known = Object.keys(shape).join(", ");
  const unknownField = z.custom(() => options.others === "ignore", {
    error: (issue) => `unknown field "${String(issue.path?.at(-1))}"`,
    params: { hint: `the fields here are: ${known}.` },
  });
  return z
    .custom<Record<string, unknown>>(isObject, {
      error: (issue) => `${fieldName(pathOf(issue)) || "the file"} must be a JSON object`,
      params: { hint: `e.g. ${example}.` },
    })
    .pipe(z.object(shape).catchall(unknownField));
}

/**
 * An integer from `min` to `max`, written as a JSON number (exact: at most 2^53) or as a string of digits
 * (any size). Its problem names the member and what was found.
 */
export function jsonInteger(min: bigint, max: bigint) {
  return z
    .custom<number | string>(
      (v) => {
        const ok = (typeof v === "number" && Number.isSafeInteger(v)) || (typeof v === "string" && /^\d+$/.test(v));
        return ok && BigInt(v) >= min && BigInt(v) <= max;
      },
      { error: (issue) => `${memberName(pathOf(issue))} must be an integer from ${min} to ${max}, found ${JSON.stringify(issue.input)}` },
    )
    .transform((v) => BigInt(v));
}

/** An issue's path without symbols (JSON has none). */
function pathOf(issue: { path?: PropertyKey[] }): JsonPath {
  return (issue.path ?? []).filter((p): p is string | number => typeof p !== "symbol");
}

const UTC_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?Z$/;

/** Seconds since the epoch of "2026-11-01T00:00:00Z" (or without seconds); undefined for anything else. */
function utcSeconds(value: unknown): bigint | undefined {
  if (typeof value !== "string" || !UTC_TIME.test(value)) return undefined;
  const iso = value.length === 17 ? `${value.slice(0, 16)}:00Z` : value;
  const ms = Date.parse(iso);
  // Date.parse accepts 2026-02-30 as March 2: only a time that formats back to itself is real.
  if (Number.isNaN(ms) || ms < 0 || new Date(ms).toISOString() !== iso.replace("Z", ".000Z")) return undefined;
  return BigInt(ms / 1000);
}

/** An ISO 8601 UTC time to the second or minute, as seconds since the epoch. */
export function jsonUtcTime(hint = 'write it like "2026-11-01T00:00:00Z".') {
  return z
    .custom<string>((v) => utcSeconds(v) !== undefined, {
      error: (issue) => `${memberName(pathOf(issue))} must be an ISO 8601 UTC time, found ${JSON.stringify(issue.input)}`,
      params: { hint },
    })
    .transform((v) => utcSeconds(v) ?? z.NEVER);
}

/** An optional member: absent or null is `fallback`. */
export function withDefault<S extends z.ZodType>(schema: S, fallback: z.output<S>) {
  return z.preprocess((v) => (v === null ? undefined : v), schema.optional()).transform((v) => v ?? fallback);
}
