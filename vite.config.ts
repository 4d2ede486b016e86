import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * The renderer build. The app runs under a strict CSP (`script-src 'self'; style-src 'self'`, no eval), so the
 * output must carry no inline scripts or styles and no data: assets: everything is a file served from 'self'.
 */
const repoRoot = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig(({ mode }) => ({
  root: fileURLToPath(new URL('./src-renderer', import.meta.url)),
  base: '/',
  plugins: [react()],
  // A build started from a process with NODE_ENV=test (vitest, the e2e setup) must still ship production React.
  define: { 'process.env.NODE_ENV': JSON.stringify(mode === 'production' ? 'production' : 'development') },
  build: {
    outDir: fileURLToPath(new URL('./dist/renderer', import.meta.url)),
    emptyOutDir: true,
    sourcemap: false,
    // Inlined assets would be data: URLs, which the CSP refuses for fonts and images.
    assetsInlineLimit: 0,
    cssCodeSplit: false,
    // The module-preload polyfill goes into the entry chunk, never as an inline script.
    modulePreload: { polyfill: false },
    target: 'es2022',
    chunkSizeWarningLimit: 1500,
    rollupOptions: {
      onwarn(warning, warn) {
        // zod ships comments Rollup cannot place; harmless, and noisy on every build.
        if (warning.code === 'INVALID_ANNOTATION') return;
        warn(warning);
      },
    },
  },
  server: { fs: { allow: [repoRoot] } },
}));
