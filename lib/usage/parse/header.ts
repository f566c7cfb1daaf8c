import { InputError } from "../../core/errors";
import { FIELD_INDEX, OPTIONAL_FIELDS, REQUIRED_FIELDS, USAGE_FIELDS } from "./fields";
import { splitQuoted } from "./quoted";

/** A problem with a file's first line, where the columns are named. */
export function headerError(location: { file: string; line: number }, message: string, hint?: string): InputError {
  return new InputError(message, {
    location,
    hint:
      hint ?? `the first line names the columns: ${REQUIRED_FIELDS.join(", ")} and optionally ${OPTIONAL_FIELDS.join(", ")}, in any order.`,
  });
}

/** Checks a CSV header line and returns its column names; throws InputError with what is wrong. */
export function checkHeader(file: string, line: number, text: string): string[] {
  const at = { file, line };
  if (!text.includes(",")) {
    for (const [sep, name] of [
      [";", "semicolons"],
      ["\t", "tabs"],
      ["|", "vertical bars"],
    ] as const) {
      if (text.includes(sep)) {
        throw headerError(
          at,
          `the header is separated by ${name}, not commas`,
          "export the file with commas between the fields (and a dot, not a comma, in no number: all numbers are whole).",
        );
      }
    }
  }
  if (text.trimStart().startsWith("{")) {
    throw headerError(
      at,
      "the first line is a JSON object, not a CSV header",
      "name the file .jsonl (or pass the format jsonl) for JSON lines.",
    );
  }
  const fields = text.includes('"') ? splitQuoted(text) : text.split(",");
  if (typeof fields === "string") throw headerError(at, `the header is malformed: ${fields}`);
  const names = fields.map((f) => f.trim());
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate !== undefined) throw headerError(at, `column "${duplicate}" appears twice in the header`);
  const unknown = names.filter((n) => !FIELD_INDEX.has(n));
  if (unknown.length) {
    const described = unknown.map((n) => {
      const close = USAGE_FIELDS.find((f) => f.toLowerCase() === n.toLowerCase());
      return close ? `"${n}" (did you mean ${close}?)` : `"${n}"`;
    });
    const looksLikeData = unknown.length === names.length;
    throw headerError(
      at,
      `unknown column${unknown.length === 1 ? "" : "s"} ${described.join(", ")}`,
      looksLikeData
        ? `the first line must be the header (${USAGE_FIELDS.join(",")}); is it missing?`
        : `remove or rename them; the columns are ${USAGE_FIELDS.join(", ")}.`,
    );
  }
  const missing = REQUIRED_FIELDS.filter((f) => !names.includes(f));
  if (missing.length) throw headerError(at, `missing column${missing.length === 1 ? "" : "s"} ${missing.join(", ")}`);
  return names;
}

/**
 * The field index of each of the given CSV columns, in their order (for a parser given its columns
 * directly, not through checkHeader); throws InputError for an unknown, repeated or missing column.
 */
export function columnFields(columns: readonly string[]): Int32Array {
  const fields = new Int32Array(columns.length);
  const seen = new Set<number>();
  columns.forEach((name, i) => {
    const f = FIELD_INDEX.get(name);
    if (f === undefined || seen.has(f)) {
      throw new InputError(`${f === undefined ? "unknown" : "repeated"} column "${name}"`, {
        hint: `the columns are ${USAGE_FIELDS.join(", ")}.`,
      });
    }
    seen.add(f);
    fields[i] = f;
  });
  const missing = REQUIRED_FIELDS.filter((f) => !columns.includes(f));
  if (missing.length) throw new InputError(`missing column${missing.length === 1 ? "" : "s"} ${missing.join(", ")}`);
  return fields;
}
