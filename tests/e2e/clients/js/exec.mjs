// Exec with stdin: what is written reaches the process; stdin's end (v5 CLOSE) is its EOF;
// the exit code arrives in the Status on channel 3; the server closes the WebSocket.
import { PassThrough } from 'node:stream';
import { collector, deadline, k8s, kubeConfig, report } from './lib.mjs';

deadline(30);
const stdout = collector();
const stderr = collector();
const stdin = new PassThrough();
let status = null;
const ws = await new k8s.Exec(kubeConfig()).exec(
  'default', 'bb', 'bb', ['sh', '-c', 'cat; echo bye >&2; exit 3'], stdout, stderr, stdin,
  false, (s) => { status = s; });
stdin.write('test string 1\n');
await stdout.wait((t) => t.includes('test string 1\n'));
stdin.end();
ws.on('close', () => report({ protocol: ws.protocol, stdout: stdout.text(),
                              stderr: stderr.text(), status }));
