-- wrk script for bench/run.sh: every request creates a NEW organization
-- membership.
--
--   wrk ... -s bench/memberships.lua URL -- USERS_FILE ORGS_FILE THREADS
--
-- USERS_FILE and ORGS_FILE hold one id per line (created beforehand). The
-- (user, organization) pairs form a grid; request number i of thread t (of
-- THREADS) takes grid cell i * THREADS + t, so no two requests in the run
-- share a pair as long as the run sends fewer requests than the grid has
-- cells (bench/run.sh checks that afterwards).

local next_thread = 0 -- used in the main Lua state only (setup)

function setup(thread)
   thread:set("thread_index", next_thread)
   next_thread = next_thread + 1
end

local users, orgs = {}, {}
local threads = 1
local counter = 0

local function read_ids(path)
   local ids = {}
   for line in io.lines(path) do
      if line ~= "" then
         ids[#ids + 1] = line
      end
   end
   assert(#ids > 0, "no ids in " .. path)
   return ids
end

function init(args)
   users = read_ids(args[1])
   orgs = read_ids(args[2])
   threads = tonumber(args[3]) or 1
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
end

function request()
   local cell = counter * threads + (thread_index or 0)
   counter = counter + 1
   local u = cell % #users + 1
   local o = math.floor(cell / #users) % #orgs + 1
   local body = '{"user_id":"' .. users[u] .. '","organization_id":"' .. orgs[o] .. '"}'
   return wrk.format(nil, nil, nil, body)
end
