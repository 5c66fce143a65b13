#!/usr/bin/env python3
"""Vendors the OpenAPI schemas of KServe's CRDs that deploy/kserve uses into test/data/schemas/, trimmed.

Usage: [KSERVE_COMMIT=sha] scripts/vendor-crd-schemas.py KSERVE_CHECKOUT   (needs PyYAML)

Trimmed to what the manifests use: along every path a manifest sets, the schema is kept as KServe wrote
it (types, enums, required, every property name at that level); properties no manifest sets become {}
(anything), and descriptions are dropped. test/unit/deploy/manifests.test.ts then forbids properties a
schema does not name (kubectl --validate=strict), so a typo fails while a field KServe knows but no
manifest uses yet still passes. Re-run after adding a field to a manifest under a property shown as {}.
"""
import json, os, subprocess, sys, pathlib, yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
CRDS = {
    'ClusterServingRuntime': ('config/crd/full/serving.kserve.io_clusterservingruntimes.yaml', 'v1alpha1'),
    'InferenceService': ('config/crd/full/serving.kserve.io_inferenceservices.yaml', 'v1beta1'),
}

def merge(values):
    """One sample standing for every element of a list: the union of their keys (first value wins)."""
    if all(isinstance(v, dict) for v in values):
        out = {}
        for v in values:
            for k, x in v.items():
                out[k] = merge([out[k], x]) if k in out and isinstance(x, (dict, list)) else out.get(k, x)
        return out
    return values[0]

def trim(schema, value):
    out = {k: v for k, v in schema.items() if k not in ('description', 'properties', 'items')}
    if 'properties' in schema:
        used = value if isinstance(value, dict) else {}
        out['properties'] = {k: (trim(s, used[k]) if k in used else {}) for k, s in schema['properties'].items()}
    if 'items' in schema:
        out['items'] = trim(schema['items'], merge(value) if isinstance(value, list) and value else None) if isinstance(value, list) and value else {}
    return out

def main():
    checkout = pathlib.Path(sys.argv[1])
    commit = os.environ.get('KSERVE_COMMIT') or subprocess.run(['git', '-C', str(checkout), 'rev-parse', 'HEAD'], capture_output=True, text=True).stdout.strip() or 'unknown'
    manifests = [d for f in sorted((ROOT / 'deploy').rglob('*.yaml')) for d in yaml.safe_load_all(f.read_text()) if isinstance(d, dict)]
    for kind, (path, version) in CRDS.items():
        crd = yaml.safe_load((checkout / path).read_text())
        schema = next(v for v in crd['spec']['versions'] if v['name'] == version)['schema']['openAPIV3Schema']
        uses = [m for m in manifests if m.get('kind') == kind]
        trimmed = trim(schema, merge(uses) if uses else {})
        out = {
            '$comment': f'Trimmed from https://github.com/kserve/kserve/blob/{commit}/{path} ({version}) by scripts/vendor-crd-schemas.py (Apache-2.0)',
            'apiVersion': f"{crd['spec']['group']}/{version}",
            'kind': kind,
            'schema': trimmed,
        }
        target = ROOT / 'test' / 'data' / 'schemas' / f'kserve-{kind.lower()}.json'
        target.write_text(json.dumps(out, indent=1, sort_keys=False) + '\n')
        print(f'{target.relative_to(ROOT)}: {target.stat().st_size} bytes')

main()
