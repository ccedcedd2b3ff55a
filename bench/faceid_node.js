#!/usr/bin/env node
// faceid_node.js — the official Tencent Cloud Node.js SDK (tencentcloud-sdk-nodejs, the version
// pinned in test/peers/node/package.json, installed by scripts/setup.sh) as the peer of
// `livefour-bench faceid-compare` (bench/scenarios_faceid.py): N LivenessCompare calls by C
// concurrent callers sharing one SDK client, against the benchmark sink or any API 3.0 server.
//
//   node bench/faceid_node.js --port P --ca CA.pem --video V --image I --count N --concurrency C
//                             [--servername localhost] [--encode-once] [--no-warmup]
//
// What every call does, as an application using the SDK would: read the video and the photo
// from their files and base64-encode them (the SDK takes the base64 strings), then
// client.LivenessCompare({LivenessType: "LIP", ValidateData: "1234", ImageBase64, VideoBase64}):
// the SDK serialises the JSON (twice: once for the TC3 payload hash, once for the body), hashes
// it, signs and posts it with node-fetch. --encode-once reads and encodes the two files once, at
// start (the SDK's best case: only its own work per call is measured).
//
// The SDK keeps its real endpoint, faceid.tencentcloudapi.com (it takes the signing service from
// the host's first label and signs the host without a port); only the TCP connection is
// redirected to 127.0.0.1:PORT by an https.Agent (as test/peers/node/drive_emulator.js does),
// with TLS verification on against CA.pem for --servername (the test certificate's name).
// keepAlive, at most C sockets. With warm-up (the default) C concurrent GetLiveCode calls open
// the C connections first; only the compares are timed.
//
// Prints one JSON line: the timed loop's wall time, CPU (process.cpuUsage), latencies, and the
// sink's per-call byte counts ("received=N" in Description).
"use strict";
const fs = require("fs");
const https = require("https");
const path = require("path");
const tls = require("tls");

const peer = path.join(__dirname, "..", "test", "peers", "node");
const tencentcloud = require(require.resolve("tencentcloud-sdk-nodejs", { paths: [peer] }));
const sdkVersion = require(require.resolve("tencentcloud-sdk-nodejs/package.json", { paths: [peer] })).version;

function parseArgs(argv) {
  const a = { servername: "localhost", encodeOnce: false, warmup: true, count: 1, concurrency: 1 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => {
      if (i + 1 >= argv.length) throw new Error(`missing value after ${k}`);
      return argv[++i];
    };
    if (k === "--port") a.port = Number(v());
    else if (k === "--ca") a.ca = v();
    else if (k === "--video") a.video = v();
    else if (k === "--image") a.image = v();
    else if (k === "--count") a.count = Number(v());
    else if (k === "--concurrency") a.concurrency = Number(v());
    else if (k === "--servername") a.servername = v();
    else if (k === "--encode-once") a.encodeOnce = true;
    else if (k === "--no-warmup") a.warmup = false;
    else throw new Error(`unknown argument ${k}`);
  }
  if (!a.port || !a.ca || !a.video || !a.image) throw new Error("--port, --ca, --video and --image are required");
  return a;
}

const endpoint = "faceid.tencentcloudapi.com";

function percentile(v, q) {
  if (!v.length) return 0;
  const s = [...v].sort((x, y) => x - y);
  const rank = Math.max(1, Math.ceil(q * s.length));
  return s[Math.min(s.length, rank) - 1];
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const rssBefore = process.memoryUsage().rss;
  class RedirectAgent extends https.Agent {
    createConnection(options, callback) {
      const socket = tls.connect({ ...options, host: "127.0.0.1", port: a.port, servername: a.servername });
      if (callback) socket.once("secureConnect", () => callback(null, socket));
      return socket;
    }
  }
  const agent = new RedirectAgent({ ca: fs.readFileSync(a.ca), keepAlive: true, maxSockets: a.concurrency });
  const client = new tencentcloud.faceid.v20180301.Client({
    credential: { secretId: "AKIDEXAMPLE", secretKey: "SECRETKEYEXAMPLE" },
    region: "",
    profile: { httpProfile: { endpoint, agent } },
  });

  if (a.warmup) await Promise.all(Array.from({ length: a.concurrency }, () => client.GetLiveCode({})));

  let once = null;
  if (a.encodeOnce)
    once = { video: fs.readFileSync(a.video).toString("base64"), image: fs.readFileSync(a.image).toString("base64") };

  const received = [];
  const lat = [];
  let failures = 0;
  let next = 0;
  const worker = async () => {
    while (next++ < a.count) {
      const t0 = process.hrtime.bigint();
      try {
        let video, image;
        if (once) ({ video, image } = once);
        else {
          const [v, i] = await Promise.all([fs.promises.readFile(a.video), fs.promises.readFile(a.image)]);
          video = v.toString("base64");
          image = i.toString("base64");
        }
        const r = await client.LivenessCompare({
          LivenessType: "LIP",
          ValidateData: "1234",
          ImageBase64: image,
          VideoBase64: video,
        });
        if (r.Result !== "Success") throw new Error(`unexpected reply ${JSON.stringify(r).slice(0, 200)}`);
        // The sink's count of the body bytes (0 from a server that does not say it).
        const m = /^received=(\d+)$/.exec(r.Description || "");
        received.push(m ? Number(m[1]) : 0);
        lat.push(Number(process.hrtime.bigint() - t0) / 1e9);
      } catch (e) {
        if (++failures <= 5) process.stderr.write(`faceid_node: ${e.code || ""} ${e.message}\n`);
      }
    }
  };
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: a.concurrency }, worker));
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  agent.destroy();
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const out = {
    tool: "node-sdk",
    sdk_version: sdkVersion,
    node_version: process.version,
    node_openssl: process.versions.openssl,
    concurrency: a.concurrency,
    encode_once: a.encodeOnce,
    count: lat.length,
    seconds: secs,
    req_per_s: lat.length / secs,
    p50_ms: percentile(lat, 0.5) * 1e3,
    p99_ms: percentile(lat, 0.99) * 1e3,
    received_total: received.reduce((x, y) => x + y, 0),
    received_min: received.length ? Math.min(...received) : 0,
    received_max: received.length ? Math.max(...received) : 0,
    measured_cpu_s: cpuS,
    measured_cpu_user_s: cpu.user / 1e6,
    measured_cpu_sys_s: cpu.system / 1e6,
    cpu_ms_per_req: lat.length ? (cpuS / lat.length) * 1e3 : 0,
    rss_before_kib: Math.round(rssBefore / 1024),
    failures,
  };
  process.stdout.write(JSON.stringify(out) + "\n");
  process.exitCode = failures ? 1 : 0;
}

main().catch((e) => {
  process.stderr.write(`faceid_node: ${e.code || ""} ${e.message}\n`);
  process.exit(1);
});
