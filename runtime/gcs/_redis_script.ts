/**
 * The Lua script that applies one batch of events inside Redis, atomically
 * and in one round trip. It follows the same rules as _memory_tables.ts; the
 * key layout is in docs/ARCHITECTURE.md ("Redis key layout").
 *
 * Arguments: prefix, history cap, transitions kept per task, the batch as
 * JSON `[events, functions]`: the wire events (_redis_codec.ts; a
 * `taskSubmitted` names its row of `functions`, and may carry the task's
 * later transitions in `then`). Reply: `{ applied, stop,
 * index1, error1, ... }`: `applied` events were applied; `stop` is `""`, or
 * the error (MISCONF, OOM, READONLY...) that stopped the batch before event
 * `applied + 1`; then the 0-based index and error of each event that failed
 * on its own (a key of the wrong type) and was skipped.
 *
 * @module
 */
import { objectIdOf, type TaskId } from "../common/mod.ts";
import { FINAL_TASK_STATES } from "./events.ts";
import { ACTOR_CALL_STRIDE } from "../protocol/mod.ts";

const FINAL = FINAL_TASK_STATES.map((s) => `${s} = true`).join(", ");

/** The script's source. */
export const APPLY_BATCH_LUA = `
local P = ARGV[1]
local CAP = tonumber(ARGV[2])
local HMAX = tonumber(ARGV[3])
local batch = cjson.decode(ARGV[4])
local events, FNS = batch[1], batch[2]
local FINAL = { ${FINAL} }
local STOP = { MISCONF = true, OOM = true, READONLY = true, NOREPLICAS = true,
  MASTERDOWN = true, BUSY = true, LOADING = true }
local call = redis.call
local STATS = P .. 'stats'

local function has_item(list, item)
  return list and list ~= '' and string.find(',' .. list .. ',', ',' .. item .. ',', 1, true) ~= nil
end

local function without_item(list, item)
  local out = {}
  for x in string.gmatch(list or '', '[^,]+') do
    if x ~= item then out[#out + 1] = x end
  end
  return table.concat(out, ',')
end

local function set_state(index, id, old, new, ms)
  if old and old ~= new then call('ZREM', P .. index .. ':' .. old, id) end
  call('ZADD', P .. index .. ':' .. new, ms, id)
end

-- Counter changes are summed here and written once, at the end of the batch.
local delta = {}
local function incr(key, field, by)
  local t = delta[key]
  if not t then t = {}; delta[key] = t end
  t[field] = (t[field] or 0) + by
end

local fns = {}
local function count_fn(name, state, by)
  if not name or name == '' then return end
  incr(STATS .. ':fn:' .. name, state, by)
  fns[name] = true
end

local function count_task(name, state, by)
  incr(STATS, 'task:' .. state, by)
  count_fn(name, state, by)
end

-- Many-member commands: Lua's stack takes a few thousand arguments, so
-- long lists go in chunks.
local CHUNK = 1000
local function call_many(cmd, key, list, width)
  local step = CHUNK * width
  for i = 1, #list, step do
    if key then
      call(cmd, key, unpack(list, i, math.min(i + step - 1, #list)))
    else
      call(cmd, unpack(list, i, math.min(i + step - 1, #list)))
    end
  end
end

-- Index additions of new finished tasks (the fast path of H.taskSubmitted),
-- written as one ZADD per key; written before any other handler runs, so
-- every handler sees the indexes as if they had been written at once.
local adds, added = {}, false
local function add_later(key, score, id)
  local t = adds[key]
  if not t then t = {}; adds[key] = t end
  t[#t + 1] = score; t[#t + 1] = id
  added = true
end
local function write_adds()
  if not added then return end
  for key, t in pairs(adds) do call_many('ZADD', key, t, 2) end
  adds, added = {}, false
end

-- Final, unpinned tasks join the history in order; the oldest beyond CAP
-- are dropped at the end of the batch.
local seq
local function next_seq()
  if not seq then seq = tonumber(call('HGET', STATS, 'history_seq') or '0') end
  seq = seq + 1
  return seq
end
local function retire(key, id)
  call('HDEL', key, 'args')
  call('ZADD', P .. 'task_history', next_seq(), id)
end

local function finish_batch()
  write_adds()
  if seq then
    call('HSET', STATS, 'history_seq', seq)
    local over = call('ZCARD', P .. 'task_history') - CAP
    if over > 0 then
      -- Every task in the history is in a final state: it leaves that
      -- state's index (one ZREM per final state) and its key goes.
      local old = call('ZPOPMIN', P .. 'task_history', over)
      local ids, keys = {}, {}
      for i = 1, #old, 2 do
        ids[#ids + 1] = old[i]
        keys[#keys + 1] = P .. 'task:' .. old[i]
      end
      for state in pairs(FINAL) do call_many('ZREM', P .. 'tasks:' .. state, ids, 1) end
      call_many('DEL', nil, keys, 1)
      incr(STATS, 'evicted', over)
    end
  end
  for key, t in pairs(delta) do
    for field, n in pairs(t) do
      if n ~= 0 then call('HINCRBY', key, field, n) end
    end
  end
  for name in pairs(fns) do call('SADD', STATS .. ':fns', name) end
end

local function push_fields(f, e, names)
  for _, n in ipairs(names) do
    if e[n] ~= nil then f[#f + 1] = n; f[#f + 1] = e[n] end
  end
  return f
end

-- The history string with more transitions appended, keeping the last HMAX.
local function append_history(hist, transitions)
  local items = {}
  for x in string.gmatch(hist or '', '[^,]+') do items[#items + 1] = x end
  for _, t in ipairs(transitions) do items[#items + 1] = t.state .. '@' .. t.ts end
  return table.concat(items, ',', math.max(1, #items - HMAX + 1), #items)
end

local H = {}

H.jobStarted = function(e)
  local key = P .. 'job:' .. e.jobId
  local old = call('HGET', key, 'state')
  call('DEL', key)
  call('HSET', key, unpack(push_fields({ 'jobId', e.jobId, 'state', 'running', 'startedAt', e.ts },
    e, { 'nodeId', 'entrypoint', 'namespace' })))
  set_state('jobs', e.jobId, old, 'running', e.ts)
end

H.jobFinished = function(e)
  local key = P .. 'job:' .. e.jobId
  local old = call('HGET', key, 'state')
  if not old then return end
  call('HSET', key, 'state', 'finished', 'endedAt', e.ts)
  set_state('jobs', e.jobId, old, 'finished', e.ts)
end

H.nodeAdded = function(e)
  local key = P .. 'node:' .. e.nodeId
  local old = call('HGET', key, 'state')
  call('DEL', key)
  call('HSET', key, 'nodeId', e.nodeId, 'state', 'alive', 'address', e.address,
    'resources', e.resources, 'numWorkers', e.numWorkers, 'startedAt', e.ts, 'heartbeatAt', e.ts)
  set_state('nodes', e.nodeId, old, 'alive', e.ts)
end

H.nodeHeartbeat = function(e)
  local key = P .. 'node:' .. e.nodeId
  if call('HGET', key, 'state') ~= 'alive' then return end
  call('HSET', key, unpack(push_fields({ 'heartbeatAt', e.ts }, e, { 'available', 'queued', 'running' })))
end

H.nodeRemoved = function(e)
  local key = P .. 'node:' .. e.nodeId
  local old = call('HGET', key, 'state')
  if not old then return end
  call('HSET', key, unpack(push_fields({ 'state', 'dead', 'endedAt', e.ts }, e, { 'reason' })))
  set_state('nodes', e.nodeId, old, 'dead', e.ts)
end

H.workerStarted = function(e)
  local id = e.nodeId .. ':' .. e.workerId
  local key = P .. 'worker:' .. id
  local old = call('HGET', key, 'state')
  call('DEL', key)
  call('HSET', key, 'nodeId', e.nodeId, 'workerId', e.workerId, 'state', 'alive', 'startedAt', e.ts)
  set_state('workers', id, old, 'alive', e.ts)
end

H.workerDied = function(e)
  local id = e.nodeId .. ':' .. e.workerId
  local key = P .. 'worker:' .. id
  local old = call('HGET', key, 'state')
  if not old then return end
  call('HSET', key, unpack(push_fields({ 'state', 'dead', 'endedAt', e.ts }, e, { 'reason' })))
  set_state('workers', id, old, 'dead', e.ts)
end

H.functionRegistered = function(e)
  call('HSET', P .. 'functions:' .. e.jobId, e.field, e.value)
end

H.taskSubmitted = function(e)
  -- The fields the tasks of a function share come once per batch.
  local fn = FNS[e.fn + 1]
  e.jobId, e.name, e.moduleUrl, e.fnKey, e.options = fn[1], fn[2], fn[3], fn[4], fn[5]
  if not e.returns then e.returns = e.taskId .. '${objectIdOf("" as TaskId, 0)}' end
  if not e.deps then e.deps = '' end
  local key = P .. 'task:' .. e.taskId
  local r = call('HMGET', key, 'state', 'name', 'pinned')
  local st, name, pinned = r[1], r[2], r[3]
  local f = push_fields({ 'jobId', e.jobId, 'name', e.name, 'submittedAt', e.ts },
    e, { 'moduleUrl', 'fnKey', 'parentTaskId', 'deps', 'returns', 'options' })
  local later = e['then']
  if st or not later then write_adds() end
  if later and not st then
    -- A new task and its later transitions in one write.
    local last = later[#later]
    local history = append_history('submitted@' .. e.ts, later)
    push_fields(f, { taskId = e.taskId, state = last.state, history = history,
      updatedAt = last.ts, attempt = e.attempt }, { 'taskId', 'state', 'history', 'updatedAt', 'attempt' })
    local extra = {}
    for _, t in ipairs(later) do
      for _, n in ipairs({ 'nodeId', 'workerId', 'attempt', 'error' }) do
        if t[n] ~= nil then extra[n] = t[n] end
      end
    end
    push_fields(f, extra, { 'nodeId', 'workerId', 'attempt', 'error' })
    if FINAL[last.state] then
      -- The common case, a task that ended within the batch: its hash is the
      -- one write of its own; its index entries are added in bulk.
      f[#f + 1] = 'endedAt'; f[#f + 1] = last.ts
      call('HSET', key, unpack(f))
      add_later(P .. 'tasks:' .. last.state, last.ts, e.taskId)
      add_later(P .. 'task_history', next_seq(), e.taskId)
      count_task(e.name, last.state, 1)
      return
    end
    if e.args then push_fields(f, e, { 'args' }) end
    call('HSET', key, unpack(f))
    set_state('tasks', e.taskId, nil, last.state, last.ts)
    count_task(e.name, last.state, 1)
    return
  end
  if not st then
    push_fields(f, { taskId = e.taskId, state = 'submitted', history = 'submitted@' .. e.ts,
      updatedAt = e.ts, attempt = e.attempt }, { 'taskId', 'state', 'history', 'updatedAt', 'attempt' })
    set_state('tasks', e.taskId, nil, 'submitted', e.ts)
    count_task('', 'submitted', 1)
    st, name = 'submitted', ''
  end
  if name == '' then count_fn(e.name, st, 1) end
  if e.args and (not FINAL[st] or pinned) then push_fields(f, e, { 'args' }) end
  call('HSET', key, unpack(f))
  for _, t in ipairs(later or {}) do
    t.taskId = e.taskId
    H.taskState(t)
  end
end

H.taskState = function(e)
  local key = P .. 'task:' .. e.taskId
  local r = call('HMGET', key, 'state', 'name', 'history', 'pinned', 'updatedAt')
  local st, name, hist, pinned = r[1], r[2], r[3] or '', r[4]
  if not st then
    call('HSET', key, 'taskId', e.taskId, 'name', '', 'attempt', 0)
    count_task('', e.state, 1)
    name = ''
  else
    local at = tonumber(r[5]) or 0
    if st == e.state and e.ts <= at then return end
    if FINAL[st] and not FINAL[e.state] and e.ts < at then return end
    if st ~= e.state then
      count_task(name, st, -1)
      count_task(name, e.state, 1)
    end
  end
  hist = append_history(hist, { e })
  local f = push_fields({ 'state', e.state, 'updatedAt', e.ts, 'history', hist },
    e, { 'nodeId', 'workerId', 'attempt', 'error' })
  if FINAL[e.state] then f[#f + 1] = 'endedAt'; f[#f + 1] = e.ts end
  call('HSET', key, unpack(f))
  set_state('tasks', e.taskId, st, e.state, e.ts)
  if FINAL[e.state] then
    if not pinned then retire(key, e.taskId) end
  elseif st and FINAL[st] then
    call('HDEL', key, 'endedAt')
    call('ZREM', P .. 'task_history', e.taskId)
  end
end

-- Actor method calls, as their callers recorded them (events.ts, ACTOR_CALL):
-- a task hash each, named Class.method, on its actor's node and worker.
H.actorCalls = function(e)
  local c, actors = e.calls, {}
  for i = 1, #c - ${ACTOR_CALL_STRIDE - 1}, ${ACTOR_CALL_STRIDE} do
    local id, actorId, method, state = c[i], c[i + 1], c[i + 2], c[i + 3]
    local sub, start, ended = c[i + 5], c[i + 6], c[i + 7]
    local actor = actors[actorId]
    if not actor then
      local r = call('HMGET', P .. 'actor:' .. actorId, 'className', 'nodeId', 'workerId', 'jobId')
      actor = { r[1] or nil, r[2] or nil, r[3] or nil, r[4] or nil }
      actors[actorId] = actor
    end
    local name = (actor[1] or 'Actor') .. '.' .. method
    local key = P .. 'task:' .. id
    local old = call('HGET', key, 'state')
    local final = FINAL[state]
    if not (old and (not final or FINAL[old])) then
      local history = 'submitted@' .. sub .. ',running@' .. start
      local at = start
      if final then history = history .. ',' .. state .. '@' .. ended; at = ended end
      local f = push_fields({ 'taskId', id, 'name', name, 'actorId', actorId, 'state', state,
        'history', history, 'submittedAt', sub, 'updatedAt', at, 'attempt', c[i + 4],
        'deps', c[i + 9], 'returns', c[i + 8] }, { jobId = actor[4] or e.jobId, nodeId = actor[2],
        workerId = actor[3] }, { 'jobId', 'nodeId', 'workerId' })
      if c[i + 10] ~= '' then f[#f + 1] = 'parentTaskId'; f[#f + 1] = c[i + 10] end
      if c[i + 11] ~= '' then f[#f + 1] = 'error'; f[#f + 1] = c[i + 11] end
      if final then f[#f + 1] = 'endedAt'; f[#f + 1] = ended end
      call('HSET', key, unpack(f))
      if old then count_task(name, old, -1) end
      count_task(name, state, 1)
      if final and not old then
        add_later(P .. 'tasks:' .. state, ended, id)
        add_later(P .. 'task_history', next_seq(), id)
      else
        write_adds()
        set_state('tasks', id, old, state, at)
        if final then retire(key, id) end
      end
    end
  end
end

-- Tasks that ended while the store was behind, with more ended ones queued
-- behind them than the history keeps: their records would be evicted as
-- soon as written, so only their counts are (e.counts: name -> state -> n).
H.tasksEnded = function(e)
  for name, states in pairs(e.counts) do
    for state, n in pairs(states) do count_task(name, state, n) end
  end
  incr(STATS, 'evicted', e.n)
end

H.lineagePinned = function(e)
  local key = P .. 'task:' .. e.taskId
  if call('EXISTS', key) == 0 then return end
  call('HSET', key, 'pinned', '1')
  call('ZREM', P .. 'task_history', e.taskId)
end

H.lineageUnpinned = function(e)
  local key = P .. 'task:' .. e.taskId
  local r = call('HMGET', key, 'pinned', 'state')
  if not r[1] then return end
  call('HDEL', key, 'pinned')
  if FINAL[r[2]] then retire(key, e.taskId) end
end

local function add_location(key, id, node)
  local r = call('HMGET', key, 'locations', 'state', 'createdAt')
  if not has_item(r[1], node) then
    call('HSET', key, 'locations', (r[1] == '' or not r[1]) and node or (r[1] .. ',' .. node))
  end
  if r[2] ~= 'ready' then
    call('HSET', key, 'state', 'ready')
    set_state('objects', id, r[2], 'ready', r[3])
  end
end

H.objectCreated = function(e)
  local key = P .. 'object:' .. e.objectId
  if call('EXISTS', key) == 1 then return add_location(key, e.objectId, e.nodeId) end
  call('HSET', key, 'objectId', e.objectId, 'state', 'ready', 'size', e.size, 'owner', e.owner,
    'locations', e.nodeId, 'createdAt', e.ts)
  set_state('objects', e.objectId, nil, 'ready', e.ts)
  incr(STATS, 'object_bytes', e.size)
end

H.objectLocationAdded = function(e)
  local key = P .. 'object:' .. e.objectId
  if call('EXISTS', key) == 1 then add_location(key, e.objectId, e.nodeId) end
end

H.objectLocationRemoved = function(e)
  local key = P .. 'object:' .. e.objectId
  local r = call('HMGET', key, 'locations', 'state', 'createdAt')
  if not r[2] then return end
  local locs = without_item(r[1], e.nodeId)
  call('HSET', key, 'locations', locs)
  if locs == '' and r[2] ~= 'lost' then
    call('HSET', key, 'state', 'lost')
    set_state('objects', e.objectId, r[2], 'lost', r[3])
  end
end

H.objectFreed = function(e)
  local key = P .. 'object:' .. e.objectId
  local r = call('HMGET', key, 'state', 'size')
  if not r[1] then return end
  call('DEL', key)
  call('ZREM', P .. 'objects:' .. r[1], e.objectId)
  incr(STATS, 'object_bytes', -tonumber(r[2]))
end

H.actorState = function(e)
  local key = P .. 'actor:' .. e.actorId
  local r = call('HMGET', key, 'state', 'name', 'namespace')
  if not r[1] then call('HSET', key, 'actorId', e.actorId, 'restarts', 0) end
  call('HSET', key, unpack(push_fields({ 'state', e.state, 'updatedAt', e.ts }, e,
    { 'className', 'name', 'namespace', 'jobId', 'nodeId', 'workerId', 'restarts', 'error' })))
  set_state('actors', e.actorId, r[1], e.state, e.ts)
  local name = e.name or r[2]
  if not name then return end
  local nk = (e.namespace or r[3] or '') .. '/' .. name
  if e.state ~= 'dead' then
    call('HSET', P .. 'actor_names', nk, e.actorId)
  elseif call('HGET', P .. 'actor_names', nk) == e.actorId then
    call('HDEL', P .. 'actor_names', nk)
  end
end

H.kvPut = function(e) call('HSET', P .. 'kv', e.key, e.value) end
H.kvDelete = function(e) call('HDEL', P .. 'kv', e.key) end

local failed = {}
for i, e in ipairs(events) do
  local handler = H[e.type]
  if handler then
    if added and e.type ~= 'taskSubmitted' and e.type ~= 'tasksEnded' and e.type ~= 'actorCalls' then
      write_adds()
    end
    local ok, err = pcall(handler, e)
    if not ok then
      local msg = type(err) == 'table' and (err.err or err.msg) or tostring(err)
      if STOP[string.match(msg, '^(%u+)') or ''] then
        finish_batch()
        local out = { i - 1, msg }
        for _, x in ipairs(failed) do out[#out + 1] = x end
        return out
      end
      failed[#failed + 1] = i - 1
      failed[#failed + 1] = msg
    end
  end
end
finish_batch()
local out = { #events, '' }
for _, x in ipairs(failed) do out[#out + 1] = x end
return out
`;
