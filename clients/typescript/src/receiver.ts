/**
 * A receiver of the Todo API's events (webhooks), typed from the contract: the example module
 * for a back end that reacts to task changes. It does what the contract asks of every
 * receiver (specs/api/rest-endpoints.md, `## Events`):
 *
 * - verify each delivery's signature (Standard Webhooks, with the `standardwebhooks`
 *   package) and refuse, 401, one not signed with the endpoint's secret, or signed more
 *   than 5 minutes from this clock (a replay);
 * - handle each event once: an event is sent again, with the same `webhook-id`, until it is
 *   answered 2xx;
 * - apply a task's events in `sequence` order: one lower than a sequence already applied
 *   to that task is stale, and skipped;
 * - answer 2xx to event types it does not know (later minor versions add them), handling
 *   none.
 *
 * A handler that throws gets a 500: the event is sent again later. Handlers should be quick
 * (a write, a message onto a queue): the server waits at most 10 s for the answer.
 *
 * What the receiver remembers (the event ids handled, each task's last sequence) is kept in
 * memory here. A real receiver keeps it where its handlers write, in the same transaction
 * (a table with the event id as its key), so that a restart neither repeats nor loses one.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { Webhook, WebhookVerificationError } from "standardwebhooks";
import type { webhooks } from "./schema.js";

/** The event types the contract declares: `task.created`, `reminder.due`, ... */
export type EventType = keyof webhooks;
/** The body of an event of type `K`, as the contract declares it (`TaskCreatedEvent`, ...). */
export type EventOf<K extends EventType> =
  webhooks[K]["post"]["requestBody"]["content"]["application/json"];
/** Any event: a union discriminated by `type`. */
export type TaskEvent = { [K in EventType]: EventOf<K> }[EventType];

/**
 * A handler per event type the receiver needs, each typed by its event. Not every type must
 * have one: a later minor version of the contract adds event types, and a map that had to
 * name them all would stop compiling against the regenerated types (the release gate
 * compiles this module so, and would call adding an event a breaking change). An event
 * without a handler is answered 2xx, like an unknown one.
 */
export type Handlers = { [K in EventType]?: (event: EventOf<K>) => void | Promise<void> };

export interface ReceiverOptions {
  /** The endpoint's secret (`whsec_...`), the one the server signs with (WEBHOOK_ENDPOINTS). */
  secret: string;
  handlers: Handlers;
  /** The path deliveries are posted to; any other is answered 404. */
  path: string;
}

/** Larger than any event the server sends: a bigger body is refused unread. */
const MAX_BODY_BYTES = 1024 * 1024;
const SIGNED_HEADERS = ["webhook-id", "webhook-timestamp", "webhook-signature"] as const;

function dispatch<K extends EventType>(handlers: Handlers, type: K, event: EventOf<K>) {
  const handler = handlers[type] as ((event: EventOf<K>) => void | Promise<void>) | undefined;
  return handler?.(event);
}

function isKnown(payload: unknown, handlers: Handlers): payload is TaskEvent {
  if (typeof payload !== "object" || payload === null || !("type" in payload)) {
    return false;
  }
  return typeof payload.type === "string" && Object.hasOwn(handlers, payload.type);
}

/** The body, or undefined when it is larger than `MAX_BODY_BYTES`. */
async function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function signedHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of SIGNED_HEADERS) {
    const value = request.headers[name];
    if (typeof value === "string") {
      headers[name] = value;
    }
  }
  return headers;
}

function answer(response: ServerResponse, status: number): void {
  response.writeHead(status).end();
}

/** A request listener for `http.createServer` that receives the API's events. */
export function createReceiver(options: ReceiverOptions): RequestListener {
  const webhook = new Webhook(options.secret);
  const handled = new Set<string>();
  const lastSequence = new Map<number, number>();
  // One event at a time: the checks below and the handler's effect happen as one step, so
  // two deliveries of one task (the server sends several at once) cannot interleave.
  let previous: Promise<unknown> = Promise.resolve();

  async function receive(id: string, payload: unknown): Promise<void> {
    if (handled.has(id)) {
      return; // a repeat of an event handled already: its 2xx answer was lost
    }
    if (isKnown(payload, options.handlers)) {
      const { task_id: taskId, sequence } = payload.data;
      // Not above the task's last applied sequence: stale, skipped (and still answered 2xx).
      if (sequence > (lastSequence.get(taskId) ?? 0)) {
        await dispatch(options.handlers, payload.type, payload);
        lastSequence.set(taskId, sequence);
      }
    }
    handled.add(id);
  }

  async function respond(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.method !== "POST" || request.url !== options.path) {
      return answer(response, 404);
    }
    const body = await readBody(request);
    if (body === undefined) {
      return answer(response, 413);
    }
    const headers = signedHeaders(request);
    let payload: unknown;
    try {
      payload = webhook.verify(body, headers); // throws unless signed; then parses the JSON
    } catch (error) {
      // Not signed with the secret: 401. Signed, but not JSON: 400.
      return answer(response, error instanceof WebhookVerificationError ? 401 : 400);
    }
    const id = headers["webhook-id"] as string; // verify() refuses a delivery without it
    const done = previous.then(() => receive(id, payload));
    previous = done.catch(() => undefined);
    try {
      await done;
    } catch (error) {
      console.error(`event ${id}: the handler failed; the server will send it again`, error);
      return answer(response, 500);
    }
    answer(response, 204);
  }

  return (request, response) => {
    // A connection lost while the body was read: nothing to answer.
    respond(request, response).catch(() => response.destroy());
  };
}
