// Tidy checks on the UI's own source: the architecture invariants, tested like code.

import { describe, expect, it } from 'vitest';

const sources = import.meta.glob(['/src/**/*.ts', '/src/**/*.svelte', '!/src/lib/bindings/**'], {
  query: '?raw',
  import: 'default',
  eager: true,
}) as Record<string, string>;

describe('source tidiness', () => {
  it('finds the sources', () => {
    expect(Object.keys(sources).length).toBeGreaterThan(20);
  });

  it('talks to Tauri only in src/lib/backend.ts', () => {
    const offenders = Object.entries(sources)
      .filter(([path, text]) => path !== '/src/lib/backend.ts' && /from\s+['"]@tauri-apps\//.test(text))
      .map(([path]) => path);
    expect(offenders).toEqual([]);
  });

  it('keeps Chinese text in the catalogue, not in components or logic', () => {
    const allowed = (path: string) =>
      path.startsWith('/src/lib/i18n/') || path.endsWith('.test.ts') || path.endsWith('/fixtures.ts');
    const han = /\p{Script=Han}/u;
    const offenders = Object.entries(sources)
      .filter(([path]) => !allowed(path))
      // Comments may quote the domain's terms (听摸视嗅验); code and markup may not.
      .filter(([, text]) => han.test(text.replace(/\/\/.*$|\/\*[\s\S]*?\*\/|<!--[\s\S]*?-->/gm, '')))
      .map(([path]) => path);
    expect(offenders).toEqual([]);
  });
});
