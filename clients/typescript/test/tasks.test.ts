/**
 * The example module against a live server: full CRUD, paging by X-Next-Cursor, a 404 and
 * a 422 read as typed problem bodies, and the retry-safe writes (a keyed create, a set
 * completion), and a recurring task's next occurrence and the reminders of a window. The
 * server and the users' tokens come from the
 * environment (TODO_API_URL; TODO_API_USERS, a JSON list of {user, token}), one user a test.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  createTasksClient,
  type NextCursor,
  type Problem,
  type Result,
  type TaskPage,
  type TasksClient,
} from "../src/tasks.js";

interface User {
  user: string;
  token: string;
}

const baseUrl = process.env.TODO_API_URL;
const users = JSON.parse(process.env.TODO_API_USERS ?? "[]") as User[];
if (baseUrl === undefined || users.length < 4) {
  throw new Error("set TODO_API_URL and TODO_API_USERS (four users with their tokens)");
}

function clientFor(index: number): TasksClient {
  const found = users[index];
  if (found === undefined) {
    throw new Error(`no user ${index} in TODO_API_USERS`);
  }
  return createTasksClient({ baseUrl: baseUrl as string, getToken: () => found.token }, found.user);
}

function value<T>(result: Result<T>): T {
  if (!result.ok) {
    assert.fail(`the API answered a problem: ${JSON.stringify(result.problem)}`);
  }
  return result.value;
}

function problem<T>(result: Result<T>): Problem {
  if (result.ok) {
    assert.fail(`expected a problem, got ${JSON.stringify(result.value)}`);
  }
  return result.problem;
}

// Compile-time: the cursor header is optional in the generated types (absent on the last page).
const lastPage: NextCursor = undefined;

test("create, read, update, toggle and delete a task", async () => {
  const tasks = clientFor(0);
  const created = value(await tasks.create({ title: "Buy milk", due_date: "2026-12-24" }));
  assert.equal(created.title, "Buy milk");
  assert.equal(created.description, null);
  assert.equal(created.completed, false);
  assert.equal(created.user_id, users[0]?.user);

  assert.deepEqual(value(await tasks.get(created.id)), created);

  const updated = value(await tasks.update(created.id, { description: "2 litres" }));
  assert.equal(updated.description, "2 litres");
  assert.equal(updated.title, "Buy milk");

  const toggled = value(await tasks.toggleCompletion(created.id));
  assert.equal(toggled.completed, true);
  assert.equal(value(await tasks.toggleCompletion(created.id)).completed, false);

  assert.equal(value(await tasks.remove(created.id)), undefined);
  const gone = problem(await tasks.get(created.id));
  assert.equal(gone.status, 404);
  assert.equal(gone.title, "Not Found");
  assert.match(gone.detail, new RegExp(`no task with id ${created.id}`));
});

test("a keyed create repeated creates once; a completion set twice stays set", async () => {
  const tasks = clientFor(3);
  const key = crypto.randomUUID();
  const first = value(await tasks.create({ title: "Once" }, key));
  const repeat = value(await tasks.create({ title: "Once" }, key));
  assert.deepEqual(repeat, first);
  const reused = problem(await tasks.create({ title: "Other" }, key));
  assert.equal(reused.status, 422);
  assert.equal(reused.errors?.[0]?.location, "header.Idempotency-Key");
  assert.equal(value(await tasks.setCompletion(first.id, true)).completed, true);
  assert.equal(value(await tasks.setCompletion(first.id, true)).completed, true);
  assert.equal(value(await tasks.remove(first.id)), undefined);
});

test("pages follow X-Next-Cursor until it is absent", async () => {
  const tasks = clientFor(1);
  const titles = ["a", "b", "c", "d", "e"];
  for (const title of titles) {
    value(await tasks.create({ title }));
  }
  const seen: string[] = [];
  let cursor: NextCursor = lastPage;
  let pages = 0;
  do {
    const page: TaskPage = value(await tasks.list({ sort: "title", limit: 2, cursor }));
    seen.push(...page.tasks.map((task) => task.title));
    cursor = page.nextCursor;
    pages += 1;
  } while (cursor !== undefined && pages < 10);
  assert.deepEqual(seen, titles);
  assert.equal(pages, 3);

  const all: string[] = [];
  for await (const task of tasks.all({ sort: "title", limit: 3 })) {
    all.push(task.title);
  }
  assert.deepEqual(all, titles);
});

test("invalid input is a typed 422 problem naming the field", async () => {
  const tasks = clientFor(2);
  const invalid = problem(await tasks.create({ title: "" }));
  assert.equal(invalid.status, 422);
  assert.ok(invalid.errors !== undefined && invalid.errors.length > 0, "422 lists its errors");
  assert.ok(
    invalid.errors.some((issue) => issue.location === "body.title"),
    JSON.stringify(invalid.errors),
  );
  const list = value(await tasks.list());
  assert.deepEqual(list.tasks, [], "nothing was created");
  assert.equal(list.nextCursor, undefined);
});

test("a read-modify-write with If-Match never loses another client's edit", async () => {
  const laptop = clientFor(0);
  const phone = clientFor(0);
  const created = value(await laptop.create({ title: "Buy milk", tags: ["shop"] }));

  // The phone read the task, then the laptop changed it: the phone's write is refused.
  const read = value(await phone.read(created.id));
  value(await laptop.update(created.id, { description: "2 litres" }));
  const change = { title: "Buy oat milk" };
  const stale = problem(await phone.updateIfUnchanged(created.id, change, read.etag));
  assert.equal(stale.status, 412);
  assert.equal(value(await phone.get(created.id)).title, "Buy milk", "nothing was written");

  // edit() reads again on a 412 and applies the change to the new state: both edits stay.
  let calls = 0;
  const edited = value(
    await phone.edit(created.id, async (task) => {
      calls += 1;
      if (calls === 1) {
        value(await laptop.update(created.id, { priority: "high" })); // meanwhile, on the laptop
      }
      return { tags: [...task.tags, "weekly"] };
    }),
  );
  assert.equal(calls, 2, "the first write met a 412 and edit read the task again");
  assert.deepEqual(edited.tags, ["shop", "weekly"]);
  assert.equal(edited.priority, "high");
  assert.equal(edited.description, "2 litres");
  assert.equal(value(await laptop.remove(created.id)), undefined);
});

test("completing a recurring task gives its next occurrence; reminders by window", async () => {
  const tasks = clientFor(3);
  // 09:00 every Monday in Berlin, three times, reminded 15 minutes before.
  const standup = value(
    await tasks.create({
      title: "Team stand-up",
      due_date: "2027-03-22",
      due_time: "09:00",
      time_zone: "Europe/Berlin",
      recurrence: "FREQ=WEEKLY;BYDAY=MO;COUNT=3",
      remind_before_minutes: 15,
    }),
  );
  assert.equal(standup.due_at, "2027-03-22T08:00:00Z");
  assert.equal(standup.remind_at, "2027-03-22T07:45:00Z");
  assert.equal(standup.next_occurrence_id, null);
  const inWindow = value(
    await tasks.create({
      title: "Call mum",
      due_date: "2027-03-25",
      due_time: "12:00",
      remind_before_minutes: 0,
    }),
  );
  const later = value(
    await tasks.create({
      title: "Later",
      due_date: "2027-04-10",
      due_time: "12:00",
      remind_before_minutes: 0,
    }),
  );

  const { task, next } = value(await tasks.complete(standup.id));
  assert.equal(task.completed, true);
  assert.ok(next !== null, "the completion created the next occurrence");
  assert.equal(task.next_occurrence_id, next.id);
  assert.equal(next.completed, false);
  assert.equal(next.title, "Team stand-up");
  assert.equal(next.due_date, "2027-03-29");
  assert.equal(next.due_time, "09:00");
  assert.equal(next.time_zone, "Europe/Berlin");
  assert.equal(next.due_at, "2027-03-29T07:00:00Z", "still 09:00 in Berlin, now summer time");
  assert.equal(next.remind_at, "2027-03-29T06:45:00Z");
  assert.equal(next.recurrence, "FREQ=WEEKLY;BYDAY=MO;COUNT=2");
  assert.equal(next.next_occurrence_id, null);

  // Completing it again is safe: no second occurrence, the same one is returned.
  const again = value(await tasks.complete(standup.id));
  assert.equal(again.next?.id, next.id);
  // A task that does not recur has none.
  assert.equal(value(await tasks.complete(later.id)).next, null);

  // The notifier's window, one task a page: the completed occurrence is not reminded, and
  // the task reminded after the window is not listed.
  const reminders = value(
    await tasks.reminders({
      from: new Date("2027-03-22T00:00:00Z"),
      to: "2027-03-30T00:00:00Z",
      limit: 1,
    }),
  );
  assert.deepEqual(
    reminders.map((reminder) => [reminder.id, reminder.remind_at]),
    [
      [inWindow.id, "2027-03-25T12:00:00Z"],
      [next.id, "2027-03-29T06:45:00Z"],
    ],
  );
  const empty = value(
    await tasks.reminders({ from: "2027-03-30T00:00:00Z", to: "2027-04-01T00:00:00Z" }),
  );
  assert.deepEqual(empty, []);
  const backwards = problem(
    await tasks.reminders({ from: "2027-03-30T00:00:00Z", to: "2027-03-01T00:00:00Z" }),
  );
  assert.equal(backwards.status, 422);

  for (const id of [standup.id, next.id, inWindow.id, later.id]) {
    assert.equal(value(await tasks.remove(id)), undefined);
  }
});
