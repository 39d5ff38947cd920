-- One wrk request generator for every operation, driven by arguments after `--`:
--   METHOD PATH BODY FIRST_ID LAST_ID MODE THREADS [KEY]
-- PATH and BODY may contain {id}; MODE "cycle" walks FIRST_ID..LAST_ID round-robin,
-- MODE "unique" hands every request its own id (deletes: running past LAST_ID gives 404s,
-- which are counted as failures). KEY, when given, is sent as the Idempotency-Key header,
-- {id} replaced as in the body. done() prints one JSON line that bench/load.py parses.

local next_thread_index = 0

function setup(thread)
  thread:set("thread_index", next_thread_index)
  next_thread_index = next_thread_index + 1
end

function init(args)
  method = args[1]
  path = args[2]
  body = args[3]
  first_id = tonumber(args[4])
  last_id = tonumber(args[5])
  mode = args[6]
  threads = tonumber(args[7])
  key = args[8] or ""
  sent = 0
  -- wrk.format uses this table instead of wrk.headers, so carry the -H headers over.
  headers = {}
  for name, value in pairs(wrk.headers) do
    headers[name] = value
  end
  if body ~= "" then
    headers["Content-Type"] = "application/json"
  end
end

function request()
  local step = thread_index + sent * threads
  local id
  if mode == "unique" then
    id = first_id + step
  else
    id = first_id + step % (last_id - first_id + 1)
  end
  sent = sent + 1
  local text = tostring(id)
  local request_path = (string.gsub(path, "{id}", text))
  if key ~= "" then
    headers["Idempotency-Key"] = (string.gsub(key, "{id}", text))
  end
  local request_body = nil
  if body ~= "" then
    request_body = (string.gsub(body, "{id}", text))
  end
  return wrk.format(method, request_path, headers, request_body)
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
      .. '"status_errors": %d, "connect_errors": %d, "read_errors": %d, '
      .. '"write_errors": %d, "timeouts": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    errors.status, errors.connect, errors.read, errors.write, errors.timeout))
end
