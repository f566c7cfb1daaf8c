import { expect } from "chai";
import { z } from "zod";
import type { InputError } from "../../../lib/core/errors";
import { parsePlmn } from "../../../lib/core/plmn";
import {
  addProblem,
  checkJson,
  fieldName,
  jsonInteger,
  jsonObject,
  jsonUtcTime,
  memberName,
  parsedBy,
  withDefault,
  type JsonProblemOptions,
} from "../../../lib/util/jsonSchema";

const plan = jsonObject({ visited: parsedBy((v) => parsePlmn(String(v))), tariffClass: jsonInteger(0n, 255n) }, '{ "visited": "724-05" }');
const schema = jsonObject(
  {
    days: jsonInteger(1n, 90n),
    from: withDefault(jsonUtcTime(), 0n),
    plans: z.array(plan).default([]),
  },
  '{ "days": 7 }',
).superRefine((v, ctx) => {
  if (v.plans.length > 1) addProblem(ctx, "one plan only", { path: ["plans", 1], hint: "drop the second plan." });
});
const ABOUT: Record<string, string> = { days: "whole days 1-90", visited: "a PLMN id like 724-05" };
const options: JsonProblemOptions = { about: (path) => ABOUT[memberName(path) ?? ""] };

/** Checks `value` written as pretty JSON; returns its problems as "line (field): message | hint". */
function problems(value: unknown): string[] {
  const text = JSON.stringify(value, null, 2);
  const checked = checkJson({ file: "f.json", text, value }, schema, options);
  if (checked.ok) return [];
  return checked.errors.map((e: InputError) => `${e.location?.line} (${e.location?.field}): ${e.problem} | ${e.hint}`);
}

describe("lib/util/jsonSchema", () => {
  it("outputs the value the schema makes, defaults filled in", () => {
    const value = { days: "7", plans: [{ visited: "724-05", tariffClass: 1 }], from: null };
    const checked = checkJson({ file: "f.json", text: JSON.stringify(value), value }, schema);
    expect(checked).to.deep.equal({ ok: true, value: { days: 7n, from: 0n, plans: [{ visited: parsePlmn("724-05"), tariffClass: 1n }] } });
  });

  it("reports every problem at its own line, in the order of the file, with what to do", () => {
    expect(problems({ colour: "blue", days: 0, plans: [{ visited: "72-05", tariffClass: 300, extra: 1 }] })).to.deep.equal([
      '2 (colour): unknown field "colour" | the fields here are: days, from, plans.',
      "3 (days): days must be an integer from 1 to 90, found 0 | days: whole days 1-90.",
      `6 (plans[0].visited): "72-05" is not a PLMN id | write it as "262-01", "262-001", "26201" or "262001" (3-digit MCC, then a 2- or 3-digit MNC).`,
      "7 (plans[0].tariffClass): tariffClass must be an integer from 0 to 255, found 300 | undefined",
      '8 (plans[0].extra): unknown field "extra" | the fields here are: visited, tariffClass.',
    ]);
  });

  it("says a member is missing, at the line of the object it belongs in, with what the member is", () => {
    expect(problems({ plans: [{ tariffClass: 1 }] })).to.deep.equal([
      '1 (days): missing field "days" | days: whole days 1-90.',
      '3 (plans[0].visited): missing field "visited" | visited: a PLMN id like 724-05.',
    ]);
  });

  it("refuses a value that is no object alone, with an example", () => {
    expect(problems([])).to.deep.equal(['1 (undefined): the file must be a JSON object | e.g. { "days": 7 }.']);
    expect(problems({ days: 1, plans: ["cheap"] })).to.deep.equal([
      '4 (plans[0]): plans[0] must be a JSON object | e.g. { "visited": "724-05" }.',
    ]);
  });

  it("checks the whole value once its parts are valid", () => {
    const twoPlans = {
      days: 1,
      plans: [
        { visited: "724-05", tariffClass: 1 },
        { visited: "262-01", tariffClass: 1 },
      ],
    };
    expect(problems(twoPlans)).to.deep.equal(["8 (plans[1]): one plan only | drop the second plan."]);
  });

  it("takes UTC times to the second or minute that exist, and integers as digit strings of any size", () => {
    for (const [from, ok] of [
      ["2026-11-01T00:00:00Z", true],
      ["2026-11-01T12:30Z", true],
      ["2026-02-30T00:00:00Z", false],
      ["2026-11-01T00:00:00+01:00", false],
      ["1969-12-31T23:59:59Z", false],
      [1793491200, false],
    ] as const) {
      expect(problems({ days: 1, from }).length, String(from)).to.equal(ok ? 0 : 1);
    }
    const big = jsonInteger(0n, 2n ** 64n - 1n);
    expect(big.parse("18446744073709551615")).to.equal(2n ** 64n - 1n);
    expect(big.safeParse(2 ** 60).success, "a JSON number beyond 2^53 is not exact").to.equal(false);
  });

  it("names fields by their path", () => {
    expect(fieldName(["rates", 1, "perMb"])).to.equal("rates[1].perMb");
    expect(fieldName([])).to.equal("");
    expect(memberName(["members", 2, "operators", 0])).to.equal("operators");
  });
});
