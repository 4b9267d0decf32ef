import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';

// Tauri serves ui/dist at the root of its own origin, so the default base ('/') is right.
export default defineConfig({
  plugins: [svelte()],
  resolve: {
    alias: {
      // Root-relative: Vite resolves it against the project root (ui/).
      $lib: '/src/lib',
    },
  },
  // Tauri's CLI prints its own output; keep Vite from wiping it.
  clearScreen: false,
  server: {
    port: 5173,
    strictPort: true,
  },
  build: {
    outDir: 'dist',
    // The Linux shell is WebKitGTK; Safari 15 is the oldest engine it is expected to be.
    target: ['es2021', 'safari15'],
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
