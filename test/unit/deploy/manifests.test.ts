import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import AjvModule from 'ajv';
import { PersistentVolumeClaim, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../../src/cli.js';
import { translateTritonserverArgv } from '../../../src/commands/tritonserver-argv.js';
import { DataPlane } from '../../../src/server/dataplane.js';
import { createHttpApp } from '../../../src/server/http/app.js';
import { createMetricsApp } from '../../../src/server/metrics/app.js';
import { METRIC_NAMES } from '../../../src/server/metrics/names.js';
import { FakeCatalog, sumModel } from '../../fixtures/fake-models.js';

/**
 * Every manifest under deploy/ checked offline: Kubernetes kinds against kubernetes-models' schemas,
 * ServiceMonitor against @kubernetes-models/prometheus-operator, KServe kinds against their CRDs'
 * OpenAPI schemas (vendored, trimmed: test/data/schemas, scripts/vendor-crd-schemas.py) with unknown
 * fields refused as `kubectl --validate=strict` does; then the ports, paths, flags and metric names the
 * manifests name are checked against the ones the server really uses.
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DEPLOY = path.join(ROOT, 'deploy');

type Doc = Record<string, any>;
interface Manifest {
  readonly file: string;
  readonly doc: Doc;
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? yamlFiles(path.join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? [path.join(dir, e.name)] : [],
  );
}

function load(file: string): Doc[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  for (const d of docs) if (d.errors.length) throw new Error(`${file}: ${d.errors.map((e) => e.message).join('; ')}`);
  return docs.map((d) => d.toJS() as Doc).filter((d) => d !== null);
}

/** Helm values for prometheus-adapter: not a Kubernetes object, checked on its own below. */
const ADAPTER_VALUES = path.join(DEPLOY, 'kubernetes', 'prometheus-adapter-values.yaml');
const files = yamlFiles(DEPLOY).sort();
const manifests: Manifest[] = files.filter((f) => f !== ADAPTER_VALUES).flatMap((file) => load(file).map((doc) => ({ file, doc })));
const rel = (f: string) => path.relative(ROOT, f);
const one = (kind: string, dir?: string): Doc => {
  const found = manifests.filter((m) => m.doc.kind === kind && (!dir || m.file.includes(`/deploy/${dir}/`)));
  expect(found, `one ${kind}${dir ? ` in deploy/${dir}` : ''}`).toHaveLength(1);
  return (found[0] as Manifest).doc;
};

// ── KServe: the CRDs' schemas, strict about unknown fields ─────────────────────────────────────────
const Ajv = (AjvModule as unknown as { default?: typeof AjvModule }).default ?? AjvModule;
/** kubectl --validate=strict: an object schema that lists properties accepts no others. */
function strict(schema: Doc): Doc {
  if (typeof schema !== 'object' || schema === null) return schema;
  const out: Doc = Array.isArray(schema) ? [...schema] : { ...schema };
  for (const [k, v] of Object.entries(out)) if (typeof v === 'object' && v !== null) out[k] = strict(v as Doc);
  if (out.properties && out.additionalProperties === undefined && !out['x-kubernetes-preserve-unknown-fields']) out.additionalProperties = false;
  return out;
}
function crdValidator(file: string): { apiVersion: string; kind: string; validate: (doc: Doc) => string[] } {
  const vendored = JSON.parse(readFileSync(path.join(ROOT, 'test', 'data', 'schemas', file), 'utf8')) as Doc;
  const ajv = new (Ajv as unknown as new (o: object) => { compile: (s: Doc) => ((d: unknown) => boolean) & { errors?: Array<{ instancePath: string; message?: string; params?: unknown }> } })({
    strict: false,
    allErrors: true,
    validateFormats: false,
  });
  const check = ajv.compile(strict(vendored.schema as Doc));
  return {
    apiVersion: vendored.apiVersion as string,
    kind: vendored.kind as string,
    validate: (doc) => (check(doc) ? [] : (check.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`)),
  };
}
const KSERVE = [crdValidator('kserve-clusterservingruntime.json'), crdValidator('kserve-inferenceservice.json')];

/** Validation by apiVersion + kind; a manifest of any other kind fails the test (no unchecked kinds). */
function validate(doc: Doc): string[] {
  const id = `${doc.apiVersion}/${doc.kind}`;
  const model = (M: new (d: Doc) => { validate(): void }): string[] => {
    try {
      new M(doc).validate();
      return [];
    } catch (e) {
      return [(e as Error).message];
    }
  };
  switch (id) {
    case 'apps/v1/Deployment':
      return model(Deployment as unknown as new (d: Doc) => { validate(): void });
    case 'v1/Service':
      return model(Service as unknown as new (d: Doc) => { validate(): void });
    case 'v1/PersistentVolumeClaim':
      return model(PersistentVolumeClaim as unknown as new (d: Doc) => { validate(): void });
    case 'autoscaling/v2/HorizontalPodAutoscaler':
      return model(HorizontalPodAutoscaler as unknown as new (d: Doc) => { validate(): void });
    case 'monitoring.coreos.com/v1/ServiceMonitor':
      return model(ServiceMonitor as unknown as new (d: Doc) => { validate(): void });
    case 'kustomize.config.k8s.io/v1beta1/Kustomization':
      return [];
    default: {
      const crd = KSERVE.find((k) => `${k.apiVersion}/${k.kind}` === id);
      return crd ? crd.validate(doc) : [`no schema for ${id}`];
    }
  }
}

describe('deploy/ manifests are valid', () => {
  it('finds the KServe and Kubernetes manifests', () => {
    expect(manifests.map((m) => `${rel(m.file)}:${m.doc.kind}`)).toEqual([
      'deploy/kserve/cluster-serving-runtime.yaml:ClusterServingRuntime',
      'deploy/kserve/inference-service.yaml:InferenceService',
      'deploy/kserve/kustomization.yaml:Kustomization',
      'deploy/kubernetes/deployment.yaml:Deployment',
      'deploy/kubernetes/hpa.yaml:HorizontalPodAutoscaler',
      'deploy/kubernetes/kustomization.yaml:Kustomization',
      'deploy/kubernetes/model-repository-pvc.yaml:PersistentVolumeClaim',
      'deploy/kubernetes/service.yaml:Service',
      'deploy/kubernetes/servicemonitor.yaml:ServiceMonitor',
    ]);
  });

  it.each(manifests.map((m) => [`${rel(m.file)} (${m.doc.kind})`, m.doc] as const))('%s validates against its schema', (_name, doc) => {
    expect(validate(doc)).toEqual([]);
  });

  it('the validators catch mistakes (so a pass means something)', () => {
    const csr = structuredClone(one('ClusterServingRuntime'));
    csr.spec.supportedModelFormat = csr.spec.supportedModelFormats; // typo'd field
    expect(validate(csr).join()).toMatch(/additional properties/);
    const isvc = structuredClone(one('InferenceService'));
    isvc.spec.predictor.minReplicas = 'one';
    expect(validate(isvc).join()).toMatch(/minReplicas must be integer/);
    const deployment = structuredClone(one('Deployment'));
    deployment.spec.template.spec.containers[0].ports[0].containerPort = 'http';
    expect(validate(deployment).join()).toMatch(/containerPort must be integer/);
    const monitor = structuredClone(one('ServiceMonitor'));
    monitor.spec.endpoints = 'metrics';
    expect(validate(monitor).length).toBeGreaterThan(0);
    expect(validate({ apiVersion: 'v1', kind: 'Pod' })).toEqual(['no schema for v1/Pod']);
  });

  it('each kustomization lists every manifest of its folder, and only existing files', () => {
    for (const dir of ['kserve', 'kubernetes']) {
      const k = one('Kustomization', dir);
      const listed = (k.resources as string[]).map((r) => path.join(DEPLOY, dir, r));
      for (const f of listed) expect(existsSync(f), rel(f)).toBe(true);
      const expected = files.filter((f) => path.dirname(f) === path.join(DEPLOY, dir) && !/kustomization\.yaml$/.test(f) && f !== ADAPTER_VALUES);
      expect(listed.sort()).toEqual(expected.sort());
    }
  });
});

describe('deploy/ manifests match the server', () => {
  const serve = buildProgram().commands.find((c) => c.name() === 'serve');
  const serveFlags = new Set((serve?.options ?? []).map((o) => o.long).filter((l): l is string => l !== undefined));
  const defaultOf = (flag: string): unknown => serve?.options.find((o) => o.long === flag)?.defaultValue;
  const deployment = one('Deployment');
  const container = deployment.spec.template.spec.containers[0] as Doc;
  const portsByName = Object.fromEntries((container.ports as Doc[]).map((p) => [p.name, p.containerPort]));

  it("uses serve's default ports for http, grpc and metrics, in the Deployment and the Service", () => {
    const defaults = { http: defaultOf('--http-port'), grpc: defaultOf('--grpc-port'), metrics: defaultOf('--metrics-port') };
    expect(defaults).toEqual({ http: 8000, grpc: 8001, metrics: 8002 });
    expect(portsByName).toEqual(defaults);
    const service = one('Service');
    expect(Object.fromEntries((service.spec.ports as Doc[]).map((p) => [p.name, [p.port, p.targetPort]]))).toEqual({
      http: [8000, 'http'],
      grpc: [8001, 'grpc'],
      metrics: [8002, 'metrics'],
    });
    expect(service.spec.selector).toEqual(deployment.spec.template.metadata.labels);
  });

  it('passes serve only flags serve has, and mounts the repository it names', () => {
    const [command, ...flags] = container.args as string[];
    expect(command).toBe('serve');
    for (const f of flags) expect(serveFlags.has(f.split('=')[0] as string), f).toBe(true);
    const store = flags.find((f) => f.startsWith('--model-store='))?.split('=')[1];
    const mount = (container.volumeMounts as Doc[]).find((m) => m.mountPath === store);
    expect(mount?.readOnly).toBe(true);
    const volume = (deployment.spec.template.spec.volumes as Doc[]).find((v) => v.name === mount?.name);
    expect(volume?.persistentVolumeClaim?.claimName).toBe(one('PersistentVolumeClaim').metadata.name);
  });

  it('probes paths the HTTP endpoint serves with 200 once the models are ready', async () => {
    const app = createHttpApp({ dataplane: new DataPlane({ catalog: new FakeCatalog().add(sumModel()) }), bodyLimit: 1024 });
    try {
      const probes = ['startupProbe', 'livenessProbe', 'readinessProbe'].map((p) => container[p]?.httpGet as Doc);
      expect(probes.map((p) => p.path)).toEqual(['/v2/health/live', '/v2/health/live', '/v2/health/ready']);
      for (const probe of probes) {
        expect(probe.port).toBe('http');
        expect((await app.inject({ method: 'GET', url: probe.path as string })).statusCode, probe.path).toBe(200);
      }
      // the startup probe waits long enough for a model load (the container smoke test measures ~30-50 s)
      expect(container.startupProbe.periodSeconds * container.startupProbe.failureThreshold).toBeGreaterThanOrEqual(180);
    } finally {
      await app.close();
    }
  });

  it('runs as the non-root user of the image, without privilege escalation', () => {
    const containerfile = readFileSync(path.join(ROOT, 'Containerfile'), 'utf8');
    const user = /^USER (\d+):(\d+)$/m.exec(containerfile);
    expect(user).not.toBeNull();
    const pod = deployment.spec.template.spec.securityContext as Doc;
    expect(pod).toMatchObject({ runAsNonRoot: true, runAsUser: Number(user?.[1]), runAsGroup: Number(user?.[2]) });
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(one('ClusterServingRuntime').spec.containers[0].securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: Number(user?.[1]) });
  });

  it('scrapes the metrics endpoint where it is, and the adapter rule reads metric names the server exports', async () => {
    const monitor = one('ServiceMonitor');
    const endpoint = monitor.spec.endpoints[0] as Doc;
    expect(endpoint.port).toBe('metrics');
    expect(monitor.spec.selector.matchLabels).toEqual(one('Service').metadata.labels);
    const metrics = createMetricsApp(new FakeCatalog().add(sumModel()));
    try {
      const res = await metrics.inject({ method: 'GET', url: endpoint.path as string });
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain(`# TYPE ${METRIC_NAMES.queueDuration} counter`);
      expect(res.body).toContain(`# TYPE ${METRIC_NAMES.requestSuccess} counter`);
    } finally {
      await metrics.close();
    }

    const values = load(ADAPTER_VALUES)[0] as Doc;
    const rule = values.rules.custom[0] as Doc;
    expect(rule.seriesQuery).toContain(METRIC_NAMES.queueDuration);
    expect(rule.name.matches).toBe(METRIC_NAMES.queueDuration);
    expect(rule.metricsQuery).toContain(`delta(${METRIC_NAMES.queueDuration}{<<.LabelMatchers>>}[30s])`);
    expect(rule.metricsQuery).toContain(`delta(${METRIC_NAMES.requestSuccess}{<<.LabelMatchers>>}[30s])`);
    const hpa = one('HorizontalPodAutoscaler');
    expect(hpa.spec.metrics[0].pods.metric.name).toBe(rule.name.as);
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: deployment.metadata.name });
  });

  it("gives the KServe container KServe's Triton command line, which ofserve reads without a warning", () => {
    const csr = one('ClusterServingRuntime');
    const args = csr.spec.containers[0].args as string[];
    expect(args).toEqual(['tritonserver', '--model-store=/mnt/models', '--grpc-port=9000', '--http-port=8080', '--allow-grpc=true', '--allow-http=true']);
    const translated = translateTritonserverArgv(args.slice(1), serveFlags);
    expect(translated.warning).toBeUndefined();
    expect(translated.argv[0]).toBe('serve');
    expect(csr.spec.annotations).toEqual({ 'prometheus.kserve.io/port': String(defaultOf('--metrics-port')), 'prometheus.kserve.io/path': '/metrics' });
    expect((csr.spec.supportedModelFormats as Doc[]).map((f) => f.name).sort()).toEqual(['oneflow', 'onnx']);
    const isvc = one('InferenceService');
    expect(isvc.spec.predictor.model.runtime).toBe(csr.metadata.name);
    expect(isvc.spec.predictor.model.modelFormat.name).toBe('oneflow');
  });
});
