/**
 * The tasks of one user through the Todo API, typed from the contract: the example module
 * for front ends. Every call returns either the success body or the RFC 9457 problem the API
 * answered, both typed by `schema.d.ts` (derived from openapi/openapi.json).
 */
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema.js";

export type Task = components["schemas"]["Task"];
export type TaskCreate = components["schemas"]["TaskCreate"];
export type TaskUpdate = components["schemas"]["TaskUpdate"];
export type Problem = components["schemas"]["Problem"];
export type ListQuery = NonNullable<paths["/api/{user_id}/tasks"]["get"]["parameters"]["query"]>;
type ListHeaders = paths["/api/{user_id}/tasks"]["get"]["responses"][200]["headers"];
/** `string | undefined`: the contract says the header is absent on the last page. */
export type NextCursor = ListHeaders["X-Next-Cursor"];

/** The body of a success, or the problem the API answered instead. */
export type Result<T> = { ok: true; value: T } | { ok: false; problem: Problem };

/** A task as read, and its `ETag`: send the tag back to write only the state that was read. */
export interface Tagged<T> {
  value: T;
  etag: string;
}

/** How many times `edit` reads again after a 412 before it gives up. */
const EDIT_ATTEMPTS = 3;

export interface TaskPage {
  tasks: Task[];
  /** Pass it back as `cursor` (with the same `status` and `sort`); undefined on the last page. */
  nextCursor: NextCursor;
}

/**
 * A window of reminder moments, `[from, to)`: what a notifier asks for on each poll
 * (`from`: the previous poll's `to`; `to`: now). A `Date` is sent as its UTC ISO string.
 */
export interface ReminderWindow {
  from?: string | Date;
  to?: string | Date;
  /** Tasks per page (1 to 100); every page is read either way. */
  limit?: number;
}

/**
 * A completed task, and the next occurrence its completion created (contract 1.4.0): `null`
 * when the task does not recur, its rule is exhausted, or that occurrence was deleted since.
 */
export interface Completed {
  task: Task;
  next: Task | null;
}

export interface TasksClientOptions {
  /** Where the API is served, e.g. `https://api.example.com` (no trailing slash). */
  baseUrl: string;
  /** The current JWT, asked for before each request (e.g. Better Auth's `authClient.token()`). */
  getToken: () => string | Promise<string>;
  fetch?: typeof globalThis.fetch;
}

function instant(moment: string | Date | undefined): string | undefined {
  return moment instanceof Date ? moment.toISOString() : moment;
}

function settle<T>(answer: { data?: T; error?: Problem }): Result<T> {
  if (answer.error !== undefined) {
    return { ok: false, problem: answer.error };
  }
  return { ok: true, value: answer.data as T };
}

function settleTagged<T>(answer: {
  data?: T;
  error?: Problem;
  response: Response;
}): Result<Tagged<T>> {
  const settled = settle(answer);
  if (!settled.ok) {
    return settled;
  }
  // Every response carrying a task has the header (contract 1.3.0).
  const etag = answer.response.headers.get("ETag") ?? "";
  return { ok: true, value: { value: settled.value, etag } };
}

