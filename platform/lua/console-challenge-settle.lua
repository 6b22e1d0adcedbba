-- Settles one attempt at a console one-time-code challenge (models/console/challenges.ts settle;
-- the console-challenge machine's pass, miss and exhaust). A challenge is live, or dead once it
-- had `max` wrong codes (its `dead` field is '1'). A dead challenge refuses even the right code; a
-- right code deletes the challenge, so it works once and two concurrent right answers cannot both
-- win; a wrong one counts, and the max-th kills it.
-- KEYS[1]: the challenge hash
-- ARGV[1]: '1' when the code was right, else '0'
-- ARGV[2]: the attempts that kill it (MAX_ATTEMPTS)
-- ARGV[3]: the states that take an attempt, space-separated (pass/miss's from: 'live')
-- returns: 0 settled (deleted) | n > 0 wrong attempts so far | -1 missing | -2 dead
--- @include "among"
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local st = 'live'
if redis.call('HGET', KEYS[1], 'dead') == '1' then st = 'dead' end
if not among(st, ARGV[3]) then return -2 end
if ARGV[1] == '1' then redis.call('DEL', KEYS[1]) return 0 end
local n = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
if n >= tonumber(ARGV[2]) then redis.call('HSET', KEYS[1], 'dead', '1') end
return n
