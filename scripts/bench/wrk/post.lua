-- wrk script: form POSTs of distinct keys with 100-byte values to BENCH_PATH (e.g. /post).
-- Each thread stops by itself after BENCH_MAX_REQUESTS answers; wrk's -d bounds the time.
dofile(os.getenv('BENCH_WRK_DIR') .. '/report.lua')

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set('id', threads)
end

function init(args)
  prefix = os.getenv('BENCH_KEY_PREFIX') .. '-' .. id .. '-'
  path = os.getenv('BENCH_PATH')
  cap = tonumber(os.getenv('BENCH_MAX_REQUESTS'))
  value = string.rep('v', 100)
  headers = { ['Content-Type'] = 'application/x-www-form-urlencoded' }
  sent = 0
  answered = 0
end

function request()
  sent = sent + 1
  return wrk.format('POST', path, headers, 'key=' .. prefix .. sent .. '&value=' .. value)
end

function response(status, headers, body)
  answered = answered + 1
  if answered >= cap then wrk.thread:stop() end
end
