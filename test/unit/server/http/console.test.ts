import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createHttpApp } from '../../../../src/server/http/app.js';
import { CONSOLE_ASSETS_DIR, type ConsoleOptions } from '../../../../src/server/http/console.js';
import { DataPlane } from '../../../../src/server/dataplane.js';
import { FakeCatalog, sumModel } from '../../../fixtures/fake-models.js';
import { REPO_ROOT } from '../../../fixtures/models.js';

function app(console?: ConsoleOptions) {
  const catalog = new FakeCatalog().add(sumModel());
  return createHttpApp({ dataplane: new DataPlane({ catalog }), console });
}

describe('web console routes', () => {
  it('links / to /console and serves the page, script and style with a same-origin CSP', async () => {
    const a = app({ controlMode: 'explicit' });
    const root = await a.inject({ method: 'GET', url: '/' });
    expect(root.statusCode).toBe(200);
    expect(root.body).toContain('href="/console"');
    const page = await a.inject({ method: 'GET', url: '/console' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    // Offline: nothing but same-origin references in the page and its script.
    const script = await a.inject({ method: 'GET', url: '/console/console.js' });
    expect(script.headers['content-type']).toMatch(/javascript/);
    for (const body of [page.body, script.body]) expect(body.replace('http://www.w3.org/2000/svg', '')).not.toMatch(/https?:\/\//);
    expect((await a.inject({ method: 'GET', url: '/console/console.css' })).statusCode).toBe(200);
    await a.close();
  });

  it('tells the page the control mode and whether metrics exist', async () => {
    const on = app({ controlMode: 'explicit', metricsText: async () => 'nv_x 1\n' });
    expect(JSON.parse((await on.inject({ method: 'GET', url: '/console/settings.json' })).body)).toEqual({
      controlMode: 'explicit',
      restrictedApis: [],
      metrics: true,
    });
    expect((await on.inject({ method: 'GET', url: '/console/metrics' })).body).toBe('nv_x 1\n');
    const off = app({ controlMode: 'none' });
    expect((await off.inject({ method: 'GET', url: '/console/metrics' })).statusCode).toBe(404);
    await on.close();
    await off.close();
  });

  it('serves only the listed assets', async () => {
    const a = app({ controlMode: 'none' });
    for (const url of ['/console/..%2F..%2Fapp.ts', '/console/..%2Fconsole.ts', '/console/toString', '/console/constructor', '/console/index.htm']) {
      expect((await a.inject({ method: 'GET', url })).statusCode, url).toBe(404);
    }
    await a.close();
  });

  it('is absent when --allow-console=false (no console option)', async () => {
    const a = app(undefined);
    for (const url of ['/', '/console', '/console/console.js']) expect((await a.inject({ method: 'GET', url })).statusCode, url).toBe(404);
    // The Triton API is unchanged either way.
    expect((await a.inject({ method: 'GET', url: '/v2/health/live' })).statusCode).toBe(200);
    await a.close();
  });

  it('reads its assets from src/, which the package ships', async () => {
    const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { files: string[] };
    expect(CONSOLE_ASSETS_DIR.startsWith(join(REPO_ROOT, 'src'))).toBe(true);
    expect(pkg.files).toContain('src');
    await expect(readFile(join(CONSOLE_ASSETS_DIR, 'index.html'), 'utf8')).resolves.toContain('console.js');
  });
});
