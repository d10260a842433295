-- GET /sign-in as the browser of one sign-in flow: the flow's cookie (args[1]) on every request.
function init(args)
    wrk.headers["Cookie"] = args[1]
    wrk.headers["Authorization"] = nil
end
