// Derives src/schema.d.ts from openapi/openapi.json with openapi-typescript; with --check,
// writes nothing and exits 1 when the committed file is stale (as `codegen.py --check`).
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import openapiTS, { astToString } from "openapi-typescript";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const documentPath = join(root, "openapi", "openapi.json");
const typesPath = join(here, "src", "schema.d.ts");
const NOTICE =
  "// Generated from openapi/openapi.json by clients/typescript/generate.mjs\n" +
  "// (openapi-typescript). Do not edit: run `npm run client:generate`.\n\n";

/**
 * openapi-typescript 7 types a response header given by `$ref` as always present, whatever
 * the header object's `required` says; an inline header keeps its `required`. So each
 * response's header references are replaced by the header objects they name.
 */
function inlineResponseHeaders(document) {
  const components = document.components?.headers ?? {};
  const prefix = "#/components/headers/";
  for (const pathItem of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(pathItem)) {
      for (const response of Object.values(operation.responses ?? {})) {
        for (const [name, header] of Object.entries(response.headers ?? {})) {
          if (typeof header.$ref === "string" && header.$ref.startsWith(prefix)) {
            response.headers[name] = structuredClone(components[header.$ref.slice(prefix.length)]);
          }
        }
      }
    }
  }
  return document;
}

async function render() {
  const document = inlineResponseHeaders(JSON.parse(readFileSync(documentPath, "utf8")));
  // openapi-typescript types a property that has a `default` as always present. That holds
  // for what the server sends, but not for what a client sends: with it, TaskCreate's new
  // optional `priority` (default `medium`) would become required, and a front end that
  // compiled against 1.0.0 would stop compiling once regenerated. Optional stays optional.
  const ast = await openapiTS(document, { alphabetize: false, defaultNonNullable: false });
  return NOTICE + astToString(ast);
}

function firstDifference(expected, actual) {
  const want = expected.split("\n");
  const have = actual.split("\n");
  for (let line = 0; line < Math.max(want.length, have.length); line += 1) {
    if (want[line] !== have[line]) {
      return `line ${line + 1}:\n- ${have[line] ?? "(end of file)"}\n+ ${want[line] ?? "(end of file)"}`;
    }
  }
  return "";
}

const expected = await render();
const target = relative(root, typesPath);
if (process.argv.includes("--check")) {
  let committed = "";
  try {
    committed = readFileSync(typesPath, "utf8");
  } catch {
    committed = "";
  }
  if (committed !== expected) {
    console.log(`${target} is stale; run \`npm run client:generate\` and commit it.`);
    console.log(firstDifference(expected, committed));
    process.exit(1);
  }
  console.log(`${target} is what openapi/openapi.json derives`);
} else {
  writeFileSync(typesPath, expected);
  console.log(`wrote ${target}`);
}
