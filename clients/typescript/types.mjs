// How src/schema.d.ts is rendered from an OpenAPI document with openapi-typescript: the
// documented settings (generate.mjs writes the committed file with them), and the tool's own
// defaults, which a front end calling openapi-typescript directly gets. The contract gate
// (contractdiff/clients.mjs) compiles the released client against both.
import openapiTS, { astToString } from "openapi-typescript";

/**
 * openapi-typescript 7 types a response header given by `$ref` as always present, whatever
 * the header object's `required` says; an inline header keeps its `required`. So each
 * response's header references are replaced by the header objects they name.
 */
export function inlineResponseHeaders(document) {
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

// openapi-typescript types a property that has a `default` as always present. That holds
// for what the server sends, but not for what a client sends: with it, TaskCreate's new
// optional `priority` (default `medium`) would become required, and a front end that
// compiled against 1.0.0 would stop compiling once regenerated. Optional stays optional.
export const DOCUMENTED_OPTIONS = Object.freeze({ alphabetize: false, defaultNonNullable: false });

/** The types of `document` as a front end following docs/FRONTEND.md generates them. */
export async function renderDocumented(document) {
  const ast = await openapiTS(inlineResponseHeaders(structuredClone(document)), {
    ...DOCUMENTED_OPTIONS,
  });
  return astToString(ast);
}

/** The types of `document` from openapi-typescript at its default settings. */
export async function renderDefault(document) {
  return astToString(await openapiTS(structuredClone(document)));
}
