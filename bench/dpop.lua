-- wrk: every request carries a DPoP proof of its own (a proof is good once), read from the file
-- DPOP_PROOFS; thread k of n takes every n-th proof from the k-th. The Authorization header comes
-- from the command line (-H).
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  proofs = {}
  local n, total = 0, tonumber(os.getenv("WRK_THREADS") or "1")
  for line in io.lines(os.getenv("DPOP_PROOFS")) do
    if n % total == id then proofs[#proofs + 1] = line end
    n = n + 1
  end
  next_proof = 0
end

function request()
  next_proof = next_proof + 1
  local headers = {}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  headers["DPoP"] = proofs[((next_proof - 1) % #proofs) + 1]
  return wrk.format(nil, nil, headers)
end
