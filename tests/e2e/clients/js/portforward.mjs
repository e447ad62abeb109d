// PortForward to nginx: an HTTP GET through the tunnel returns the page; port 81 (nobody
// listening) reports the kubelet's error on the error stream.
import { PassThrough } from 'node:stream';
import { collector, deadline, k8s, kubeConfig, report } from './lib.mjs';

deadline(30);
const kc = kubeConfig();

async function forward(port, request) {
  const out = collector();
  const err = collector();
  const input = new PassThrough();
  const ws = await new k8s.PortForward(kc).portForward('default', 'ng', [port], out, err,
                                                        input);
  const closed = new Promise((resolve) => ws.on('close', resolve));
  if (request) input.write(request);
  return { ws, out, err, closed };
}

const web = await forward(80, 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
await web.closed; // the server closes once nginx has closed the connection
const refused = await forward(81, null);
await refused.err.wait((t) => t.length > 0);
refused.ws.close();
report({ page: web.out.text(), pageError: web.err.text(), refusedError: refused.err.text() });
