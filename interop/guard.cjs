// Loopback-only network guard for `npm run test:interop`, preloaded into every Node process of a
// scenario with `NODE_OPTIONS=--require=<this file>` (the emulator, qwen-auth, both OpenClaws and
// whatever they spawn with the same environment). CommonJS and `--require` on purpose: Node 22
// and 24 run `--require` preloads in worker threads too, `--import` preloads only in the main
// thread (measured by guard-check.mjs), so an `--import` guard would let a worker connect.
//
// Every connection to a host that is not loopback is refused before a packet leaves: TCP and TLS
// sockets (`net.Socket#connect`, `net.connect`, `tls.connect`), name lookups (`dns.lookup`,
// `dns.resolve*`, also the promise APIs and `Resolver`s), UDP (`dgram`) and the global `fetch`.
// Each refusal is written to stderr as `[interop-guard] refused HOST:PORT (VIA)` and appended, as
// one JSON line, to the file named by `INTEROP_GUARD_LOG` (synchronously, so a process that dies
// right after still leaves its line). The suite reads that file after each scenario.
"use strict";
const dgram = require("node:dgram");
const dns = require("node:dns");
const fs = require("node:fs");
const { syncBuiltinESMExports } = require("node:module");
const net = require("node:net");
const tls = require("node:tls");
const { isMainThread, threadId } = require("node:worker_threads");

// Loaded once per thread (a program may also name it in its own flags).
const LOADED = Symbol.for("qwen-auth.interop-guard");
if (globalThis[LOADED]) return;
globalThis[LOADED] = true;

const LOG = process.env.INTEROP_GUARD_LOG;

const isLoopback = (host) => {
  if (host === undefined || host === null || host === "") return true; // Node's default: localhost
  let h = String(host).toLowerCase();
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)) return true;
  if (h === "::1" || h === "0:0:0:0:0:0:0:1") return true;
  if (/^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)) return true;
  return false;
};

const refusal = (host, port, via) => {
  const line = `[interop-guard] refused ${host}:${port} (${via})`;
  try {
    process.stderr.write(`${line}\n`);
  } catch {}
  if (LOG) {
    try {
      fs.appendFileSync(
        LOG,
        `${JSON.stringify({ at: new Date().toISOString(), pid: process.pid, thread: isMainThread ? 0 : threadId, host: String(host), port: String(port), via, argv: process.argv.slice(1, 4) })}\n`
      );
    } catch {}
  }
  const error = new Error(line);
  error.code = "ECONNREFUSED";
  return error;
};

/** host/port of the arguments `net.Socket#connect` and `net.connect` take; `local` for IPC paths. */
const target = (args) => {
  const first = args[0];
  if (Array.isArray(first)) return target(first); // Node's internal normalized arguments
  if (first !== null && typeof first === "object") {
    if (typeof first.path === "string" && first.path !== "") return { local: true };
    return { host: first.host ?? first.hostname, port: first.port };
  }
  if (typeof first === "string" && !/^\d+$/.test(first)) return { local: true }; // an IPC path
  return { host: typeof args[1] === "string" ? args[1] : undefined, port: first };
};

const socketConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  const t = target(args);
  if (!t.local && !isLoopback(t.host)) {
    const error = refusal(t.host, t.port, "net.Socket#connect");
    process.nextTick(() => this.destroy(error));
    return this;
  }
  return socketConnect.apply(this, args);
};

const refusedSocket = (error) => {
  const socket = new net.Socket();
  process.nextTick(() => socket.destroy(error));
  return socket;
};

for (const name of ["connect", "createConnection"]) {
  const original = net[name];
  net[name] = function (...args) {
    const t = target(args);
    if (!t.local && !isLoopback(t.host)) return refusedSocket(refusal(t.host, t.port, `net.${name}`));
    return original.apply(this, args);
  };
}

const tlsConnect = tls.connect;
tls.connect = function (...args) {
  const first = args[0];
  let host;
  let port;
  if (first !== null && typeof first === "object") {
    if (first.socket) return tlsConnect.apply(this, args); // over a socket that was checked already
    if (typeof first.path === "string" && first.path !== "") return tlsConnect.apply(this, args);
    host = first.host ?? first.servername;
    port = first.port;
  } else {
    port = first;
    host = typeof args[1] === "string" ? args[1] : args[1]?.host;
  }
  if (!isLoopback(host)) return refusedSocket(refusal(host, port, "tls.connect"));
  return tlsConnect.apply(this, args);
};

