// Attach to a running container with stdin: its answers come back on stdout.
import { PassThrough } from 'node:stream';
import { collector, deadline, k8s, kubeConfig, report } from './lib.mjs';

deadline(30);
const stdout = collector();
const stdin = new PassThrough();
const ws = await new k8s.Attach(kubeConfig()).attach('default', 'att', 'att', stdout,
                                                     collector(), stdin, false);
stdin.write('from js\n');
const text = await stdout.wait((t) => t.includes('got from js\n'));
ws.close();
report({ stdout: text });
