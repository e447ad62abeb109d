// Watch: ADDED, MODIFIED and DELETED of a ConfigMap, in order, then abort the watch.
import { deadline, k8s, kubeConfig, report } from './lib.mjs';

deadline(30);
const kc = kubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const list = await core.listNamespacedConfigMap({ namespace: 'default' });
const events = [];
let done;
const finished = new Promise((resolve) => { done = resolve; });
const controller = await new k8s.Watch(kc).watch(
  '/api/v1/namespaces/default/configmaps',
  { resourceVersion: list.metadata.resourceVersion, allowWatchBookmarks: true },
  (type, obj) => {
    if (type === 'BOOKMARK') return;
    events.push([type, obj.metadata.name, obj.data ? obj.data.a : null]);
    if (type === 'DELETED') done();
  },
  (err) => { if (err && err.name !== 'AbortError') events.push(['error', String(err)]); done(); });
const body = { metadata: { name: 'js-watched' }, data: { a: '1' } };
await core.createNamespacedConfigMap({ namespace: 'default', body });
await core.replaceNamespacedConfigMap({ name: 'js-watched', namespace: 'default',
                                        body: { ...body, data: { a: '2' } } });
await core.deleteNamespacedConfigMap({ name: 'js-watched', namespace: 'default' });
await finished;
controller.abort();
report({ events });
