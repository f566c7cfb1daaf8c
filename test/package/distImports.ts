import fs from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import ts from "typescript";

/**
 * What the files of a built package load at runtime (JavaScript `require("x")`, `import("x")`) and refer
 * to in their declarations (`import`/`export ... from "x"`, `import("x")` types), read from their syntax
 * trees: a module name inside a string (the ts-node line of lib/usage/sealThread.ts) is no reference.
 */
export function moduleReferences(file: string): string[] {
  const source = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, false);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && node.arguments.length === 1 && ts.isStringLiteral(node.arguments[0])) {
      const callee = node.expression;
      if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === "require")) {
        found.push(node.arguments[0].text);
      }
    } else if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      if (ts.isStringLiteral(node.moduleSpecifier)) found.push(node.moduleSpecifier.text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      found.push(node.argument.literal.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The package a bare specifier names: "csv-stringify" for "csv-stringify/sync", "@scope/x" for "@scope/x/y". */
export function packageOf(specifier: string): string {
  const parts = specifier.split("/");
  return parts.slice(0, specifier.startsWith("@") ? 2 : 1).join("/");
}

export interface ImportProblem {
  file: string;
  specifier: string;
  problem: string;
}

const BUILTINS = new Set(builtinModules);

/** A relative reference resolves to a file of the package, as Node (JavaScript) or tsc (declarations) resolve it. */
function resolvesInside(file: string, specifier: string): boolean {
  const base = path.resolve(path.dirname(file), specifier);
  const candidates = file.endsWith(".d.ts")
    ? [`${base}.d.ts`, path.join(base, "index.d.ts")]
    : [base, `${base}.js`, `${base}.json`, path.join(base, "index.js")];
  return candidates.some((f) => fs.existsSync(f) && fs.statSync(f).isFile());
}

/**
 * Every module reference of the JavaScript and declaration files under `root`: a bare one must name a
 * Node builtin or one of `dependencies` (a devDependency is not installed with the package), a relative
 * one a file under `root` (one `files` of package.json left out is not installed either).
 */
export function importProblems(root: string, dependencies: readonly string[]): ImportProblem[] {
  const allowed = new Set(dependencies);
  const files = fs
    .readdirSync(root, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".js") || f.endsWith(".d.ts"))
    .map((f) => path.join(root, f));
  const problems: ImportProblem[] = [];
  for (const file of files) {
    for (const specifier of moduleReferences(file)) {
      const at = { file: path.relative(root, file), specifier };
      if (specifier.startsWith(".")) {
        if (!resolvesInside(file, specifier)) problems.push({ ...at, problem: "not a file of the package" });
      } else if (!specifier.startsWith("node:") && !BUILTINS.has(specifier) && !allowed.has(packageOf(specifier))) {
        problems.push({ ...at, problem: "neither a Node builtin nor a dependency" });
      }
    }
  }
  return problems;
}