/** A client for the tasks of `userId`, the `sub` of the tokens `getToken` returns. */
export function createTasksClient(options: TasksClientOptions, userId: string) {
  const client = createClient<paths>({ baseUrl: options.baseUrl, fetch: options.fetch });
  const bearer: Middleware = {
    async onRequest({ request }) {
      request.headers.set("Authorization", `Bearer ${await options.getToken()}`);
      return request;
    },
  };
  client.use(bearer);
  const owner = { user_id: userId };

  return {
    async list(query: ListQuery = {}): Promise<Result<TaskPage>> {
      const { data, error, response } = await client.GET("/api/{user_id}/tasks", {
        params: { path: owner, query },
      });
      if (error !== undefined) {
        return { ok: false, problem: error };
      }
      const nextCursor: NextCursor = response.headers.get("X-Next-Cursor") ?? undefined;
      return { ok: true, value: { tasks: data, nextCursor } };
    },

    /** Every task the query selects, page after page, following `X-Next-Cursor`. */
    async *all(query: Omit<ListQuery, "cursor"> = {}): AsyncGenerator<Task, void, undefined> {
      let cursor: NextCursor;
      do {
        const page = await this.list({ ...query, cursor });
        if (!page.ok) {
          throw new Error(`${page.problem.title}: ${page.problem.detail}`);
        }
        yield* page.value.tasks;
        cursor = page.value.nextCursor;
      } while (cursor !== undefined);
    },

    /**
     * The tasks still to be reminded in `window` (not completed, with a reminder), earliest
     * `remind_at` first: every page of `sort=remind_at`, following `X-Next-Cursor`. A
     * notifier polls it with `{ from: lastPoll, to: now }` and then sets `lastPoll = now`:
     * the window is half-open, so no reminder is listed by two polls.
     */
    async reminders(window: ReminderWindow = {}): Promise<Result<Task[]>> {
      const query: ListQuery = { sort: "remind_at" };
      const from = instant(window.from);
      const to = instant(window.to);
      if (from !== undefined) {
        query.remind_from = from;
      }
      if (to !== undefined) {
        query.remind_to = to;
      }
      if (window.limit !== undefined) {
        query.limit = window.limit;
      }
      const found: Task[] = [];
      let cursor: NextCursor;
      do {
        const page = await this.list(cursor === undefined ? query : { ...query, cursor });
        if (!page.ok) {
          return page;
        }
        found.push(...page.value.tasks);
        cursor = page.value.nextCursor;
      } while (cursor !== undefined);
      return { ok: true, value: found };
    },

    /**
     * Create a task. Pass the same `idempotencyKey` (drawn once per task, e.g.
     * `crypto.randomUUID()`) on every retry: a repeat gets the first response, creating nothing.
     */
    async create(body: TaskCreate, idempotencyKey?: string): Promise<Result<Task>> {
      const header = idempotencyKey === undefined ? {} : { "Idempotency-Key": idempotencyKey };
      return settle(
        await client.POST("/api/{user_id}/tasks", { params: { path: owner, header }, body }),
      );
    },

    async get(taskId: number): Promise<Result<Task>> {
      return settle(
        await client.GET("/api/{user_id}/tasks/{task_id}", {
          params: { path: { ...owner, task_id: taskId } },
        }),
      );
    },

    /** The task and its `ETag`, for a write that must not overwrite another client's. */
    async read(taskId: number): Promise<Result<Tagged<Task>>> {
      return settleTagged(
        await client.GET("/api/{user_id}/tasks/{task_id}", {
          params: { path: { ...owner, task_id: taskId } },
        }),
      );
    },

    /**
     * Update the task only if it still has `etag` (`If-Match`): if another client changed it
     * since it was read, the answer is a 412 problem and nothing is written.
     */
    async updateIfUnchanged(
      taskId: number,
      body: TaskUpdate,
      etag: string,
    ): Promise<Result<Tagged<Task>>> {
      return settleTagged(
        await client.PUT("/api/{user_id}/tasks/{task_id}", {
          params: { path: { ...owner, task_id: taskId }, header: { "If-Match": etag } },
          body,
        }),
      );
    },

    /**
     * Read, modify, write: `change` computes the update from the task as it is now, and the
     * update is written only if nobody changed the task meanwhile. On a 412 the task is read
     * again and `change` applied to the new state, so no other client's edit is lost.
     */
    async edit(
      taskId: number,
      change: (task: Task) => TaskUpdate | Promise<TaskUpdate>,
      attempts: number = EDIT_ATTEMPTS,
    ): Promise<Result<Task>> {
      for (let attempt = 1; ; attempt += 1) {
        const current = await this.read(taskId);
        if (!current.ok) {
          return current;
        }
        const body = await change(current.value.value);
        const written = await this.updateIfUnchanged(taskId, body, current.value.etag);
        if (written.ok) {
          return { ok: true, value: written.value.value };
        }
        // A 412 after the last attempt: the task keeps changing; the caller decides.
        if (written.problem.status !== 412 || attempt >= attempts) {
          return written;
        }
      }
    },

    async update(taskId: number, body: TaskUpdate): Promise<Result<Task>> {
      return settle(
        await client.PUT("/api/{user_id}/tasks/{task_id}", {
          params: { path: { ...owner, task_id: taskId } },
          body,
        }),
      );
    },

    async toggleCompletion(taskId: number): Promise<Result<Task>> {
      return settle(
        await client.PATCH("/api/{user_id}/tasks/{task_id}/complete", {
          params: { path: { ...owner, task_id: taskId } },
        }),
      );
    },

    /** Set the completion: safe to retry, unlike a toggle. */
    async setCompletion(taskId: number, completed: boolean): Promise<Result<Task>> {
      return settle(
        await client.PATCH("/api/{user_id}/tasks/{task_id}/complete", {
          params: { path: { ...owner, task_id: taskId } },
          body: { completed },
        }),
      );
    },

    /**
     * Complete the task (`{"completed": true}`, safe to retry) and read the next occurrence
     * its completion created, if it recurs: `next_occurrence_id` names it. Completing it again
     * creates no second one; the same next occurrence is returned.
     */
    async complete(taskId: number): Promise<Result<Completed>> {
      const done = await this.setCompletion(taskId, true);
      if (!done.ok) {
        return done;
      }
      const task = done.value;
      if (task.next_occurrence_id === null) {
        return { ok: true, value: { task, next: null } };
      }
      const next = await this.get(task.next_occurrence_id);
      if (!next.ok) {
        // The next occurrence was deleted since it was created: there is none to follow.
        return next.problem.status === 404 ? { ok: true, value: { task, next: null } } : next;
      }
      return { ok: true, value: { task, next: next.value } };
    },

    async remove(taskId: number): Promise<Result<undefined>> {
      const { error } = await client.DELETE("/api/{user_id}/tasks/{task_id}", {
        params: { path: { ...owner, task_id: taskId } },
      });
      return error === undefined ? { ok: true, value: undefined } : { ok: false, problem: error };
    },
  };
}

export type TasksClient = ReturnType<typeof createTasksClient>;
