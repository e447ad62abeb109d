// Log with follow: lines keep arriving after the request; abort ends the stream.
import { collector, deadline, k8s, kubeConfig, report } from './lib.mjs';

deadline(30);
const out = collector();
const started = Date.now();
const controller = await new k8s.Log(kubeConfig()).log('default', 'counter', 'counter', out,
                                                       { follow: true, tailLines: 1 });
const lines = (t) => t.split('\n').filter((l) => l.length > 0);
const text = await out.wait((t) => lines(t).length >= 4);
controller.abort();
report({ lines: lines(text).slice(0, 4), seconds: (Date.now() - started) / 1000 });
