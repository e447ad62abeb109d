// Shared by the scenario scripts: the kubeconfig from argv[2], a deadline, JSON output.
import * as k8s from '@kubernetes/client-node';
import { Writable } from 'node:stream';

export function kubeConfig() {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(process.argv[2]);
  return kc;
}

// Fail (exit 2) if the scenario has not finished within `seconds`.
export function deadline(seconds) {
  const timer = setTimeout(() => {
    console.error(`scenario did not finish within ${seconds}s`);
    process.exit(2);
  }, seconds * 1000);
  timer.unref();
}

// Print the scenario's result as one JSON line and end the process.
export function report(result) {
  process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(0));
}

// A Writable collecting what is written to it as text; `wait(pred)` resolves once pred(text).
export function collector() {
  let text = '';
  const waiters = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      text += chunk.toString();
      for (const w of [...waiters]) {
        if (w.pred(text)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(text);
        }
      }
      done();
    },
  });
  sink.text = () => text;
  sink.wait = (pred) => new Promise((resolve) => {
    if (pred(text)) resolve(text); else waiters.push({ pred, resolve });
  });
  return sink;
}

export { k8s };
