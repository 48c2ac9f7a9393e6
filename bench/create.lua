-- wrk: CreateJobagent with a realistic body and a fresh x-requestId on every request
local counter = 0
local run = tostring(os.time())
-- `wrk ... -s create.lua URL -- TAG`: several wrk at once each send x-requestIds of their own
init = function(args)
  if args[1] then run = run .. "-" .. args[1] end
end
local body = '{"titel": "Lagerarbejde i Aarhus", "jobagent": {"email": "borger.eksempel@example.dk", "udsendelsesinterval": 1, "smsNotifikation": false}, "soegeparametre": {"geografi": {"region": [1082], "afstand": {"minafstand": 0, "maxafstand": 30, "fraPostnummer": 8000}}, "arbejdsomraade": {"stillingsbetegnelser": [{"conceptUriDa": "http://data.star.dk/esco/occupation/lagermedarbejder"}]}, "arbejdstid": {"arbejdstidstype": 2, "deltidMinTimer": 20, "deltidMaxTimer": 30}}}'
request = function()
  counter = counter + 1
  local headers = {}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  headers["Content-Type"] = "application/json"
  headers["x-requestId"] = "bench-" .. run .. "-" .. counter
  return wrk.format("POST", nil, headers, body)
end
