-- wrk script for scripts/bench. The mode comes from the environment (BENCH_MODE), because wrk decides whether
-- requests are static and whether to call response() from the script as loaded, before init() sees arguments;
-- the mode's arguments follow "--":
--   tokens <file> <threads>              GET with "Authorization: Bearer <t>", t taken round-robin from a file
--   introspect <key> <file> <threads>    POST form token=<t> with the admin Bearer key, t round-robin from a file
--   refresh <file> <threads>             refresh grant with real rotation: each refresh token is sent exactly
--                                        once; the one a 200 answer carries goes back into the thread's pool
--   password <email> <password>          password grant, the same static JSON body every time
--   factory <email> <password> <prefix>  password grant that writes "<access>\t<refresh>" lines to <prefix>.<n>
-- done() prints one "RESULT key=value ..." line that scripts/bench parses.
-- Threads: setup() runs in the main Lua state once per thread (before init, which runs in the thread's state).

local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

local mode = os.getenv("BENCH_MODE") or "static"
local list, n, next_index = {}, 0, 1
local pool, head, tail = {}, 1, 0
-- Globals, so that done() reads them with thread:get().
lost, starved = 0, 0
local out

-- Lines number i (0-based) with i % threads == tid, so that the threads share a file without overlap
-- (all of them when the file has fewer lines than threads: only for reusable tokens).
local function lines_of(file, nthreads)
  local mine, all = {}, {}
  for line in io.lines(file) do
    if line ~= "" then
      if #all % nthreads == tid then
        mine[#mine + 1] = line
      end
      all[#all + 1] = line
    end
  end
  return #mine > 0 and mine or all
end

function init(args)
  if mode == "tokens" then
    list = lines_of(args[1], tonumber(args[2]))
    n = #list
  elseif mode == "introspect" then
    wrk.method = "POST"
    wrk.headers["Authorization"] = "Bearer " .. args[1]
    wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
    list = lines_of(args[2], tonumber(args[3]))
    n = #list
  elseif mode == "refresh" then
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
    for _, t in ipairs(lines_of(args[1], tonumber(args[2]))) do
      tail = tail + 1
      pool[tail] = t
    end
  elseif mode == "password" or mode == "factory" then
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
    wrk.body = '{"email":"' .. args[1] .. '","password":"' .. args[2] .. '"}'
    if mode == "factory" then
      out = io.open(args[3] .. "." .. tid, "w")
      out:setvbuf("line")
    end
  end
end

local function next_token()
  local t = list[next_index]
  next_index = next_index % n + 1
  return t
end

local dynamic = {
  tokens = function()
    wrk.headers["Authorization"] = "Bearer " .. next_token()
    return wrk.format()
  end,
  introspect = function()
    return wrk.format(nil, nil, nil, "token=" .. next_token())
  end,
  refresh = function()
    if head > tail then
      -- Every token of this thread is in flight: more connections than sessions (scripts/bench avoids this).
      starved = starved + 1
      return wrk.format(nil, nil, nil, '{"refresh_token":"pool-empty"}')
    end
    local t = pool[head]
    pool[head] = nil
    head = head + 1
    return wrk.format(nil, nil, nil, '{"refresh_token":"' .. t .. '"}')
  end,
}

if dynamic[mode] then
  request = function()
    return dynamic[mode]()
  end
end

local function on_response(status, headers, body)
  if mode == "refresh" then
    local t = status == 200 and body:match('"refresh_token":"([^"]+)"')
    if t then
      tail = tail + 1
      pool[tail] = t
    else
      lost = lost + 1
    end
  elseif mode == "factory" and status == 200 then
    local a = body:match('"access_token":"([^"]+)"')
    local r = body:match('"refresh_token":"([^"]+)"')
    if a and r then
      out:write(a, "\t", r, "\n")
    end
  end
end

-- Static requests and no response hook where nothing varies keep the generator's own CPU cost down.
if mode == "refresh" or mode == "factory" then
  response = on_response
end

function done(summary, latency, requests)
  local lost_total, starved_total = 0, 0
  for _, thread in ipairs(threads) do
    lost_total = lost_total + (thread:get("lost") or 0)
    starved_total = starved_total + (thread:get("starved") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d non2xx=%d connect_errors=%d read_errors=%d write_errors=%d timeouts=%d "
      .. "p50_us=%d p90_us=%d p99_us=%d max_us=%d mean_us=%.0f lost=%d starved=%d\n",
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    lost_total, starved_total))
end
