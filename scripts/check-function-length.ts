/**
 * The function-length gate of .ci/run: fails when a function, method, constructor, accessor, arrow
 * function or function expression in lib/, tasks/, scripts/ or examples/ is longer than 80 lines, counted
 * from the line its signature starts on to the line of its closing brace (docs/testing.md). Object
 * literals, classes and type declarations are not functions and may be longer. Tests are not checked:
 * a mocha `describe` callback is a list of cases, not a function to split.
 *
 *   npx ts-node --transpile-only scripts/check-function-length.ts [--max 80] [folder or file ...]
 */
import fs from "node:fs";
import path from "node:path";
import ts from "typescript";

export const MAX_LINES = 80;
export const DEFAULT_ROOTS = ["lib", "tasks", "scripts", "examples"];

/** Source extensions the gate reads; declaration files (.d.ts) have no bodies and are skipped. */
const SOURCE = /\.(ts|tsx|mts|cts|js|mjs|cjs)$/;
/** Folders that hold installed or generated code, never ours to split. */
const SKIPPED_FOLDERS = new Set(["node_modules", "dist", "out", "coverage", "artifacts", "cache", "typechain-types"]);

export interface LongFunction {
  file: string;
  /** 1-based line of the signature. */
  line: number;
  name: string;
  lines: number;
}

/** What a reader calls the function: its own name, the name it is assigned to, or where it is passed. */
function nameOf(node: ts.SignatureDeclaration): string {
  if (node.name) {
    const own = node.name.getText();
    const owner = node.parent && ts.isClassLike(node.parent) && node.parent.name ? `${node.parent.name.text}.` : "";
    return owner + own;
  }
  if (ts.isConstructorDeclaration(node)) return `${node.parent.name?.text ?? "(class)"}.constructor`;
  const parent = node.parent;
  if ((ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) && parent.name) {
    return parent.name.getText();
  }
  if (ts.isCallExpression(parent)) return `(callback of ${parent.expression.getText().slice(0, 60)})`;
  return "(anonymous)";
}

/** Every function-like node of `text` (as file `fileName`) whose body spans more than `max` lines. */
export function longFunctions(fileName: string, text: string, max = MAX_LINES): LongFunction[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const found: LongFunction[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && "body" in node && node.body) {
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const last = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = last - first + 1;
      if (lines > max) found.push({ file: fileName, line: first + 1, name: nameOf(node), lines });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The source files under `roots` (folders or files; a missing one is skipped), sorted. */
export function sourceFiles(roots: readonly string[]): string[] {
  const files: string[] = [];
  const walk = (entry: string): void => {
    const stat = fs.statSync(entry, { throwIfNoEntry: false });
    if (!stat) return;
    if (stat.isDirectory()) {
      if (SKIPPED_FOLDERS.has(path.basename(entry))) return;
      for (const child of fs.readdirSync(entry)) walk(path.join(entry, child));
    } else if (SOURCE.test(entry) && !entry.endsWith(".d.ts")) {
      files.push(entry);
    }
  };
  for (const root of roots) walk(root);
  return files.sort();
}

function parseArgs(argv: readonly string[]): { max: number; roots: string[] } {
  let max = MAX_LINES;
  const roots: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] !== "--max") {
      roots.push(argv[i]);
      continue;
    }
    max = Number(argv[++i]);
    if (!Number.isInteger(max) || max < 1) throw new Error(`--max takes a whole number of lines, got ${argv[i]}`);
  }
  return { max, roots: roots.length > 0 ? roots : DEFAULT_ROOTS };
}

function main(): void {
  const { max, roots } = parseArgs(process.argv.slice(2));
  const files = sourceFiles(roots);
  const long = files.flatMap((file) => longFunctions(file, fs.readFileSync(file, "utf8"), max));
  for (const f of long) console.error(`${f.file}:${f.line} ${f.name}: ${f.lines} lines (at most ${max})`);
  if (long.length > 0) {
    console.error(
      `function-length gate: ${long.length} function(s) over ${max} lines in ${roots.join(", ")}; split them into named stages`,
    );
    process.exit(1);
  }
  console.log(`function-length gate: ${files.length} files in ${roots.join(", ")}, no function over ${max} lines`);
}

if (require.main === module) main();