const lookupError = (host, via) => {
  const error = refusal(host, "dns", via);
  error.code = "ENOTFOUND";
  error.hostname = host;
  return error;
};

const dnsLookup = dns.lookup;
dns.lookup = function (host, options, callback) {
  const cb = typeof options === "function" ? options : callback;
  if (!isLoopback(host)) {
    const error = lookupError(host, "dns.lookup");
    process.nextTick(() => cb(error));
    return {};
  }
  return dnsLookup.apply(this, arguments);
};

const RESOLVERS = [
  "resolve", "resolve4", "resolve6", "resolveAny", "resolveCaa", "resolveCname", "resolveMx", "resolveNaptr",
  "resolveNs", "resolvePtr", "resolveSoa", "resolveSrv", "resolveTxt", "reverse"
];
const guardCallbackResolver = (owner, name) => {
  const original = owner[name];
  if (typeof original !== "function") return;
  owner[name] = function (host, ...rest) {
    if (!isLoopback(host)) {
      const cb = rest.findLast((a) => typeof a === "function");
      const error = lookupError(host, `dns.${name}`);
      if (cb) process.nextTick(() => cb(error));
      return undefined;
    }
    return original.call(this, host, ...rest);
  };
};
const guardPromiseResolver = (owner, name) => {
  const original = owner[name];
  if (typeof original !== "function") return;
  owner[name] = async function (host, ...rest) {
    if (!isLoopback(host)) throw lookupError(host, `dns.promises.${name}`);
    return original.call(this, host, ...rest);
  };
};
for (const name of RESOLVERS) {
  guardCallbackResolver(dns, name);
  guardCallbackResolver(dns.Resolver.prototype, name);
}
if (dns.promises) {
  guardPromiseResolver(dns.promises, "lookup");
  for (const name of RESOLVERS) {
    guardPromiseResolver(dns.promises, name);
    guardPromiseResolver(dns.promises.Resolver.prototype, name);
  }
}

const dgramSend = dgram.Socket.prototype.send;
dgram.Socket.prototype.send = function (...args) {
  // send(msg, [offset, length,] port, [address,] [callback]): the address is the last string.
  const address = args.findLast((a) => typeof a === "string");
  if (address !== undefined && !isLoopback(address)) {
    const cb = args.findLast((a) => typeof a === "function");
    const error = refusal(address, "udp", "dgram.send");
    if (cb) process.nextTick(() => cb(error));
    return;
  }
  return dgramSend.apply(this, args);
};
const dgramConnect = dgram.Socket.prototype.connect;
dgram.Socket.prototype.connect = function (port, address, callback) {
  if (typeof address === "string" && !isLoopback(address)) {
    const cb = typeof callback === "function" ? callback : undefined;
    const error = refusal(address, port, "dgram.connect");
    if (cb) process.nextTick(() => cb(error));
    else process.nextTick(() => this.emit("error", error));
    return;
  }
  return dgramConnect.apply(this, arguments);
};

// The global fetch runs on Node's own undici, which connects through `net`; the wrapper makes the
// refusal name the URL's host and fail the way an unreachable host does.
if (typeof globalThis.fetch === "function") {
  const originalFetch = globalThis.fetch;
  globalThis.fetch = function fetch(input, init) {
    let url;
    try {
      url = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
    } catch {
      return originalFetch.call(this, input, init);
    }
    if ((url.protocol === "http:" || url.protocol === "https:" || url.protocol === "ws:" || url.protocol === "wss:") && !isLoopback(url.hostname)) {
      const port = url.port || (url.protocol === "https:" || url.protocol === "wss:" ? "443" : "80");
      return Promise.reject(new TypeError("fetch failed", { cause: refusal(url.hostname, port, "fetch") }));
    }
    return originalFetch.call(this, input, init);
  };
}

// `import { connect } from "node:net"` (and the like) in modules loaded later see the guarded functions.
syncBuiltinESMExports();
