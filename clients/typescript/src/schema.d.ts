// Generated from openapi/openapi.json by clients/typescript/generate.mjs
// (openapi-typescript). Do not edit: run `npm run client:generate`.

export interface paths {
    "/api/{user_id}/tasks": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List the user's tasks
         * @description Returns one page of the user's tasks, filtered and ordered as asked. The filters (`status`, `priority`, `tag`, `due_from`, `due_to`, `q`) combine: a task is listed when it passes every filter given. The body is a JSON array of tasks. When more tasks follow, the response carries an `X-Next-Cursor` header; sending its value back as `cursor` (with the same filters and `sort`) returns the next page. Pages are keyset-based: a page costs the same at any depth, and tasks created or deleted meanwhile never make a page repeat or skip a task that existed throughout. A cursor is bound to the filters and the order it was issued for: with any other value of `status`, `priority`, `tag`, `due_from`, `due_to`, `q`, `remind_from`, `remind_to` or `sort` it is answered 422.
         *
         *     Keyword search (`q`) splits `q` at white space into words; a task matches when every word occurs, as a substring, in its title or in its description. Case is ignored the same way on every database, for every script: both the task's text and the words are compared after Unicode canonical caseless folding (full case folding of the canonical decomposition, as Python's `unicodedata.normalize("NFC", unicodedata.normalize("NFD", text).casefold())` computes it), so `ÉTÉ` finds `été` and `STRASSE` finds `straße`. A `q` of white space alone has no words and matches every task.
         *
         *     Reminders: `sort=remind_at` lists the tasks still to be reminded (not completed, with a reminder), earliest reminder first; `remind_from` and `remind_to` (only with `sort=remind_at`, else 422) select a window of reminder moments, `[remind_from, remind_to)`. A client showing a user's coming reminders asks for `sort=remind_at&remind_from=<now>&remind_to=<tomorrow>` and follows `X-Next-Cursor`: each page is read from one index, at the same cost however many tasks the user has. A notifier needs no list: the server sends `reminder.due` at each reminder's moment (see Events).
         */
        get: operations["listTasks"];
        put?: never;
        /**
         * Create a task
         * @description Creates a task owned by the user, not completed. The response is the stored task, with its new `id`, and a `Location` header naming it.
         *
         *     A client that may repeat the request (after a timeout or a lost connection) sends an `Idempotency-Key` header (as in the IETF HTTP API working group's Idempotency-Key header draft): a value it draws once per task it means to create, such as a UUID, 1 to 255 printable ASCII characters without spaces. The first request with a key is processed, and its 201 response (status, body and `Location`) is remembered for the user for 24 hours (a server setting, `IDEMPOTENCY_KEY_TTL_SECONDS`). A repeat within that time, with the same key and the same body (the same fields with the same values, whatever the JSON's spacing or order), gets the remembered response and creates nothing. The same key with another body is answered 422 naming the header; a repeat that arrives while the first request is still being processed is answered 409: retry it later. Keys are the user's own: another user's key, equal or not, never answers for this one. A request that failed (4xx, 5xx) is not remembered: repeating it is processed as new. Without the header, every request creates a task.
         */
        post: operations["createTask"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/{user_id}/tasks/{task_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get one task
         * @description Returns one of the user's tasks. A task id that does not exist and a task id that belongs to another user get the same 404.
         *
         *     The response carries the task's `ETag`. A client that holds a copy sends its tag as `If-None-Match` (or several, comma-separated, or `*`): when the task still has one of them, the answer is 304 with the `ETag` and no body (tags compare weakly here, RFC 9110 §13.1.2: `W/"3"` matches `"3"`).
         */
        get: operations["getTask"];
        /**
         * Update a task
         * @description Changes the fields the body names and leaves the others as they are; `updated_at` becomes the time of this change. The response is the task as stored afterwards, with its new `ETag`.
         *
         *     With `If-Match`, the change is made only if the task still has one of the tags named (`*`: if it exists at all), checked and written in one atomic step: two clients that read the same task and both write with its tag get one 200 and one 412, and the task is the winner's. A task that does not exist, or is another user's, is 412 too, as RFC 9110 asks.
         */
        put: operations["updateTask"];
        post?: never;
        /**
         * Delete a task
         * @description Deletes one of the user's tasks for good. Deleting it again is answered 404.
         *
         *     With `If-Match`, it is deleted only if it still has one of the tags named (`*`: if it exists), in one atomic step; otherwise 412 and it stays.
         */
        delete: operations["deleteTask"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/{user_id}/tasks/{task_id}/complete": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        /**
         * Toggle or set a task's completion
         * @description Without a body, flips `completed` in one atomic step and bumps `updated_at`. The response is the state this call produced, even when other toggles of the same task run at the same time.
         *
         *     With a `CompletionState` body, sets `completed` to the value sent instead: repeating the request leaves the same state, so it is safe to retry. `updated_at` and the `ETag` move only when the state changes.
         *
         *     Completing a task that has a recurrence rule creates its next occurrence in the same atomic step (see Task), exactly once: the response's `next_occurrence_id` names it. Repeating the request, completing the task from several clients at once, or un-completing and completing it again creates no second one; un-completing does not delete it. `If-Match` works as for an update. Any other body (another field, `{}`, `null`, a value that is not a boolean) is answered 422.
         */
        patch: operations["toggleTaskCompletion"];
        trace?: never;
    };
}
export interface webhooks {
    "reminder.due": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * A task's reminder is due
         * @description Sent when a task's `remind_at` comes, if the task is not completed then. A reminder that is moved (a new due time, another `remind_before_minutes`) is sent at its new moment; one that is removed, or whose task is completed or deleted before it comes, is not sent. `timestamp` is the `remind_at`.
         */
        post: operations["reminderDue"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "task.created": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * A task was created
         * @description Sent when a task is created: by `createTask` (once, however often a request with the same `Idempotency-Key` is repeated), or as the next occurrence of a recurring task that was completed. Its `sequence` is 1.
         */
        post: operations["taskCreated"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "task.updated": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * A task changed
         * @description Sent when a task changes, unless the change completes it (that is `task.completed`): by `updateTask`, and by `toggleTaskCompletion` when it un-completes the task.
         */
        post: operations["taskUpdated"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "task.completed": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * A task became completed
         * @description Sent when a task becomes completed, by `toggleTaskCompletion` or `updateTask`. When the task recurs and its rule is not exhausted, `data.task.next_occurrence_id` names the next occurrence, whose own `task.created` is sent too.
         */
        post: operations["taskCompleted"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "task.deleted": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * A task was deleted
         * @description Sent when `deleteTask` deletes a task. It is the task's last event: `data` has its id, not the task.
         */
        post: operations["taskDeleted"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export interface components {
    schemas: {
        /**
         * @description A task as stored, owned by one user. Clients must ignore fields they do not know: later minor versions of this contract add fields to tasks.
         *
         *     **Day, time and time zone.** `due_date` is the day the task is due, in the task's `time_zone`; `due_time` is the local time on that day, or `null` when the task is due some time that day. Together they give `due_at`, the due moment in UTC, so "09:00 every Monday in Europe/Berlin" stays 09:00 in Berlin across daylight-saving changes. A local time that does not exist on that day (skipped by a change to summer time) is read as the same time before the change, which is one hour later on the clock (02:30 becomes 03:30); a time that occurs twice (the change back) is the first of the two. A task without a due time has no `due_at`. Changing `due_date` keeps `due_time`; clearing `due_date` (`null`) also clears `due_time`, `recurrence` and `remind_before_minutes`, which need a day, and clearing `due_time` also clears `remind_before_minutes`. A body that sets a field and, in the same request, clears the one it needs is answered 422 naming the field.
         *
         *     `time_zone` is a name of the IANA time zone database (a zone or one of its links, such as `Europe/Berlin`, `Asia/Kolkata` or `UTC`), from the release the server ships, the same whatever host it runs on: a host's `localtime` and the database's `Factory` are not zones. Every day from 0001-01-01 to 9999-12-31 is a due day; a due moment or a reminder that falls outside the years 1 to 9999 in UTC (9999-12-31 at 12:00 in `Etc/GMT+12`) is answered 422 naming `due_time` or `remind_before_minutes`.
         *
         *     **Recurrence.** `recurrence` is a rule in the syntax of an RFC 5545 `RRULE` value, without the `RRULE:` prefix: `;`-separated `NAME=VALUE` parts, each name once, in upper case. This subset is accepted; anything else is answered 422 naming `recurrence` and the part at fault:
         *
         *     `FREQ` (required) is `DAILY`, `WEEKLY`, `MONTHLY` or `YEARLY`. `INTERVAL` is every how many periods, 1 to 999 (1 when absent). `BYDAY` lists days of the week, `MO,TU,WE,TH,FR,SA,SU`; with `MONTHLY` or `YEARLY` a day may carry its place in the month, `1MO` (the first Monday) to `5MO`, `-1FR` (the last Friday) to `-5FR`. `BYMONTHDAY` lists days of the month, 1 to 31 or -31 to -1 (`-1` is the last day), with `MONTHLY` or `YEARLY`. With both, a day must be one of the listed days of the week and of the month (`BYDAY=FR;BYMONTHDAY=13` is every Friday the 13th). `COUNT` is how many occurrences are left, this task included, 1 to 1000; `UNTIL` is the last day (`20271231`, in the task's time zone) or moment (`20271231T170000Z`, UTC) an occurrence may fall on; a rule has at most one of the two.
         *
         *     A rule needs a due day (`due_date`). The rule is read from the task's due moment (its day at its time, or at midnight without a time, in its time zone), as RFC 5545's `DTSTART`: without `BYDAY`/`BYMONTHDAY`, a weekly rule repeats the due day's weekday, a monthly rule its day of the month and a yearly rule its date. So a monthly task due on the 31st recurs only in months that have a 31st (`BYMONTHDAY=-1` recurs on the last day of every month), and a yearly task due on 29 February recurs only in leap years. A yearly rule stays in the due day's month: its `BYDAY` and `BYMONTHDAY` pick days of that month, every `INTERVAL` years (`FREQ=YEARLY;BYDAY=4TH` due on Thursday 2026-11-26 is the fourth Thursday of every November; `FREQ=YEARLY;BYDAY=-1MO` due 2026-05-25 the last Monday of every May), and a year whose month has no such day is skipped (a fifth Friday of April, `BYMONTHDAY=31` in April).
         *
         *     When a task with a rule becomes completed, the server creates its next occurrence in the same atomic step: a new task, not completed, due at the rule's first moment after this task's due moment (whenever it is completed), with this task's title, description, priority, tags, due time, time zone, rule and reminder. `COUNT` is one less in the next occurrence's rule; a rule with `COUNT=1`, or whose next moment is after `UNTIL`, is exhausted and creates none, and so is a rule with no moment in the next 1,000 years or before the year 10000 in UTC (a fifth Monday that is the 1st never comes; a daily task due 9999-12-30 at 20:00 in `America/Los_Angeles` has none). `next_occurrence_id` names the new task. A task creates at most one next occurrence, however often or concurrently it is completed: completing it again, or after un-completing it, creates none; un-completing it does not delete the next occurrence.
         *
         *     **Reminders.** `remind_before_minutes` asks to be reminded that many minutes before the due moment (0: at the due moment); it needs a due time. `remind_at` is that moment in UTC. Each occurrence carries the reminder. A completed task is not reminded: `sort=remind_at` lists the tasks still to be reminded.
         */
        Task: {
            /**
             * Format: int64
             * @description Server-assigned identifier, unique across all users.
             */
            id: number;
            /** @description Id of the user who owns the task (the token's `sub`). */
            user_id: string;
            /** @description Short title of the task. */
            title: string;
            /** @description Longer free text; `null` when the task has none. */
            description: string | null;
            /** @description Whether the task is done. */
            completed: boolean;
            /**
             * Format: date
             * @description Calendar day the task is due (ISO 8601 `YYYY-MM-DD`); `null` when it has none.
             */
            due_date: string | null;
            /** @description How urgent the task is. */
            priority: components["schemas"]["TaskPriority"];
            /** @description The task's tags, sorted by code point; `[]` when it has none. */
            tags: string[];
            /**
             * Format: date-time
             * @description When the task was created (UTC, RFC 3339).
             */
            created_at: string;
            /**
             * Format: date-time
             * @description When the task last changed (UTC, RFC 3339); equals `created_at` until the first change.
             */
            updated_at: string;
            /** @description Local time on `due_date` the task is due (`HH:MM`, 24-hour, in `time_zone`); `null` when it is due some time that day, or has no due day. */
            due_time: string | null;
            /** @description The IANA time zone of `due_date` and `due_time` (`Europe/Berlin`); `UTC` unless set. */
            time_zone: string;
            /**
             * Format: date-time
             * @description The due moment in UTC (`due_date` at `due_time` in `time_zone`); `null` without a due time. Read-only.
             */
            due_at: string | null;
            /** @description The recurrence rule (a subset of RFC 5545 `RRULE`, see above), e.g. `FREQ=WEEKLY;BYDAY=MO`; `null` when the task does not recur. */
            recurrence: string | null;
            /**
             * Format: int64
             * @description The task created when this one was completed; `null` until then, and for a task without a rule or whose rule was exhausted. Read-only.
             */
            next_occurrence_id: number | null;
            /**
             * Format: int32
             * @description Remind this many minutes before the due moment (at most 4 weeks); `null`: no reminder.
             */
            remind_before_minutes: number | null;
            /**
             * Format: date-time
             * @description When to remind, in UTC: `due_at` minus `remind_before_minutes`; `null` without a reminder. Read-only.
             */
            remind_at: string | null;
        } & {
            [key: string]: unknown;
        };
        /**
         * @description The body of a create request. Only these fields may be sent: the id, the owner and the timestamps are set by the server, and a body that names them is rejected (422). Text never contains U+0000 (NUL): PostgreSQL cannot store it, so it is rejected (422) on every database alike.
         *
         *     Tags are labels the same on every database and in every client: 1 to 32 characters of `a-z`, `0-9`, `-` and `_`, starting with a letter or a digit; at most 10 per task, each once (a tag named twice is rejected, 422). The task stores them as a set, sorted.
         */
        TaskCreate: {
            /** @description Short title of the task. */
            title: string;
            /** @description Longer free text. */
            description?: string | null;
            /**
             * Format: date
             * @description Calendar day the task is due.
             */
            due_date?: string | null;
            /**
             * @description How urgent the task is; `medium` when absent.
             * @default medium
             */
            priority?: components["schemas"]["TaskPriority"];
            /** @description The task's tags; none when absent. */
            tags?: string[];
            /** @description Local time on `due_date` the task is due (`HH:MM`); needs `due_date`. */
            due_time?: string | null;
            /**
             * @description The IANA time zone of the due day and time (`Europe/Berlin`); an unknown name is 422.
             * @default UTC
             */
            time_zone?: string;
            /** @description A recurrence rule (see Task); needs `due_date`. */
            recurrence?: string | null;
            /**
             * Format: int32
             * @description Remind this many minutes before the due moment; needs `due_time`.
             */
            remind_before_minutes?: number | null;
        };
        /** @description The body of an update request. Fields that are absent keep their value; `description` and `due_date` may be set to `null` to clear them. At least one field must be present. `tags` replaces the task's whole set of tags (`[]` removes them all), with the rules of TaskCreate. The id, the owner and the timestamps cannot be changed: a body that names them is rejected (422). Text never contains U+0000 (NUL), as in TaskCreate. */
        TaskUpdate: {
            /** @description New title. */
            title?: string;
            /** @description New description, or `null` to clear it. */
            description?: string | null;
            /**
             * Format: date
             * @description New due day, or `null` to clear it.
             */
            due_date?: string | null;
            /** @description New completion state. */
            completed?: boolean;
            /** @description New priority (never `null`). */
            priority?: components["schemas"]["TaskPriority"];
            /** @description The new set of tags, replacing the old one; `[]` removes them all. */
            tags?: string[];
            /** @description New due time (`HH:MM`), or `null` to clear it (and the reminder). */
            due_time?: string | null;
            /** @description New time zone of the due day and time (never `null`). */
            time_zone?: string;
            /** @description New recurrence rule, or `null`: the task no longer recurs. */
            recurrence?: string | null;
            /**
             * Format: int32
             * @description New reminder, or `null` to remove it.
             */
            remind_before_minutes?: number | null;
        };
        /** @description The optional body of a completion request: the state the task must have afterwards. Sending it twice leaves the same state, so a client may repeat it safely (after a timeout, or from a second tab), where a toggle would undo itself. */
        CompletionState: {
            /** @description Whether the task is done after this request. */
            completed: boolean;
        };
        /**
         * @description How urgent a task is.
         *
         *     - `high`: Do it first.
         *     - `medium`: The priority of a task created without one.
         *     - `low`: Do it when there is time.
         * @enum {string}
         */
        TaskPriority: "high" | "medium" | "low";
        /**
         * @description Which tasks a list returns, by completion.
         *
         *     - `all`: Every task.
         *     - `pending`: Tasks not completed.
         *     - `completed`: Completed tasks.
         * @enum {string}
         */
        TaskStatusFilter: "all" | "pending" | "completed";
        /**
         * @description The order of a list. Every order is total: ties are broken by `id`.
         *
         *     - `created`: Newest first: `created_at` descending, then `id` descending.
         *     - `title`: `title` ascending by Unicode code point, then `id` ascending.
         *     - `due_date`: `due_date` ascending with tasks without a due day last, then `id` ascending.
         *     - `priority`: `high` first, then `medium`, then `low`; within a priority newest first (`created_at` descending, then `id` descending).
         *     - `remind_at`: The tasks still to be reminded (not completed, with a reminder), earliest `remind_at` first, then `id` ascending; other tasks are not listed.
         * @enum {string}
         */
        TaskSort: "created" | "title" | "due_date" | "priority" | "remind_at";
        /** @description An error, as RFC 9457 problem details. Every error response of this API has this body, with media type `application/problem+json`. */
        Problem: {
            /**
             * Format: uri-reference
             * @description Identifies the kind of problem; `about:blank` when the HTTP status says it all.
             */
            type: string;
            /** @description Short summary of the kind of problem (the HTTP reason phrase for `about:blank`). */
            title: string;
            /**
             * Format: int32
             * @description The HTTP status code.
             */
            status: number;
            /** @description What went wrong with this request, in words a developer can act on. */
            detail: string;
            /**
             * Format: uri-reference
             * @description The request path the problem occurred on.
             */
            instance?: string;
            /** @description For 422: each invalid part of the request. */
            errors?: components["schemas"]["ValidationIssue"][];
        } & {
            [key: string]: unknown;
        };
        /** @description One invalid part of a request. */
        ValidationIssue: {
            /** @description Where the problem is: `body`, `query`, `path` or `header`, then the field path, dot-separated (e.g. `body.title`). */
            location: string;
            /** @description What is wrong with it. */
            message: string;
        };
        /** @description What an event about a task says: whose task, which, the how-manieth of its events, and the task as `getTask` would answer it when the event happened. */
        TaskEventData: {
            /** @description Id of the user who owns the task. */
            user_id: string;
            /**
             * Format: int64
             * @description Id of the task (`task.id`).
             */
            task_id: number;
            /**
             * Format: int64
             * @description The task's event counter: 1 for its `task.created`, one more with each later event of the task. Apply a task's events in this order, and ignore one whose `sequence` is lower than one already applied.
             */
            sequence: number;
            /** @description The task right after the event. */
            task: components["schemas"]["Task"];
        } & {
            [key: string]: unknown;
        };
        /** @description What a `task.deleted` event says: only the task's id is left. */
        TaskDeletedData: {
            /** @description Id of the user who owned the task. */
            user_id: string;
            /**
             * Format: int64
             * @description Id of the deleted task.
             */
            task_id: number;
            /**
             * Format: int64
             * @description The task's event counter, as in `TaskEventData`: the deletion is the task's last event.
             */
            sequence: number;
        } & {
            [key: string]: unknown;
        };
        /** @description The body of a `reminder.due` event: a task's reminder is due. */
        ReminderDueEvent: {
            /** @description The event's id, the same on every delivery of it (and in the `webhook-id` header): ignore an id already handled. */
            id: string;
            /**
             * @description The kind of event.
             * @constant
             */
            type: "reminder.due";
            /**
             * Format: date-time
             * @description When the event happened (UTC, RFC 3339).
             */
            timestamp: string;
            /** @description What happened, to which task. */
            data: components["schemas"]["TaskEventData"];
        } & {
            [key: string]: unknown;
        };
        /** @description The body of a `task.created` event: a task was created. */
        TaskCreatedEvent: {
            /** @description The event's id, the same on every delivery of it (and in the `webhook-id` header): ignore an id already handled. */
            id: string;
            /**
             * @description The kind of event.
             * @constant
             */
            type: "task.created";
            /**
             * Format: date-time
             * @description When the event happened (UTC, RFC 3339).
             */
            timestamp: string;
            /** @description What happened, to which task. */
            data: components["schemas"]["TaskEventData"];
        } & {
            [key: string]: unknown;
        };
        /** @description The body of a `task.updated` event: a task changed. */
        TaskUpdatedEvent: {
            /** @description The event's id, the same on every delivery of it (and in the `webhook-id` header): ignore an id already handled. */
            id: string;
            /**
             * @description The kind of event.
             * @constant
             */
            type: "task.updated";
            /**
             * Format: date-time
             * @description When the event happened (UTC, RFC 3339).
             */
            timestamp: string;
            /** @description What happened, to which task. */
            data: components["schemas"]["TaskEventData"];
        } & {
            [key: string]: unknown;
        };
        /** @description The body of a `task.completed` event: a task became completed. */
        TaskCompletedEvent: {
            /** @description The event's id, the same on every delivery of it (and in the `webhook-id` header): ignore an id already handled. */
            id: string;
            /**
             * @description The kind of event.
             * @constant
             */
            type: "task.completed";
            /**
             * Format: date-time
             * @description When the event happened (UTC, RFC 3339).
             */
            timestamp: string;
            /** @description What happened, to which task. */
            data: components["schemas"]["TaskEventData"];
        } & {
            [key: string]: unknown;
        };
        /** @description The body of a `task.deleted` event: a task was deleted. */
        TaskDeletedEvent: {
            /** @description The event's id, the same on every delivery of it (and in the `webhook-id` header): ignore an id already handled. */
            id: string;
            /**
             * @description The kind of event.
             * @constant
             */
            type: "task.deleted";
            /**
             * Format: date-time
             * @description When the event happened (UTC, RFC 3339).
             */
            timestamp: string;
            /** @description What happened, to which task. */
            data: components["schemas"]["TaskDeletedData"];
        } & {
            [key: string]: unknown;
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: {
        /** @description Bearer challenge (RFC 6750), sent with every 401: `Bearer realm="todo"`, with `error="invalid_token"` and an `error_description` when a token was presented. */
        "WWW-Authenticate": string;
        /** @description Cursor of the next page: pass it back as the `cursor` query parameter, with the same filters and `sort`. Absent on the last page. */
        "X-Next-Cursor": string;
        /** @description URL of the task this request created. */
        Location: string;
        /** @description Strong validator of the task in the body (RFC 9110), e.g. `"3"`: it changes exactly when the task changes. Send it back as `If-Match` to write only that version, or as `If-None-Match` to read only a newer one. */
        ETag: string;
    };
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    listTasks: {
        parameters: {
            query?: {
                /** @description Which tasks to return, by completion. */
                status?: components["schemas"]["TaskStatusFilter"];
                /** @description The order of the tasks. */
                sort?: components["schemas"]["TaskSort"];
                /** @description Largest number of tasks in the page. */
                limit?: number;
                /** @description The `X-Next-Cursor` of the previous page, unchanged (base64url characters, at most 1,200 of them). A cursor is opaque: one this server did not issue, or issued for other filters or another `sort`, is answered 422 even when it matches this pattern. */
                cursor?: string;
                /** @description Only tasks of this priority. */
                priority?: components["schemas"]["TaskPriority"];
                /** @description Only tasks carrying every one of these tags: repeat the parameter (`tag=home&tag=urgent`), at most 5 times. */
                tag?: string[];
                /** @description Only tasks due on this day or later; tasks without a due day never match a date filter. */
                due_from?: string;
                /** @description Only tasks due on this day or earlier; not before `due_from` (422). */
                due_to?: string;
                /** @description Keyword search: every word of `q` occurs in the title or the description, ignoring case (see above). */
                q?: string;
                /** @description With `sort=remind_at`: only tasks to be reminded at this moment or later (RFC 3339, with an offset). */
                remind_from?: string;
                /** @description With `sort=remind_at`: only tasks to be reminded before this moment (exclusive); not before `remind_from` (422). */
                remind_to?: string;
            };
            header?: never;
            path: {
                /** @description Id of the user whose tasks these are; must be the token's `sub`. */
                user_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description One page of tasks, possibly empty. */
            200: {
                headers: {
                    /** @description Cursor of the next page: pass it back as the `cursor` query parameter, with the same filters and `sort`. Absent on the last page. */
                    "X-Next-Cursor"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Task"][];
                };
            };
            /** @description The token is missing, malformed, expired or badly signed. */
            401: {
                headers: {
                    /** @description Bearer challenge (RFC 6750), sent with every 401: `Bearer realm="todo"`, with `error="invalid_token"` and an `error_description` when a token was presented. */
                    "WWW-Authenticate"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The token belongs to another user. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A parameter is invalid (errors says which). */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An unexpected server error. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The database is unavailable; retry later. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    createTask: {
        parameters: {
            query?: never;
            header?: {
                /** @description A key the client chose for this one task (printable ASCII without spaces, e.g. a UUID): a repeat with the same key and body gets the first response again, creating nothing. */
                "Idempotency-Key"?: string;
            };
            path: {
                /** @description Id of the user who will own the task; must be the token's `sub`. */
                user_id: string;
            };
            cookie?: never;
        };
        /** @description The new task. */
        requestBody: {
            content: {
                "application/json": components["schemas"]["TaskCreate"];
            };
        };
        responses: {
            /** @description The task was created, or, for a repeated Idempotency-Key, the response to its first request. */
            201: {
                headers: {
                    /** @description URL of the task this request created. */
                    Location?: string;
                    /** @description Strong validator of the task in the body (RFC 9110), e.g. `"3"`: it changes exactly when the task changes. Send it back as `If-Match` to write only that version, or as `If-None-Match` to read only a newer one. */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Task"];
                };
            };
            /** @description The token is missing, malformed, expired or badly signed. */
            401: {
                headers: {
                    /** @description Bearer challenge (RFC 6750), sent with every 401: `Bearer realm="todo"`, with `error="invalid_token"` and an `error_description` when a token was presented. */
                    "WWW-Authenticate"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The token belongs to another user. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A request with this Idempotency-Key is still being processed; retry later. */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The body is larger than the server accepts (64 KiB). */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The body is not application/json. */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The body or a parameter is invalid, or the Idempotency-Key was used with another body (errors says which). */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An unexpected server error. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The database is unavailable; retry later. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getTask: {
        parameters: {
            query?: never;
            header?: {
                /** @description Entity tags of the copies the client holds (`"3"`, a comma-separated list, or `*`): a match is answered 304. */
                "If-None-Match"?: string;
            };
            path: {
                /** @description Id of the user who owns the task; must be the token's `sub`. */
                user_id: string;
                /** @description Id of the task. */
                task_id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The task. */
            200: {
                headers: {
                    /** @description Strong validator of the task in the body (RFC 9110), e.g. `"3"`: it changes exactly when the task changes. Send it back as `If-Match` to write only that version, or as `If-None-Match` to read only a newer one. */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Task"];
                };
            };
            /** @description The task still has a tag of If-None-Match: the client's copy is current. */
            304: {
                headers: {
                    /** @description Strong validator of the task in the body (RFC 9110), e.g. `"3"`: it changes exactly when the task changes. Send it back as `If-Match` to write only that version, or as `If-None-Match` to read only a newer one. */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The token is missing, malformed, expired or badly signed. */
            401: {
                headers: {
                    /** @description Bearer challenge (RFC 6750), sent with every 401: `Bearer realm="todo"`, with `error="invalid_token"` and an `error_description` when a token was presented. */
                    "WWW-Authenticate"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The token belongs to another user. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The user has no task with this id. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A parameter is invalid (errors says which). */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An unexpected server error. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The database is unavailable; retry later. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    updateTask: {
        parameters: {
            query?: never;
            header?: {
                /** @description Entity tags the task must still have (`"3"`, a comma-separated list, or `*` for any existing task): otherwise 412 and nothing is written. */
                "If-Match"?: string;
            };
            path: {
                /** @description Id of the user who owns the task; must be the token's `sub`. */
                user_id: string;
                /** @description Id of the task. */
                task_id: number;
            };
            cookie?: never;
        };
        /** @description The fields to change. */
        requestBody: {
            content: {
                "application/json": components["schemas"]["TaskUpdate"];
            };
        };
        responses: {
            /** @description The task after the change. */
            200: {
                headers: {
                    /** @description Strong validator of the task in the body (RFC 9110), e.g. `"3"`: it changes exactly when the task changes. Send it back as `If-Match` to write only that version, or as `If-None-Match` to read only a newer one. */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Task"];
                };
            };
            /** @description The token is missing, malformed, expired or badly signed. */
            401: {
                headers: {
                    /** @description Bearer challenge (RFC 6750), sent with every 401: `Bearer realm="todo"`, with `error="invalid_token"` and an `error_description` when a token was presented. */
                    "WWW-Authenticate"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The token belongs to another user. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The user has no task with this id. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description If-Match names no tag the task has: it changed since it was read, or it is gone. Nothing was written. */
            412: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The body is larger than the server accepts (64 KiB). */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The body is not application/json. */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The body or a parameter is invalid (errors says which). */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description This server requires If-Match on writes (a server setting) and the request has none. */
            428: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An unexpected server error. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The database is unavailable; retry later. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    deleteTask: {
        parameters: {
            query?: never;
            header?: {
                /** @description Entity tags the task must still have (`"3"`, a comma-separated list, or `*` for any existing task): otherwise 412 and nothing is written. */
                "If-Match"?: string;
            };
            path: {
                /** @description Id of the user who owns the task; must be the token's `sub`. */
                user_id: string;
                /** @description Id of the task. */
                task_id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The task was deleted. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The token is missing, malformed, expired or badly signed. */
            401: {
                headers: {
                    /** @description Bearer challenge (RFC 6750), sent with every 401: `Bearer realm="todo"`, with `error="invalid_token"` and an `error_description` when a token was presented. */
                    "WWW-Authenticate"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The token belongs to another user. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The user has no task with this id. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description If-Match names no tag the task has: it changed since it was read, or it is gone. Nothing was written. */
            412: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A parameter is invalid (errors says which). */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description This server requires If-Match on writes (a server setting) and the request has none. */
            428: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An unexpected server error. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The database is unavailable; retry later. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    toggleTaskCompletion: {
        parameters: {
            query?: never;
            header?: {
                /** @description Entity tags the task must still have (`"3"`, a comma-separated list, or `*` for any existing task): otherwise 412 and nothing is written. */
                "If-Match"?: string;
            };
            path: {
                /** @description Id of the user who owns the task; must be the token's `sub`. */
                user_id: string;
                /** @description Id of the task. */
                task_id: number;
            };
            cookie?: never;
        };
        /** @description The completion the task must have; without a body the completion flips. */
        requestBody?: {
            content: {
                "application/json": components["schemas"]["CompletionState"];
            };
        };
        responses: {
            /** @description The task after the toggle, or with the completion set. */
            200: {
                headers: {
                    /** @description Strong validator of the task in the body (RFC 9110), e.g. `"3"`: it changes exactly when the task changes. Send it back as `If-Match` to write only that version, or as `If-None-Match` to read only a newer one. */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Task"];
                };
            };
            /** @description The token is missing, malformed, expired or badly signed. */
            401: {
                headers: {
                    /** @description Bearer challenge (RFC 6750), sent with every 401: `Bearer realm="todo"`, with `error="invalid_token"` and an `error_description` when a token was presented. */
                    "WWW-Authenticate"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The token belongs to another user. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The user has no task with this id. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description If-Match names no tag the task has: it changed since it was read, or it is gone. Nothing was written. */
            412: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The body is larger than the server accepts (64 KiB). */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The body is not application/json. */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The body or a parameter is invalid (errors says which). */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description This server requires If-Match on writes (a server setting) and the request has none. */
            428: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An unexpected server error. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The database is unavailable; retry later. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    reminderDue: {
        parameters: {
            query?: never;
            header: {
                /** @description The event's `id`: the same on every delivery of the event. */
                "webhook-id": string;
                /** @description When this delivery was signed, in seconds since 1970-01-01T00:00:00Z. Refuse a delivery signed more than 5 minutes from your clock: it may be a replay. */
                "webhook-timestamp": number;
                /** @description Space-separated signatures, each `v1,` followed by the base64 HMAC-SHA256, keyed with the receiver's secret, of `{webhook-id}.{webhook-timestamp}.{body}`. Accept the delivery when one of them matches (there are several while a secret is replaced). */
                "webhook-signature": string;
            };
            path?: never;
            cookie?: never;
        };
        /** @description The event, a `ReminderDueEvent`. */
        requestBody: {
            content: {
                "application/json": components["schemas"]["ReminderDueEvent"];
            };
        };
        responses: {
            /** @description Gone: no more deliveries to this receiver until the server's operator enables it again. */
            410: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Accepted: this event is not sent again. */
            "2XX": {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Not accepted (or no answer): the event is sent again later, with the same `webhook-id`. */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    taskCreated: {
        parameters: {
            query?: never;
            header: {
                /** @description The event's `id`: the same on every delivery of the event. */
                "webhook-id": string;
                /** @description When this delivery was signed, in seconds since 1970-01-01T00:00:00Z. Refuse a delivery signed more than 5 minutes from your clock: it may be a replay. */
                "webhook-timestamp": number;
                /** @description Space-separated signatures, each `v1,` followed by the base64 HMAC-SHA256, keyed with the receiver's secret, of `{webhook-id}.{webhook-timestamp}.{body}`. Accept the delivery when one of them matches (there are several while a secret is replaced). */
                "webhook-signature": string;
            };
            path?: never;
            cookie?: never;
        };
        /** @description The event, a `TaskCreatedEvent`. */
        requestBody: {
            content: {
                "application/json": components["schemas"]["TaskCreatedEvent"];
            };
        };
        responses: {
            /** @description Gone: no more deliveries to this receiver until the server's operator enables it again. */
            410: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Accepted: this event is not sent again. */
            "2XX": {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Not accepted (or no answer): the event is sent again later, with the same `webhook-id`. */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    taskUpdated: {
        parameters: {
            query?: never;
            header: {
                /** @description The event's `id`: the same on every delivery of the event. */
                "webhook-id": string;
                /** @description When this delivery was signed, in seconds since 1970-01-01T00:00:00Z. Refuse a delivery signed more than 5 minutes from your clock: it may be a replay. */
                "webhook-timestamp": number;
                /** @description Space-separated signatures, each `v1,` followed by the base64 HMAC-SHA256, keyed with the receiver's secret, of `{webhook-id}.{webhook-timestamp}.{body}`. Accept the delivery when one of them matches (there are several while a secret is replaced). */
                "webhook-signature": string;
            };
            path?: never;
            cookie?: never;
        };
        /** @description The event, a `TaskUpdatedEvent`. */
        requestBody: {
            content: {
                "application/json": components["schemas"]["TaskUpdatedEvent"];
            };
        };
        responses: {
            /** @description Gone: no more deliveries to this receiver until the server's operator enables it again. */
            410: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Accepted: this event is not sent again. */
            "2XX": {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Not accepted (or no answer): the event is sent again later, with the same `webhook-id`. */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    taskCompleted: {
        parameters: {
            query?: never;
            header: {
                /** @description The event's `id`: the same on every delivery of the event. */
                "webhook-id": string;
                /** @description When this delivery was signed, in seconds since 1970-01-01T00:00:00Z. Refuse a delivery signed more than 5 minutes from your clock: it may be a replay. */
                "webhook-timestamp": number;
                /** @description Space-separated signatures, each `v1,` followed by the base64 HMAC-SHA256, keyed with the receiver's secret, of `{webhook-id}.{webhook-timestamp}.{body}`. Accept the delivery when one of them matches (there are several while a secret is replaced). */
                "webhook-signature": string;
            };
            path?: never;
            cookie?: never;
        };
        /** @description The event, a `TaskCompletedEvent`. */
        requestBody: {
            content: {
                "application/json": components["schemas"]["TaskCompletedEvent"];
            };
        };
        responses: {
            /** @description Gone: no more deliveries to this receiver until the server's operator enables it again. */
            410: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Accepted: this event is not sent again. */
            "2XX": {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Not accepted (or no answer): the event is sent again later, with the same `webhook-id`. */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    taskDeleted: {
        parameters: {
            query?: never;
            header: {
                /** @description The event's `id`: the same on every delivery of the event. */
                "webhook-id": string;
                /** @description When this delivery was signed, in seconds since 1970-01-01T00:00:00Z. Refuse a delivery signed more than 5 minutes from your clock: it may be a replay. */
                "webhook-timestamp": number;
                /** @description Space-separated signatures, each `v1,` followed by the base64 HMAC-SHA256, keyed with the receiver's secret, of `{webhook-id}.{webhook-timestamp}.{body}`. Accept the delivery when one of them matches (there are several while a secret is replaced). */
                "webhook-signature": string;
            };
            path?: never;
            cookie?: never;
        };
        /** @description The event, a `TaskDeletedEvent`. */
        requestBody: {
            content: {
                "application/json": components["schemas"]["TaskDeletedEvent"];
            };
        };
        responses: {
            /** @description Gone: no more deliveries to this receiver until the server's operator enables it again. */
            410: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Accepted: this event is not sent again. */
            "2XX": {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Not accepted (or no answer): the event is sent again later, with the same `webhook-id`. */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
}
