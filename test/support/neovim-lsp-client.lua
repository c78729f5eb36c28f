-- Drives the built language server from Neovim's own LSP client (nvim --headless), as a Neovim user would, and
-- writes what the editor received as JSON to $KYOZO_OUT: CodeLens titles of a manifest and a compose file, and the
-- diagnostic codes of a Dockerfile before and after it changes on disk (Neovim 0.7 watches no files for servers), the
-- messages shown for a workspace folder that cannot be analysed (a question without answers would block here: Neovim
-- asks it with inputlist()), and the diagnostics of a compose file over the size cap.
-- Run by test/unit/lsp-neovim.test.ts with KYOZO_ROOT (a copy of test/fixtures/lsp-workspace), KYOZO_SERVER, KYOZO_NODE.
local root = os.getenv('KYOZO_ROOT')
local out = {}
local logs = {}
local messages = {}

local function lens_titles(bufnr)
  local params = { textDocument = { uri = vim.uri_from_bufnr(bufnr) } }
  -- The first answers may come before the workspace is analysed (no lenses yet): ask again for a while.
  for _ = 1, 150 do
    local titles = {}
    for _, res in pairs(vim.lsp.buf_request_sync(bufnr, 'textDocument/codeLens', params, 2000) or {}) do
      for _, lens in ipairs(res.result or {}) do table.insert(titles, lens.command and lens.command.title or '') end
    end
    if #titles > 0 then return titles end
    vim.wait(100)
  end
  return {}
end

local function codes(bufnr)
  local list = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do table.insert(list, d.code or '') end
  table.sort(list)
  return list
end

local function has(list, value)
  for _, v in ipairs(list) do if v == value then return true end end
  return false
end

local ok, err = pcall(function()
  local client = vim.lsp.start_client({
    name = 'kyozo',
    cmd = { os.getenv('KYOZO_NODE'), os.getenv('KYOZO_SERVER'), '--stdio' },
    -- A second folder that does not exist: its analysis fails, which the server must say without waiting on us.
    workspace_folders = {
      { uri = vim.uri_from_fname(root), name = 'workspace' },
      { uri = vim.uri_from_fname(root .. '-missing'), name = 'missing' },
    },
    root_dir = root,
    init_options = { settings = { docker = { host = 'unix:///nonexistent/kyozo-test.sock' } } },
    handlers = {
      ['window/logMessage'] = function(_, result) table.insert(logs, result.message) end,
      ['window/showMessage'] = function(_, result) table.insert(messages, result.message) end,
    },
  })
  assert(client, 'the language server did not start')
  out.client = vim.lsp.get_client_by_id(client).name

  vim.cmd('edit ' .. vim.fn.fnameescape(root .. '/api/package.json'))
  local manifest = vim.api.nvim_get_current_buf()
  vim.lsp.buf_attach_client(manifest, client)
  out.manifest = lens_titles(manifest)

  vim.cmd('edit ' .. vim.fn.fnameescape(root .. '/docker-compose.yml'))
  local compose = vim.api.nvim_get_current_buf()
  vim.lsp.buf_attach_client(compose, client)
  out.compose = lens_titles(compose)

  -- The Dockerfile stays closed in the editor, so the server reads it from disk.
  local dockerfile = vim.uri_to_bufnr(vim.uri_from_fname(root .. '/api/Dockerfile'))
  vim.wait(20000, function() return has(codes(dockerfile), 'missing-expose') end, 50)
  out.before = codes(dockerfile)
  out.watching = vim.wait(20000, function()
    for _, m in ipairs(logs) do if m:find('watches .* for changes') then return true end end
    return false
  end, 50)
  local file = assert(io.open(root .. '/api/Dockerfile', 'a'))
  file:write('EXPOSE 3000\n')
  file:close()
  vim.wait(20000, function() return not has(codes(dockerfile), 'missing-expose') end, 50)
  out.after = codes(dockerfile)

  vim.wait(20000, function() return #messages > 0 end, 50)
  out.messages = messages

  -- 600 KB of compose services: over the 512 KiB cap, so one diagnostic and nothing parsed.
  local big = { 'services:' }
  for i = 1, 18000 do table.insert(big, string.format('  s%d:\n    image: busybox:1.36', i)) end
  local bigfile = assert(io.open(root .. '/compose.large.yml', 'w'))
  bigfile:write(table.concat(big, '\n') .. '\n')
  bigfile:close()
  vim.cmd('edit ' .. vim.fn.fnameescape(root .. '/compose.large.yml'))
  local large = vim.api.nvim_get_current_buf()
  vim.lsp.buf_attach_client(large, client)
  vim.wait(20000, function() return #codes(large) > 0 end, 50)
  out.large = codes(large)
end)

if not ok then out.error = tostring(err) end
local f = assert(io.open(os.getenv('KYOZO_OUT'), 'w'))
f:write(vim.fn.json_encode(out))
f:close()
vim.cmd('qall!')
