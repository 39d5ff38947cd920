// Derives src/schema.d.ts from openapi/openapi.json with openapi-typescript; with --check,
// writes nothing and exits 1 when the committed file is stale (as `codegen.py --check`).
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { renderDocumented } from "./types.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const documentPath = join(root, "openapi", "openapi.json");
const typesPath = join(here, "src", "schema.d.ts");
const NOTICE =
  "// Generated from openapi/openapi.json by clients/typescript/generate.mjs\n" +
  "// (openapi-typescript). Do not edit: run `npm run client:generate`.\n\n";

async function render() {
  // The settings (types.mjs) keep optional request fields optional and the cursor header
  // optional: docs/FRONTEND.md says why.
  return NOTICE + (await renderDocumented(JSON.parse(readFileSync(documentPath, "utf8"))));
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
