/**
 * The receiver example against a live server: a task created, updated, completed and deleted
 * through the example client sends four events, each handled once, in sequence order, with
 * the task as the API answered it; a tampered delivery is refused; repeats, stale sequences
 * and unknown types are answered 2xx and not handled again. The receiver listens on
 * 127.0.0.1:RECEIVER_PORT/hooks, the endpoint the server delivers to, with its secret
 * RECEIVER_SECRET; the API is at TODO_API_URL, called as the first {user, token} of
 * TODO_API_USERS.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import { after, before, test } from "node:test";
import { Webhook } from "standardwebhooks";
import { createReceiver, type EventType, type Handlers, type TaskEvent } from "../src/receiver.js";
import { createTasksClient, type Result } from "../src/tasks.js";

interface User {
  user: string;
  token: string;
}

const baseUrl = process.env.TODO_API_URL;
const [caller] = JSON.parse(process.env.TODO_API_USERS ?? "[]") as User[];
const port = Number(process.env.RECEIVER_PORT);
const secret = process.env.RECEIVER_SECRET;
if (baseUrl === undefined || caller === undefined || !port || secret === undefined) {
  throw new Error("set TODO_API_URL, TODO_API_USERS, RECEIVER_PORT and RECEIVER_SECRET");
}
const PATH = "/hooks";
const receiverUrl = `http://127.0.0.1:${port}${PATH}`;
/** How long an event may take from the API call to the handler (the relay polls every 0.2 s). */
const DELIVERY_SECONDS = 20;
/** Task ids of the made-up deliveries: far above any the server assigns in a test run. */
let madeUpTaskId = 9_000_000_000;

interface Handled {
  id: string;
  type: EventType;
  userId: string;
  taskId: number;
  sequence: number;
  /** The task the event carries; null for `task.deleted`, which has only its id. */
  task: unknown;
}

const handled: Handled[] = [];
/** Task ids whose next event the handler fails on, once. */
const failOnce = new Set<number>();

function record(event: TaskEvent, task: unknown): void {
  if (failOnce.delete(event.data.task_id)) {
    throw new Error("the handler's database is down");
  }
  handled.push({
    id: event.id,
    type: event.type,
    userId: event.data.user_id,
    taskId: event.data.task_id,
    sequence: event.data.sequence,
    task,
  });
}

// Each handler gets its own event type: `event.data.task` is a Task in all but task.deleted.
const handlers: Handlers = {
  "reminder.due": (event) => record(event, event.data.task),
  "task.created": (event) => record(event, event.data.task),
  "task.updated": (event) => record(event, event.data.task),
  "task.completed": (event) => record(event, event.data.task),
  "task.deleted": (event) => record(event, null),
};

const server = createServer(createReceiver({ secret, handlers, path: PATH }));

before(async () => {
  server.listen(port, "127.0.0.1");
  await once(server, "listening");
});

after(() => {
  server.closeAllConnections(); // the server keeps its delivery connections alive
  server.close();
});

function value<T>(result: Result<T>): T {
  if (!result.ok) {
    assert.fail(`the API answered a problem: ${JSON.stringify(result.problem)}`);
  }
  return result.value;
}

function handledFor(taskId: number): Handled[] {
  return handled.filter((event) => event.taskId === taskId);
}

