-- among(s, list): whether `s` is one of the space-separated words of `list` (a transition's `from`
-- states, passed by the caller from its state-machine table).
local function among(s, list)
  for x in string.gmatch(list, '%S+') do if x == s then return true end end
  return false
end
