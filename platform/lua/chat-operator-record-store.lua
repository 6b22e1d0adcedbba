-- Stores an operator's hot access record unless Redis holds a newer version of it, so a slow cache
-- fill that read an older document never overwrites a newer record (models/chat/operator-record.ts).
-- A tie refreshes the fields; a stored value that is not a record with a version is overwritten.
-- KEYS[1]: the operator's record (JSON with a numeric field v, the token version)
-- ARGV[1]: the record's JSON
-- ARGV[2]: its version (v)
-- ARGV[3]: its lifetime, seconds
-- returns: 1 when stored, 0 when a newer version is there (nothing written)
local cur = redis.call('GET', KEYS[1])
if cur then
  local ok, c = pcall(cjson.decode, cur)
  if ok and type(c) == 'table' and tonumber(c.v) and tonumber(c.v) > tonumber(ARGV[2]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
return 1
