/**
 * One sequence of calls through the example module, run against any server that speaks the
 * contract (the API, or `make mock`): create, list, get, update, toggle, set, delete, then a
 * 404, a 422 and a 401. Each answer is printed as one JSON line (the call, the request, and
 * the status, headers and body the client received), for tests/client/test_mock.py to check
 * against the contract. Where the server is from: TODO_API_URL; who calls: the first
 * {user, token} of TODO_API_USERS.
 *
 * The calls are the same on both: the 404 asks with `Prefer: code=404`, which the mock
 * (having no state) needs to answer it and the API ignores.
 */
import { createTasksClient, type Result, type TasksClient } from "../src/tasks.js";

interface User {
  user: string;
  token: string;
}

interface Answer {
  call: string;
  ok: boolean;
  method: string;
  path: string;
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

const baseUrl = process.env.TODO_API_URL;
const [caller] = JSON.parse(process.env.TODO_API_USERS ?? "[]") as User[];
if (baseUrl === undefined || caller === undefined) {
  throw new Error("set TODO_API_URL and TODO_API_USERS (a user with a token)");
}

/** What each request received, read from a copy of the response the client got. */
const received: Omit<Answer, "call" | "ok">[] = [];

/** A client whose requests get `edit` applied (a header added or removed) before sending. */
function clientWith(edit: (headers: Headers) => void = () => undefined): TasksClient {
  const recordingFetch = async (request: Request): Promise<Response> => {
    const headers = new Headers(request.headers);
    edit(headers);
    const response = await fetch(new Request(request, { headers }));
    const text = await response.clone().text();
    received.push({
      method: request.method,
      path: new URL(request.url).pathname,
      status: response.status,
      headers: Object.fromEntries(response.headers),
      body: text === "" ? null : (JSON.parse(text) as unknown),
    });
    return response;
  };
  const options = {
    baseUrl: baseUrl as string,
    getToken: () => (caller as User).token,
    fetch: recordingFetch as typeof globalThis.fetch,
  };
  return createTasksClient(options, (caller as User).user);
}

async function answer<T>(call: string, result: Promise<Result<T>>): Promise<T | undefined> {
  const sent = received.length;
  const settled = await result;
  const last = received.at(-1);
  if (received.length !== sent + 1 || last === undefined) {
    throw new Error(`${call}: the client sent ${received.length - sent} requests, not one`);
  }
  const line: Answer = { call, ok: settled.ok, ...last };
  process.stdout.write(`${JSON.stringify(line)}\n`);
  return settled.ok ? settled.value : undefined;
}

const tasks = clientWith();
const created = await answer("create", tasks.create({ title: "Buy milk", due_date: "2026-12-24" }));
if (created === undefined) {
  throw new Error("create answered a problem: nothing to go on with");
}
await answer("list", tasks.list({ limit: 10 }));
await answer("get", tasks.get(created.id));
await answer("update", tasks.update(created.id, { description: "2 litres" }));
await answer("toggle", tasks.toggleCompletion(created.id));
await answer("set completion", tasks.setCompletion(created.id, true));
await answer("delete", tasks.remove(created.id));

const preferring404 = clientWith((headers) => headers.set("Prefer", "code=404"));
await answer("get deleted", preferring404.get(created.id));
await answer("create invalid", tasks.create({ title: "" }));
const withoutToken = clientWith((headers) => headers.delete("Authorization"));
await answer("list without token", withoutToken.list());
