import { defineConfig } from 'vite';

// No framework plugin: the JSX transform only needs to know where Preact's
// runtime lives. `vite dev` proxies /api to a running `cutroom serve`
// (CUTROOM_API, default http://127.0.0.1:8080).
export default defineConfig({
  oxc: {
    jsx: { runtime: 'automatic', importSource: 'preact' },
  },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1024,
  },
  server: {
    proxy: {
      '/api': { target: process.env.CUTROOM_API || 'http://127.0.0.1:8080', changeOrigin: false },
      '/healthz': { target: process.env.CUTROOM_API || 'http://127.0.0.1:8080' },
    },
  },
});
