// Self-check of the isolation, run by the suite before any scenario, under each Node it uses:
//   NODE_OPTIONS=--require=interop/guard.cjs node interop/guard-check.mjs   -> one JSON object on stdout
// With the guard loaded, every way out below must be refused (the suite then finds one line per
// attempt in the guard's log, the worker thread's included) and loopback must still work.
// Without the guard, inside the network namespace, the same attempts show what the namespace
// alone does (the suite expects every one to fail there as well).
import dgram from "node:dgram";
import dns from "node:dns";
import http from "node:http";
import * as netNamed from "node:net";
import net from "node:net";
import { Worker } from "node:worker_threads";

const outside = "192.0.2.1"; // TEST-NET-1: never routed
const workerTarget = "192.0.2.2";
const attempts = {};
const settle = (p, ms = 8000) =>
  Promise.race([p, new Promise((resolve) => setTimeout(() => resolve("timeout"), ms))]);

const tcp = (connect) =>
  settle(new Promise((resolve) => {
    const socket = connect();
    socket.once("connect", () => {
      socket.destroy();
      resolve("connected");
    });
    socket.once("error", (e) => resolve(`error ${e.code ?? e.message}`));
  }), 4000);

attempts.fetchQwen = await settle(
  fetch("https://chat.qwen.ai/api/v1/oauth2/token").then((r) => `answered ${r.status}`, (e) => `error ${e.cause?.code ?? e.message}`)
);
attempts.netConnect = await tcp(() => net.connect(443, outside));
attempts.netNamedConnect = await tcp(() => netNamed.connect({ host: outside, port: 443 }));
attempts.socketConnect = await tcp(() => new net.Socket().connect(443, outside));
attempts.httpsGet = await settle(
  import("node:https").then((https) =>
    new Promise((resolve) => {
      https.get("https://registry.npmjs.org/", (r) => resolve(`answered ${r.statusCode}`)).on("error", (e) => resolve(`error ${e.code ?? e.message}`));
    })
  )
);
attempts.dnsLookup = await settle(dns.promises.lookup("chat.qwen.ai").then((a) => `resolved ${a.address}`, (e) => `error ${e.code}`));
attempts.dnsResolve = await settle(dns.promises.resolve4("portal.qwen.ai").then((a) => `resolved ${a}`, (e) => `error ${e.code}`));
attempts.udp = await settle(new Promise((resolve) => {
  const s = dgram.createSocket("udp4");
  s.send("x", 53, "8.8.8.8", (e) => {
    s.close();
    resolve(e ? `error ${e.code ?? e.message}` : "sent");
  });
}));
attempts.worker = await settle(new Promise((resolve) => {
  const w = new Worker(
    `const net = require("node:net"); const s = net.connect(443, ${JSON.stringify(workerTarget)});
     s.once("connect", () => { s.destroy(); require("node:worker_threads").parentPort.postMessage("connected"); });
     s.once("error", (e) => require("node:worker_threads").parentPort.postMessage("error " + (e.code ?? e.message)));`,
    { eval: true }
  );
  w.once("message", (m) => {
    resolve(m);
    void w.terminate();
  });
  w.once("error", (e) => resolve(`worker failed ${e.message}`));
}));

const server = http.createServer((_req, res) => res.end("ok")).listen(0, "127.0.0.1");
await new Promise((resolve) => server.once("listening", resolve));
const { port } = server.address();
attempts.loopbackFetch = await settle(fetch(`http://127.0.0.1:${port}/`).then((r) => r.text(), (e) => `error ${e.cause?.code ?? e.message}`));
attempts.localhostFetch = await settle(fetch(`http://localhost:${port}/`).then((r) => r.text(), (e) => `error ${e.cause?.code ?? e.message}`));
server.close();

process.stdout.write(`${JSON.stringify({ node: process.version, attempts })}\n`);
process.exit(0);
