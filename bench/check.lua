-- wrk script for bench/run.sh: the permission check, the same membership and
-- permission on every request (what an app's middleware sends).
--
--   wrk ... -s bench/check.lua URL -- PERMISSION_SLUG

function init(args)
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
   wrk.body = '{"permission_slug":"' .. args[1] .. '"}'
end