/** Polls until the receiver has handled the `type` event of the task; fails at the deadline. */
async function delivered(taskId: number, type: EventType): Promise<Handled> {
  const deadline = Date.now() + DELIVERY_SECONDS * 1000;
  for (;;) {
    const found = handledFor(taskId).find((event) => event.type === type);
    if (found !== undefined) {
      return found;
    }
    if (Date.now() > deadline) {
      assert.fail(
        `no ${type} of task ${taskId} handled within ${DELIVERY_SECONDS} s; handled: ` +
          JSON.stringify(handledFor(taskId)),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** POSTs `body` to the receiver as the server would, signed with `signingSecret`. */
async function post(
  id: string,
  body: string,
  { signingSecret = secret as string, sent = body, tamper = (signature: string) => signature } = {},
): Promise<number> {
  const signature = tamper(new Webhook(signingSecret).sign(id, new Date(), body));
  const response = await fetch(receiverUrl, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(Date.now() / 1000)),
      "webhook-signature": signature,
    },
    body: sent,
  });
  return response.status;
}

/** An event's body as the server writes it (a made-up task, beyond what the receiver reads). */
function madeUpEvent(id: string, type: string, taskId: number, sequence: number): string {
  const task = { id: taskId, user_id: "alice", title: `seen at ${sequence}`, completed: false };
  const data = type === "task.deleted" ? {} : { task };
  return JSON.stringify({
    id,
    type,
    timestamp: new Date().toISOString(),
    data: { user_id: "alice", task_id: taskId, sequence, ...data },
  });
}

test("a task's events are handled once each, in sequence order, with the task", async () => {
  const tasks = createTasksClient(
    { baseUrl: baseUrl as string, getToken: () => (caller as User).token },
    (caller as User).user,
  );
  const created = value(await tasks.create({ title: "Water the plants", tags: ["home"] }));
  const createdEvent = await delivered(created.id, "task.created");
  assert.deepEqual(createdEvent.task, created);

  const updated = value(await tasks.update(created.id, { priority: "high" }));
  assert.deepEqual((await delivered(created.id, "task.updated")).task, updated);

  const completed = value(await tasks.setCompletion(created.id, true));
  assert.deepEqual((await delivered(created.id, "task.completed")).task, completed);

  value(await tasks.remove(created.id));
  const deletedEvent = await delivered(created.id, "task.deleted");
  assert.equal(deletedEvent.task, null);

  const events = handledFor(created.id);
  assert.deepEqual(
    events.map((event) => [event.type, event.sequence]),
    [
      ["task.created", 1],
      ["task.updated", 2],
      ["task.completed", 3],
      ["task.deleted", 4],
    ],
  );
  assert.ok(events.every((event) => event.userId === (caller as User).user));
  assert.equal(new Set(events.map((event) => event.id)).size, 4, "four events, four ids");
});

test("a delivery not signed with the endpoint's secret is refused, 401", async () => {
  const taskId = (madeUpTaskId += 1);
  const id = `evt_tampered_${taskId}`;
  const body = madeUpEvent(id, "task.created", taskId, 1);
  const tampered = body.replace('"seen at 1"', '"seen at 2"');
  assert.notEqual(tampered, body);
  assert.equal(await post(id, body, { sent: tampered }), 401, "a body changed after signing");
  // The first character of the signature's HMAC, after `v1,`, changed.
  const flipped = (signature: string) =>
    `v1,${signature[3] === "A" ? "B" : "A"}${signature.slice(4)}`;
  assert.equal(await post(id, body, { tamper: flipped }), 401, "a signature changed");
  const otherKey = crypto.getRandomValues(new Uint8Array(32));
  const otherSecret = `whsec_${Buffer.from(otherKey).toString("base64")}`;
  assert.equal(await post(id, body, { signingSecret: otherSecret }), 401, "another secret");
  assert.deepEqual(handledFor(taskId), [], "nothing refused was handled");

  // The same body as it was signed is accepted, with the same id: refusing stored nothing.
  assert.equal(await post(id, body), 204);
  assert.deepEqual(
    handledFor(taskId).map((event) => [event.id, event.sequence]),
    [[id, 1]],
  );
});

test("repeats, stale sequences, unknown types and failed handlers", async () => {
  const taskId = (madeUpTaskId += 1);
  const second = madeUpEvent(`evt_${taskId}_2`, "task.updated", taskId, 2);
  assert.equal(await post(`evt_${taskId}_2`, second), 204);
  assert.equal(await post(`evt_${taskId}_2`, second), 204, "a repeat is accepted");
  const first = madeUpEvent(`evt_${taskId}_1`, "task.created", taskId, 1);
  assert.equal(await post(`evt_${taskId}_1`, first), 204, "a stale event is accepted");
  const unknown = madeUpEvent(`evt_${taskId}_x`, "task.archived", taskId, 3);
  assert.equal(await post(`evt_${taskId}_x`, unknown), 204, "an unknown type is accepted");

  // A handler that fails answers 500; the server sends the event again, and then it counts.
  failOnce.add(taskId);
  const third = madeUpEvent(`evt_${taskId}_3`, "task.deleted", taskId, 3);
  assert.equal(await post(`evt_${taskId}_3`, third), 500);
  assert.equal(await post(`evt_${taskId}_3`, third), 204);

  assert.deepEqual(
    handledFor(taskId).map((event) => [event.type, event.sequence, event.task]),
    [
      ["task.updated", 2, { id: taskId, user_id: "alice", title: "seen at 2", completed: false }],
      ["task.deleted", 3, null],
    ],
  );
});
