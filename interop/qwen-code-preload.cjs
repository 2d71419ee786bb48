// Preload for Qwen Code processes in `npm run test:interop` (`NODE_OPTIONS=--require=<this file>`).
//
// Qwen Code has its OAuth host hard-coded (`https://chat.qwen.ai`: device code and token
// endpoints) and calls the model API at the URL it builds from the credentials' `resource_url`
// (`https://<resource_url>/v1` when the value has no scheme). Both go through the global `fetch`
// (the OpenAI SDK passes its own undici dispatcher, still through the global `fetch`). This
// preload:
//
// 1. loads interop/guard.cjs first: every non-loopback connection, lookup and UDP send is refused
//    and logged (in worker threads too);
// 2. wraps the global `fetch` once more, outside the guard's wrapper: a request to one of the
//    origins named in `INTEROP_QWEN_REWRITE` goes to the emulator instead (origin replaced, path
//    and query kept) and carries `x-emulator-client: qwen-code <version> pid <pid>`, so the
//    emulator's events say which refresh and which API call were Qwen Code's;
// 3. watches, without changing them, Qwen Code's operations on `oauth_creds.lock` (exclusive
//    create, unlink, rename aside) and its exit code.
//
// Everything is appended to `INTEROP_QWEN_LOG` (one JSON line each: pid, event, details) so a
// scenario can tell what Qwen Code did and when. `INTEROP_QWEN_REWRITE` is a JSON object
// {"https://chat.qwen.ai": "http://127.0.0.1:PORT", …}; anything not listed reaches the guard,
// which refuses it unless it is loopback. CommonJS and `--require` like the guard: Qwen Code's
// entry is an ES module, and `--require` preloads run before it, in worker threads too.
"use strict";
require("./guard.cjs");

const fs = require("node:fs");
const { syncBuiltinESMExports } = require("node:module");
const { isMainThread } = require("node:worker_threads");

const LOADED = Symbol.for("qwen-auth.interop-qwen-code-preload");
if (!globalThis[LOADED]) {
  globalThis[LOADED] = true;
  const LOG = process.env.INTEROP_QWEN_LOG;
  const CLIENT = `qwen-code ${process.env.INTEROP_QWEN_CODE_RELEASE || "?"} pid ${process.pid}`;
  const record = (event, details) => {
    if (!LOG) return;
    try {
      fs.appendFileSync(
        LOG,
        `${JSON.stringify({ at: new Date().toISOString(), ms: Date.now(), pid: process.pid, thread: isMainThread ? 0 : 1, event, ...details })}\n`
      );
    } catch {}
  };

  // --- 2. fetch rewriting ---------------------------------------------------------------------
  let table = {};
  try {
    table = JSON.parse(process.env.INTEROP_QWEN_REWRITE || "{}");
  } catch (e) {
    process.stderr.write(`[interop-rewrite] INTEROP_QWEN_REWRITE is not JSON: ${e.message}\n`);
  }
  const rewrites = new Map(Object.entries(table).map(([from, to]) => [new URL(from).origin, new URL(to).origin]));
  if (rewrites.size > 0 && typeof globalThis.fetch === "function") {
    const guardedFetch = globalThis.fetch;
    globalThis.fetch = function fetch(input, init) {
      let url;
      try {
        url = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
      } catch {
        return guardedFetch.call(this, input, init);
      }
      const target = rewrites.get(url.origin);
      if (target === undefined) return guardedFetch.call(this, input, init);
      const next = `${target}${url.pathname}${url.search}`;
      const isRequest = typeof input === "object" && !(input instanceof URL);
      const method = String(init?.method ?? (isRequest ? input.method : undefined) ?? "GET").toUpperCase();
      record("rewrite", { method, from: url.href, to: next });
      const headers = new Headers(init?.headers ?? (isRequest ? input.headers : undefined));
      headers.set("x-emulator-client", CLIENT);
      if (!isRequest) return guardedFetch.call(this, next, { ...init, headers });
      return guardedFetch.call(this, new Request(next, input), { ...init, headers });
    };
  }

  // --- 3. the lock, observed ------------------------------------------------------------------
  const isLock = (p) => typeof p === "string" && /(^|\/)oauth_creds\.lock$/.test(p);
  const peek = (p) => {
    try {
      return fs.readFileSync(p, "utf8");
    } catch (e) {
      return `(${e.code ?? e.message})`;
    }
  };
  const promises = fs.promises;
  const writeFile = promises.writeFile;
  promises.writeFile = async function (path, data, options) {
    const flag = typeof options === "object" && options !== null ? options.flag : undefined;
    if (!isLock(String(path)) || flag !== "wx") return writeFile.apply(this, arguments);
    try {
      const r = await writeFile.apply(this, arguments);
      record("lock-create", { path: String(path), result: "created", id: String(data) });
      return r;
    } catch (e) {
      record("lock-create", { path: String(path), result: e.code ?? e.message, holder: peek(String(path)) });
      throw e;
    }
  };
  const unlink = promises.unlink;
  promises.unlink = async function (path) {
    if (!isLock(String(path))) return unlink.apply(this, arguments);
    const holder = peek(String(path));
    try {
      const r = await unlink.apply(this, arguments);
      record("lock-unlink", { path: String(path), via: "fs.promises.unlink", result: "removed", holder });
      return r;
    } catch (e) {
      record("lock-unlink", { path: String(path), via: "fs.promises.unlink", result: e.code ?? e.message });
      throw e;
    }
  };
  const rename = promises.rename;
  promises.rename = async function (from, to) {
    if (!isLock(String(from))) return rename.apply(this, arguments);
    const holder = peek(String(from));
    try {
      const r = await rename.apply(this, arguments);
      record("lock-rename-aside", { path: String(from), to: String(to), result: "moved", holder });
      return r;
    } catch (e) {
      record("lock-rename-aside", { path: String(from), to: String(to), result: e.code ?? e.message });
      throw e;
    }
  };
  const unlinkSync = fs.unlinkSync;
  fs.unlinkSync = function (path) {
    if (!isLock(String(path))) return unlinkSync.apply(this, arguments);
    const holder = peek(String(path));
    try {
      const r = unlinkSync.apply(this, arguments);
      record("lock-unlink", { path: String(path), via: "fs.unlinkSync", result: "removed", holder });
      return r;
    } catch (e) {
      record("lock-unlink", { path: String(path), via: "fs.unlinkSync", result: e.code ?? e.message });
      throw e;
    }
  };
  syncBuiltinESMExports();

  if (isMainThread) {
    record("start", { argv: process.argv.slice(2, 8) });
    process.on("exit", (code) => record("exit", { code }));
  }
}
