import { defineConfig } from 'vite';

// In development the API is proxied like the gateway does in production.
export default defineConfig({
  server: { proxy: { '/api': { target: 'http://localhost:3000', rewrite: (p) => p.replace(/^\/api/, '') } } },
});
