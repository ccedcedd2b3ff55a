#!/usr/bin/env node
// Signs requests with the official Tencent Cloud Node.js SDK's own TC3 signer (Sign.sign3 in
// tencentcloud-sdk-nodejs/tencentcloud/common/sign.js), so that livefour's detail::tc3 can be
// compared with code it did not write. Input: one JSON object per line on stdin; output: one
// Authorization value per line on stdout, in the same order.
//
//   {"method":"POST","host":"faceid.tencentcloudapi.com","query":"","service":"faceid",
//    "content_type":"application/json","payload_b64":"eyJ9","timestamp":1551113065,
//    "secret_id":"AKID...","secret_key":"..."}
//
// The payload travels as base64 and reaches the SDK as a Buffer: sign3 hashes a Buffer's bytes as
// they are (a string or object it would JSON-serialise first). The SDK has no unsigned-payload
// option; passing the 16 bytes "UNSIGNED-PAYLOAD" as the payload makes it hash exactly what the
// Python, Go and Java SDKs hash in that mode (api3.md §2), which is how the caller tests that path.
"use strict";
const readline = require("readline");
const Sign = require("tencentcloud-sdk-nodejs/tencentcloud/common/sign").default;

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
const out = [];
rl.on("line", (line) => {
  if (line.trim() === "") return;
  const r = JSON.parse(line);
  const query = r.query ? "?" + r.query : "";
  out.push(
    Sign.sign3({
      method: r.method,
      url: "https://" + r.host + "/" + query,
      payload: Buffer.from(r.payload_b64, "base64"),
      timestamp: r.timestamp,
      service: r.service,
      secretId: r.secret_id,
      secretKey: r.secret_key,
      multipart: false,
      headers: { "Content-Type": r.content_type },
    }),
  );
});
rl.on("close", () => process.stdout.write(out.map((a) => a + "\n").join("")));
