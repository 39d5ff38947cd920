// Lints the committed contract with Spectral (spectral:oas) and Redocly (recommended);
// exits 1 on any error or warning of either, so both stay at zero.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);
const documentPath = process.argv[2] ?? "openapi/openapi.json";
// Offline and quiet: no usage reports, no update checks.
const env = { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" };

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, env, encoding: "utf8" });
  if (result.error) throw result.error;
  return result;
}

const spectral = run(bin("spectral"), [
  "lint",
  "--ruleset", "lint/spectral.yaml",
  "--fail-severity", "warn",
  "--format", "stylish",
  documentPath,
]);
process.stdout.write(spectral.stdout);
process.stderr.write(spectral.stderr);
console.log(`Spectral (spectral:oas): ${spectral.status === 0 ? "0 errors, 0 warnings" : "FAILED"}`);

// Redocly exits 0 on warnings, so its totals are read from its JSON report.
const redocly = run(bin("redocly"), [
  "lint", "--config", "lint/redocly.yaml", "--format", "json", documentPath,
]);
let report;
try {
  report = JSON.parse(redocly.stdout);
} catch {
  process.stderr.write(redocly.stdout + redocly.stderr);
  console.error("Redocly did not produce a JSON report");
  process.exit(1);
}
for (const problem of report.problems) {
  const where = problem.location.map((location) => location.pointer).join(", ");
  console.log(`${problem.severity} ${problem.ruleId} at ${where}: ${problem.message}`);
}
const { errors, warnings } = report.totals;
console.log(`Redocly (recommended): ${errors} errors, ${warnings} warnings`);

process.exit(spectral.status === 0 && redocly.status === 0 && errors + warnings === 0 ? 0 : 1);
