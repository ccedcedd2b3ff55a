#!/usr/bin/env node
// The official SDK's whole client (not only its signer) against test/peers/tc3_peer.py: calls
// GetLiveCode once without a region and once with ap-guangzhou, keeping the real endpoint name
// and redirecting the connection to 127.0.0.1:PORT. The peer records each request (region, host,
// signed headers, signature verdict); tc3_peer_selftest.py reads the records. The peer's test
// certificate does not name faceid.tencentcloudapi.com, so this probe skips certificate
// verification: it is about the requests the SDK sends, over loopback only.
//
//   node sdk_client_probe.js PORT SECRET_ID SECRET_KEY
"use strict";
const https = require("https");
const tls = require("tls");
const tencentcloud = require("tencentcloud-sdk-nodejs");

const [port, secretId, secretKey] = process.argv.slice(2);

class RedirectAgent extends https.Agent {
  createConnection(options, callback) {
    const socket = tls.connect({ ...options, host: "127.0.0.1", port: Number(port), rejectUnauthorized: false });
    if (callback) socket.once("secureConnect", () => callback(null, socket));
    return socket;
  }
}

(async () => {
  const out = [];
  for (const region of ["", "ap-guangzhou"]) {
    const c = new tencentcloud.faceid.v20180301.Client({
      credential: { secretId, secretKey },
      region,
      profile: { httpProfile: { endpoint: "faceid.tencentcloudapi.com", agent: new RedirectAgent() } },
    });
    out.push(await c.GetLiveCode({}));
  }
  process.stdout.write(JSON.stringify(out) + "\n");
})().catch((e) => {
  process.stderr.write(`sdk_client_probe: ${e.code || ""} ${e.message}\n`);
  process.exit(1);
});
