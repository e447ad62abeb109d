// An informer (list, then watch): add, update and delete callbacks and its cache.
import { deadline, k8s, kubeConfig, report } from './lib.mjs';

deadline(30);
const kc = kubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const selector = 'js-inf=yes';
const labels = { 'js-inf': 'yes' };
await core.createNamespacedConfigMap({ namespace: 'default',
  body: { metadata: { name: 'js-inf-a', labels }, data: { v: '1' } } });
const informer = k8s.makeInformer(kc, '/api/v1/namespaces/default/configmaps',
  () => core.listNamespacedConfigMap({ namespace: 'default', labelSelector: selector }),
  selector);
const events = [];
let done;
const finished = new Promise((resolve) => { done = resolve; });
informer.on('add', (o) => events.push(['add', o.metadata.name]));
informer.on('update', (o) => events.push(['update', o.metadata.name, o.data.v]));
informer.on('delete', (o) => { events.push(['delete', o.metadata.name]); done(); });
let stopping = false; // stop() aborts the watch, which the informer reports as an error
informer.on('error', (err) => { if (!stopping) { events.push(['error', String(err)]); done(); } });
await informer.start();
const listed = informer.list('default').map((o) => o.metadata.name);
await core.createNamespacedConfigMap({ namespace: 'default',
  body: { metadata: { name: 'js-inf-b', labels }, data: { v: '1' } } });
await core.patchNamespacedConfigMap({ name: 'js-inf-a', namespace: 'default',
  body: [{ op: 'replace', path: '/data/v', value: '2' }] });
await new Promise((resolve) => {
  const poll = setInterval(() => {
    if (events.some((e) => e[0] === 'update')) { clearInterval(poll); resolve(); }
  }, 50);
});
await core.deleteNamespacedConfigMap({ name: 'js-inf-b', namespace: 'default' });
await finished;
const cached = informer.list('default').map((o) => o.metadata.name).sort();
stopping = true;
await informer.stop();
report({ listed, events, cached });
