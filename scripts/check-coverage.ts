/**
 * The coverage gate of .ci/run: reads what `hardhat coverage` (solidity-coverage, .solcover.js) wrote to
 * coverage/coverage-summary.json and fails unless the contracts in contracts/ reach the thresholds, summed
 * over their files: 95 % of lines and 90 % of branches by default (COVERAGE_MIN_LINES, COVERAGE_MIN_BRANCHES
 * to raise them). Lists each file with what it misses, so the lines to test next are easy to find
 * (coverage/index.html shows them).
 *
 *   npx ts-node --transpile-only scripts/check-coverage.ts [coverage/coverage-summary.json]
 */
import fs from "node:fs";
import path from "node:path";

interface Count {
  total: number;
  covered: number;
}
type Summary = Record<string, { lines: Count; branches: Count; statements: Count; functions: Count }>;

const root = path.resolve(__dirname, "..");
const file = path.resolve(process.argv[2] ?? path.join(root, "coverage", "coverage-summary.json"));
const minLines = Number(process.env.COVERAGE_MIN_LINES ?? 95);
const minBranches = Number(process.env.COVERAGE_MIN_BRANCHES ?? 90);

function fail(message: string): never {
  console.error(`coverage gate: ${message}`);
  process.exit(1);
}

if (!fs.existsSync(file))
  fail(`${file} not found: run \`SOLIDITY_COVERAGE=true npx hardhat coverage\` first (json-summary reporter, .solcover.js)`);
const summary = JSON.parse(fs.readFileSync(file, "utf8")) as Summary;

const pct = (c: Count) => (c.total === 0 ? 100 : (100 * c.covered) / c.total);
const contracts = Object.entries(summary)
  .filter(([name]) => name !== "total")
  .map(([name, s]) => ({ name: path.relative(root, path.resolve(root, name)).split(path.sep).join("/"), ...s }))
  .filter((f) => f.name.startsWith("contracts/"))
  .sort((a, b) => a.name.localeCompare(b.name));
if (contracts.length === 0) fail(`${file} names no file under contracts/`);

const sum = (key: "lines" | "branches"): Count =>
  contracts.reduce((acc, f) => ({ total: acc.total + f[key].total, covered: acc.covered + f[key].covered }), { total: 0, covered: 0 });
const lines = sum("lines");
const branches = sum("branches");

const width = Math.max(...contracts.map((f) => f.name.length));
for (const f of contracts) {
  const missing = [
    f.lines.covered < f.lines.total ? `${f.lines.total - f.lines.covered} line(s)` : "",
    f.branches.covered < f.branches.total ? `${f.branches.total - f.branches.covered} branch(es)` : "",
  ]
    .filter(Boolean)
    .join(", ");
  console.log(
    `${f.name.padEnd(width)}  lines ${pct(f.lines).toFixed(1).padStart(5)} %  branches ${pct(f.branches).toFixed(1).padStart(5)} %` +
      (missing ? `  (not covered: ${missing})` : ""),
  );
}
const report = `contracts/: lines ${pct(lines).toFixed(2)} % (${lines.covered}/${lines.total}), branches ${pct(branches).toFixed(2)} % (${branches.covered}/${branches.total})`;
console.log(report);
const problems = [
  pct(lines) < minLines ? `lines ${pct(lines).toFixed(2)} % < ${minLines} %` : "",
  pct(branches) < minBranches ? `branches ${pct(branches).toFixed(2)} % < ${minBranches} %` : "",
].filter(Boolean);
if (problems.length) fail(`${problems.join("; ")}: add tests for what coverage/index.html shows uncovered`);
console.log(`coverage gate passed (at least ${minLines} % of lines, ${minBranches} % of branches)`);
