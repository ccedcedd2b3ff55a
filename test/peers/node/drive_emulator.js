#!/usr/bin/env node
// Drives livefour-emulator with the official Tencent Cloud Node.js SDK, as a user of the SDK
// would call the real service: GetLiveCode, LivenessCompare (LIP, with the code it got) and
// LivenessRecognition, then one call with a wrong key. Prints one JSON object with what the SDK
// returned (or threw) to stdout; the ctest driver (../node_sdk_emulator.py) checks it and the
// emulator's counters.
//
//   node drive_emulator.js PORT CA_PEM VIDEO IMAGE     (TENCENTCLOUD_SECRET_ID/_KEY in the environment)
//
// The SDK keeps its real endpoint, faceid.tencentcloudapi.com: it derives the signing service
// from the host's first label and signs the host without a port, so the name must stay. Only the
// TCP connection is redirected, by an https.Agent whose createConnection dials 127.0.0.1:PORT;
// TLS still sends SNI faceid.tencentcloudapi.com and verifies the emulator's certificate for
// that name (--tls-name) against its CA (--write-ca). Nothing leaves the machine.
"use strict";
const fs = require("fs");
const https = require("https");
const tls = require("tls");
const tencentcloud = require("tencentcloud-sdk-nodejs");

const [port, caFile, videoFile, imageFile] = process.argv.slice(2);
const endpoint = "faceid.tencentcloudapi.com";

class RedirectAgent extends https.Agent {
  createConnection(options, callback) {
    const socket = tls.connect({ ...options, host: "127.0.0.1", port: Number(port), servername: endpoint });
    if (callback) socket.once("secureConnect", () => callback(null, socket));
    return socket;
  }
}

function client(secretKey) {
  return new tencentcloud.faceid.v20180301.Client({
    credential: { secretId: process.env.TENCENTCLOUD_SECRET_ID, secretKey },
    region: "",
    profile: { httpProfile: { endpoint, agent: new RedirectAgent({ ca: fs.readFileSync(caFile), keepAlive: true }) } },
  });
}

async function main() {
  const good = client(process.env.TENCENTCLOUD_SECRET_KEY);
  const video = fs.readFileSync(videoFile).toString("base64");
  const image = fs.readFileSync(imageFile).toString("base64");
  const out = {};
  out.live_code = await good.GetLiveCode({});
  out.compare = await good.LivenessCompare({
    LivenessType: "LIP",
    ValidateData: out.live_code.LiveCode,
    ImageBase64: image,
    VideoBase64: video,
    Optional: JSON.stringify({ BestFrameNum: 2 }),
  });
  out.recognition = await good.LivenessRecognition({
    IdCard: "11010519491231002X",
    Name: "张三",
    LivenessType: "SILENT",
    VideoBase64: video,
  });
  try {
    await client(process.env.TENCENTCLOUD_SECRET_KEY + "x").GetLiveCode({});
    out.wrong_key = { thrown: false };
  } catch (e) {
    out.wrong_key = { thrown: true, code: e.code, requestId: e.requestId };
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}

main().catch((e) => {
  process.stderr.write(`drive_emulator: ${e.code || ""} ${e.message}\n`);
  process.exit(1);
});
