// The gate's Node half (contractdiff/clients.py runs it): compile a released TypeScript
// client against the types of two documents, each rendered with every generator setting.
//
//   node contractdiff/clients.mjs WORKDIR ROOT
//
// WORKDIR holds base.json and new.json (the documents), client/ (the released client's
// files: tsconfig.json and its TypeScript, without its schema.d.ts) and node_modules (ROOT's).
// For each settings S and document D the client is copied to WORKDIR/S/D/ with the types
// rendered from D in src/schema.d.ts, and one TypeScript program checks all of them at once
// (one program shares the standard library's and @types/node's types). Printed on stdout as
// JSON: every diagnostic of the client's files against the new document's types, and of the
// same settings against the base's where there are any, with its tree, place, message, and
// the declaration of the generated types it names, as a path of property names (one entry
// per declaration when an error names several, as a list of missing properties does)
// (["components", "schemas", "TaskCreate", "priority"]).
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative, sep } from "node:path";
import { pathToFileURL } from "node:url";

const [workdir, root] = process.argv.slice(2);
const ts = createRequire(join(root, "package.json"))("typescript");
const types = await import(pathToFileURL(join(root, "clients", "typescript", "types.mjs")).href);
const SETTINGS = { default: types.renderDefault, documented: types.renderDocumented };
const DOCUMENTS = ["base", "new"];

/** The names of the declarations enclosing `position` in `file`, outermost first. */
function declarationPath(file, position) {
  const names = [];
  const visit = (node) => {
    if (position < node.getStart(file) || position >= node.getEnd()) {
      return;
    }
    if (
      (ts.isPropertySignature(node) ||
        ts.isInterfaceDeclaration(node) ||
        ts.isTypeAliasDeclaration(node)) &&
      node.name !== undefined
    ) {
      names.push(ts.isStringLiteral(node.name) ? node.name.text : node.name.getText(file));
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return names;
}

const trees = [];
for (const [settings, render] of Object.entries(SETTINGS)) {
  for (const name of DOCUMENTS) {
    const tree = join(workdir, settings, name);
    cpSync(join(workdir, "client"), tree, { recursive: true });
    mkdirSync(join(tree, "src"), { recursive: true });
    const document = JSON.parse(readFileSync(join(workdir, `${name}.json`), "utf8"));
    writeFileSync(join(tree, "src", "schema.d.ts"), await render(document));
    trees.push(tree);
  }
}

const rootNames = [];
let options;
for (const tree of trees) {
  const path = join(tree, "tsconfig.json");
  const { config, error } = ts.readConfigFile(path, ts.sys.readFile);
  if (error !== undefined) {
    throw new Error(ts.flattenDiagnosticMessageText(error.messageText, "\n"));
  }
  const parsed = ts.parseJsonConfigFileContent(config, ts.sys, tree, undefined, path);
  rootNames.push(...parsed.fileNames);
  options ??= parsed.options;
}
const { rootDir, outDir, ...compilerOptions } = options;
const program = ts.createProgram(rootNames, {
  ...compilerOptions,
  noEmit: true,
  skipLibCheck: true,
  typeRoots: [join(workdir, "node_modules", "@types")],
});

const checker = program.getTypeChecker();
// "Type X is missing the following properties from type Y: a, b" (and "..., and N more"):
// TypeScript names the properties but points at none of their declarations.
const MISSING_PROPERTIES = new Set([2739, 2740]);

/** The chain of a diagnostic's messages, outermost first. */
function chain(text) {
  if (typeof text === "string") {
    return [];
  }
  return [text, ...(text.next ?? []).flatMap(chain)];
}

/** The innermost node of `file` spanning exactly [start, start + length). */
function nodeAt(file, start, length) {
  let found;
  const visit = (node) => {
    if (start < node.getStart(file) || start + length > node.getEnd()) {
      return;
    }
    if (node.getStart(file) === start && node.getEnd() === start + length) {
      found = node;
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

/** The generated declarations of the properties a "missing the following properties" error
 * names, from the type the offending expression is checked against; [] for any other error. */
function missingDeclarations(diagnostic) {
  const missing = chain(diagnostic.messageText).find((link) => MISSING_PROPERTIES.has(link.code));
  const node =
    missing && nodeAt(diagnostic.file, diagnostic.start ?? 0, diagnostic.length ?? 0);
  const target = node && ts.isExpression(node) ? checker.getContextualType(node) : undefined;
  if (target === undefined) {
    return [];
  }
  const names = missing.messageText
    .slice(missing.messageText.lastIndexOf(": ") + 2)
    .replace(/,? and \d+ more\.?$/, "")
    .split(", ");
  return names.flatMap((name) => {
    const declared = checker.getPropertyOfType(target, name)?.declarations?.[0];
    const file = declared?.getSourceFile();
    return file?.fileName.endsWith(`${sep}schema.d.ts`)
      ? [declarationPath(file, declared.getStart(file))]
      : [];
  });
}

/** A diagnostic as printed: one per generated declaration it is about (a list of missing
 * properties names several), each with its tree, place and message. */
function describe(diagnostic) {
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n");
  if (diagnostic.file === undefined) {
    return [{ tree: null, file: null, line: 0, column: 0, code: diagnostic.code, message }];
  }
  const [settings, document, ...file] = relative(workdir, diagnostic.file.fileName).split(sep);
  const place = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
  const declared = (diagnostic.relatedInformation ?? []).find((related) =>
    related.file?.fileName.endsWith(`${sep}schema.d.ts`),
  );
  const declarations =
    declared === undefined
      ? missingDeclarations(diagnostic)
      : [declarationPath(declared.file, declared.start ?? 0)];
  return (declarations.length > 0 ? declarations : [null]).map((declaration) => ({
    tree: { settings, document },
    file: file.join("/"),
    line: place.line + 1,
    column: place.character + 1,
    code: diagnostic.code,
    message,
    declaration,
  }));
}

/** The diagnostics of the client's own files in one tree (the checker works lazily, file
 * by file, so a tree that is never asked about costs nothing). */
function check(settings, document) {
  const tree = join(workdir, settings, document) + sep;
  return program
    .getSourceFiles()
    .filter((file) => file.fileName.startsWith(tree) && !file.isDeclarationFile)
    .flatMap((file) => [
      ...program.getSyntacticDiagnostics(file),
      ...program.getSemanticDiagnostics(file),
    ])
    .flatMap(describe);
}

const diagnostics = [
  ...program.getOptionsDiagnostics(),
  ...program.getGlobalDiagnostics(),
].flatMap(describe);
for (const settings of Object.keys(SETTINGS)) {
  const found = check(settings, "new");
  // Only an error the base's own types do not give is the change's doing: the base tree is
  // checked where the new one has errors.
  diagnostics.push(...found, ...(found.length > 0 ? check(settings, "base") : []));
}
process.stdout.write(JSON.stringify({ diagnostics }));
